"""What the packaging checks share: a counter of named checks that prints
each failure with its detail and a closing "N passed, N failed" line, and
whether this process may use BPF."""
import os
import subprocess


class Checks:
    def __init__(self, suite):
        self.suite = suite
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok: {what}")
        else:
            self.failed += 1
            print(f"FAILED: {what}" + (f": {detail}" if detail else ""))
        return bool(ok)

    def finish(self):
        print(f"{self.suite}: {self.passed} passed, {self.failed} failed")
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def bpf_permitted():
    """Root on a kernel with BTF: the tools' --dry-run can load programs."""
    return os.geteuid() == 0 and os.path.exists("/sys/kernel/btf/vmlinux")


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, **kwargs)
