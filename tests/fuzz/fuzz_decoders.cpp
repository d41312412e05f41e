// Every tool's decoder (common/decoder.h) with arbitrary bytes presented as
// an event or a map value. Byte 0 picks the tool; byte 1 the display: bit 0
// JSON, bit 1 -T, bit 2 -U, bit 3 a -n filter, bits 4-7 the tool's variant
// bits; the rest is the event. Text output must be terminal-safe and every
// JSON line must parse as an object, whatever the bytes.
#include "checks.h"
#include "tool_entries.h"

#include <cstring>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

// The decoder's output: what is still buffered plus what Output flushed on
// its own past its threshold (into this memfd).
int flushed_fd = -1;

std::string take_flushed() {
    std::string text;
    off_t size = lseek(flushed_fd, 0, SEEK_END);
    if (size > 0) {
        text.resize(static_cast<size_t>(size));
        if (pread(flushed_fd, text.data(), text.size(), 0) != size) fuzz::fail("pread", "");
    }
    if (ftruncate(flushed_fd, 0) != 0 || lseek(flushed_fd, 0, SEEK_SET) != 0)
        fuzz::fail("ftruncate", "");
    return text;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    flushed_fd = memfd_create("fuzz-decoder-output", 0);
    return flushed_fd < 0 ? 1 : 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto& decoders = tool_entries::tool_decoders();
    if (size < 2) return 0;
    const tool_entries::ToolDecoder& tool = decoders[data[0] % decoders.size()];
    uint8_t display = data[1];
    corescope::CommonOptions options;
    options.format = display & 1 ? corescope::OutputFormat::json : corescope::OutputFormat::text;
    options.time = (display & 2) != 0;
    options.print_uid = (display & 4) != 0;
    if (display & 8) options.name = "a";
    uint32_t variant = display >> 4;
    // The event stream hands over 8-byte aligned records.
    std::vector<uint64_t> event((size - 2 + 7) / 8);
    if (size > 2) std::memcpy(event.data(), data + 2, size - 2);
    std::string printed;
    {
        corescope::Output out(flushed_fd);
        corescope::RecordedEvent recorded{event.data(), size - 2};
        tool.decode(options, variant, out, {&recorded, 1});
        printed = take_flushed() + out.buffer();
        out.buffer().clear();
    }
    // A top-like tool (tcptop) clears the screen before each interval on
    // a terminal, its own sequence at a line's start; the property is about
    // the traced system's bytes, which reach the output escaped.
    const std::string clear = "\033[H\033[2J";
    for (size_t at = printed.find(clear); at != std::string::npos; at = printed.find(clear, at))
        if (at == 0 || printed[at - 1] == '\n')
            printed.erase(at, clear.size());
        else
            at += clear.size();
    // A tab is layout in a tool's text (memleak indents as the classic tool
    // does); the data it prints is escaped whole, tabs too (fuzz_output).
    const char* wrong = fuzz::check_terminal_safe(printed, true);
    if (!wrong && options.format == corescope::OutputFormat::json)
        wrong = fuzz::check_json_lines(printed);
    if (wrong) fuzz::fail((std::string(tool.name) + ": " + wrong).c_str(), printed);
    return 0;
}
