// A tool's decoder on its own, for the golden-output tests and the fuzzer:
// bytes presented as what the kernel hands over (events from the event
// stream, or a summary tool's map entries: key, then value), printed as the
// options ask (text or JSON, -T, -U, ...): the header, then every event, or
// one summary of the entries. Fuzzing feeds it arbitrary bytes; whatever
// they are, text must stay free of control bytes and every JSON line must
// parse. Decoders look nothing up on the running system (no /proc, no
// /sys), so what they print depends on the bytes alone.
//
// Each tool defines corescope::tools::decode_NAME with this signature in its
// NAME.cpp and lists NAME in decoder_tools (meson.build); the golden tests
// and the fuzzer pick it up from there.
#pragma once

#include "cli.h"
#include "map_reader.h"
#include "output.h"
#include "record.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace corescope {

// One event (or map entry) as handed over: 8-byte aligned.
struct RecordedEvent {
    const void* data;
    size_t size;
};

// variant: bits the tool maps to its own display switches (bit 0 first, for
// example opensnoop's -e); a tool ignores the bits it has no use for.
using Decoder = void (*)(const CommonOptions& options, uint32_t variant, Output& out,
                         std::span<const RecordedEvent> events);

// A summary tool's recorded map entries (key, then value: the format
// map_reader.h records), those too short skipped.
template <class Key, class Value>
std::vector<MapEntry<Key, Value>> recorded_entries(std::span<const RecordedEvent> events) {
    std::vector<MapEntry<Key, Value>> entries;
    for (const RecordedEvent& e : events) {
        if (e.size < sizeof(Key) + sizeof(Value)) continue;
        MapEntry<Key, Value> entry;
        std::memcpy(&entry.key, e.data, sizeof(Key));
        std::memcpy(&entry.value, static_cast<const char*>(e.data) + sizeof(Key), sizeof(Value));
        entries.push_back(entry);
    }
    return entries;
}

// An event tool's decoder: its printer's header, then each event through it
// (a printer has layout() and print(RecordWriter&, data, size)), then its
// finish(RecordWriter&) where it has one (common/run.h).
template <class Printer>
void decode_events(Printer printer, const CommonOptions& options, Output& out,
                   std::span<const RecordedEvent> events) {
    RecordWriter records(options, out, printer.layout());
    records.header();
    for (const RecordedEvent& e : events)
        printer.print(records, e.data, e.size);
    if constexpr (requires { printer.finish(records); }) printer.finish(records);
}

// A rate tool's decoder (pidpersec, vfsstat): the recorded counters at the
// end of each one-second interval (key, then the counters summed over the
// CPUs), each printed against the one before.
template <class Counters, class Printer>
void decode_intervals(Printer printer, std::span<const RecordedEvent> events) {
    for (const auto& e : recorded_entries<uint32_t, Counters>(events))
        printer.print(e.value, 1.0);
}

} // namespace corescope
