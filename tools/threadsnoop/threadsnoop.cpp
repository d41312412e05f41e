// threadsnoop: trace every new thread, with its creator and, where the
// creator called the C library's pthread_create, the thread's start routine.
#include "decoder.h"
#include "event_fields.h"
#include "host_lookups.h"
#include "run.h"
#include "symbolizer.h"

#include <linux/types.h>
#include "threadsnoop.skel.h"
#include "threadsnoop/threadsnoop.h"

#include <cstdio>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>
#include <cstring>
#include <memory>
#include <string>
#include <sys/stat.h>

namespace corescope::tools {

namespace {

std::string hex(uint64_t address) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(address));
    return text;
}

struct Printer {
    // Null when decoding recorded events: the processes are not this host's.
    std::shared_ptr<Symbolizer> symbolizer;

    RecordLayout layout() const {
        return {task_all,
                {pid_column(), tid_column(), comm_column(), column("new_tid", "NEWTID", 7),
                 json_field("start_address"), column("start_routine", "FUNC", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* event = event_in<threadsnoop_event>(data, size);
        if (!event) return;
        threadsnoop_event e;
        std::memcpy(&e, event, sizeof e);
        Record r = records.begin(task_of(e));
        if (!r) return;
        r.number(e.new_tid);
        if (e.start_routine == 0) {
            r.null().null();
        } else {
            r.number(e.start_routine).lazy([&] {
                if (!symbolizer) return hex(e.start_routine);
                Symbol symbol = symbolizer->user(e.pid, e.start_routine);
                return symbol.known() ? symbol_label(symbol, true) : hex(e.start_routine);
            });
        }
        r.end();
    }
};

// Where pthread_create is in the library at path, as "0xFILE_OFFSET": glibc
// 2.34 and later define it twice (pthread_create@GLIBC_2.2.5 and
// @@GLIBC_2.34, one address), which libbpf 1.1 refuses to choose between.
// The plain name where the dynamic symbols have no such function (libbpf
// then says why it fails).
std::string pthread_create_in(const std::string& path) {
    std::string found = "pthread_create";
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return found;
    elf_version(EV_CURRENT);
    Elf* elf = elf_begin(fd, ELF_C_READ, nullptr);
    uint64_t address = 0;
    for (Elf_Scn* scn = nullptr; elf && !address && (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_DYNSYM) continue;
        Elf_Data* data = elf_getdata(scn, nullptr);
        for (size_t i = 0; data && shdr.sh_entsize && i < shdr.sh_size / shdr.sh_entsize; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, static_cast<int>(i), &sym)) continue;
            const char* name = elf_strptr(elf, shdr.sh_link, sym.st_name);
            if (name && std::strcmp(name, "pthread_create") == 0 && sym.st_value) {
                address = sym.st_value;
                break;
            }
        }
    }
    size_t headers = 0;
    if (address && elf_getphdrnum(elf, &headers) == 0) {
        for (size_t i = 0; i < headers; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(elf, static_cast<int>(i), &ph) && ph.p_type == PT_LOAD &&
                address >= ph.p_vaddr && address < ph.p_vaddr + ph.p_filesz) {
                found = hex(address - ph.p_vaddr + ph.p_offset);
                break;
            }
        }
    }
    if (elf) elf_end(elf);
    close(fd);
    return found;
}

std::vector<AttachStep> attach_steps(const std::vector<std::string>& libcs) {
    AttachWay uprobes;
    for (const std::string& libc : libcs) {
        std::string target = libc + ":" + pthread_create_in(libc);
        uprobes.points.push_back({"pthread_create_entry", AttachKind::uprobe, target});
        uprobes.points.push_back({"pthread_create_return", AttachKind::uretprobe, target});
    }
    return {tracepoint_tiers("new threads", {{"newtask", "task:task_newtask"}}),
            {"start routines (pthread_create)", {uprobes}}};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_threadsnoop(const CommonOptions& options, uint32_t, Output& out,
                        std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int threadsnoop(int argc, char** argv) {
    CommonOptions options;
    std::string libc_option;
    CommandLine cli("threadsnoop", "Trace new threads: creator, new thread ID, start routine.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::print_uid, Flag::duration});
    cli.add_option(0, "libc", "PATH",
                   "find pthread_create in this C library (default: the one processes use)",
                   [&](std::string_view v) {
                       std::string path(v);
                       struct stat st {};
                       if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
                           throw UsageError("invalid C library '" + path + "': no such file");
                       libc_option = path;
                   });
    cli.set_examples("  threadsnoop               every new thread\n"
                     "  threadsnoop -p 181 -T     threads process 181 makes, with times\n"
                     "  threadsnoop -o json -d 60 a minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<threadsnoop_bpf>(
        {.name = "threadsnoop",
         .options = options,
         .attach_steps = [&] { return attach_steps(libc_paths(libc_option, options.pids)); },
         .announcement = "Tracing new threads... Hit Ctrl-C to end."},
        Printer{std::make_shared<Symbolizer>()});
}

} // namespace corescope::tools
