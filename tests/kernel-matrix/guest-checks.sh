#!/bin/sh
# Runs inside the 6.1 guest (busybox sh), from /corescope: the integration
# checks of every tool, through the statically linked multi-call corescope
# (each tool name is a link to it). Prints PASS/FAIL lines and a closing
# "N passed, N failed" line; exits 1 if anything failed.
passed=0
failed=0
check() {
	name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		failed=$((failed + 1))
	fi
}

echo "kernel: $(uname -r)"
corescope doctor
for tool in $(corescope list | cut -d' ' -f1); do
	case $tool in
	# The guest has no C library at the usual places; the host's is beside us.
	gethostlatency) check "$tool --dry-run loads and verifies" "$tool" --libc /corescope/libc.so.6 --dry-run ;;
	*) check "$tool --dry-run loads and verifies" "$tool" --dry-run ;;
	esac
done

# execsnoop: a process that exits at once, with its argument.
execsnoop >/tmp/exec.out 2>/tmp/exec.err &
pid=$!
sleep 3
/bin/busybox true km-exec-token
sleep 1
kill -INT $pid
wait $pid
check "execsnoop exits 0 on SIGINT" [ $? -eq 0 ]
check "execsnoop reports the exec with its argument" grep -q "km-exec-token" /tmp/exec.out

# opensnoop: a failed open of a unique path, with ERR 2.
opensnoop -x >/tmp/open.out 2>/tmp/open.err &
pid=$!
sleep 3
cat /nonexistent/km-open-token 2>/dev/null
sleep 1
kill -INT $pid
wait $pid
check "opensnoop exits 0 on SIGINT" [ $? -eq 0 ]
check "opensnoop reports the failed open with ERR 2" grep -q " 2 /nonexistent/km-open-token" /tmp/open.out
opensnoop -o json -x -d 4 >/tmp/open.json 2>&1 &
pid=$!
sleep 3
cat /nonexistent/km-json-token 2>/dev/null
wait $pid
check "opensnoop JSON carries the path and errno" grep -q '"errno":2.*km-json-token' /tmp/open.json

# biolatency: 200 O_DIRECT writes to the scratch disk.
if [ -b /dev/vda ]; then
	biolatency -o json >/tmp/bio.json 2>/tmp/bio.err &
	pid=$!
	sleep 3
	dd if=/dev/zero of=/dev/vda bs=4096 count=200 oflag=direct 2>/dev/null
	sleep 1
	kill -INT $pid
	wait $pid
	total=$(grep -o '"total":[0-9]*' /tmp/bio.json | head -1 | cut -d: -f2)
	check "biolatency counts at least 200 completions (got ${total:-none})" [ "${total:-0}" -ge 200 ]
fi

# biosnoop: 20 O_DIRECT reads of 64 KiB from the scratch disk, by dd.
if [ -b /dev/vda ]; then
	biosnoop -o json >/tmp/biosnoop.json 2>/tmp/biosnoop.err &
	pid=$!
	sleep 3
	dd if=/dev/vda of=/dev/null bs=65536 count=20 iflag=direct 2>/dev/null
	sleep 1
	kill -INT $pid
	wait $pid
	check "biosnoop exits 0 on SIGINT" [ $? -eq 0 ]
	reads=$(grep '"comm":"dd"' /tmp/biosnoop.json | grep '"rwbs":"R' | grep -c '"bytes":65536')
	check "biosnoop shows dd's 20 reads of 64 KiB (got ${reads:-none})" [ "${reads:-0}" -ge 20 ]
fi

# Nothing stays attached once the tools are gone.
check "no BPF link left" sh -c '! ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q bpf_link'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
