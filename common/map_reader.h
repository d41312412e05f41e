// Reading every entry of a BPF map (hash, LRU hash, array, and their
// per-CPU kinds) from user space: with batch lookups where the kernel has
// them (5.6+), one key at a time otherwise. take_map() also deletes what it
// read, so that the next interval starts from zero: lookup-and-delete in
// batches where the kernel has that, key by key otherwise.
//
// CORESCOPE_RECORD_EVENTS (common/event_stream.h) records the entries read,
// each as key then value, the input format of the golden-output tests.
//
// Also sizes maps before the load (set_map_entries).
#pragma once

#include <bpf/libbpf.h>
#include <cstdint>
#include <cstring>
#include <vector>

namespace corescope {

// Sets how many entries a map holds, between open and load; a map this
// run's code never touches gets 1. RuntimeError naming the map when libbpf
// refuses.
void set_map_entries(bpf_map* map, uint32_t entries);

// A map to read: from a skeleton's map, or from a file descriptor (the
// kernel tells its type and size).
struct MapHandle {
    MapHandle(const bpf_map* map);
    explicit MapHandle(int fd);
    int fd;
    bpf_map_type type;
    uint32_t max_entries;
};

template <class Key, class Value>
struct MapEntry {
    Key key;
    Value value;
};

namespace detail {

// The raw entries: count keys of key_size bytes, and values of value_size
// bytes (times the possible CPUs, for a per-CPU map).
struct RawEntries {
    std::vector<uint8_t> keys;
    std::vector<uint8_t> values;
    size_t count = 0;
    size_t value_bytes = 0; // per entry, all CPUs
};

RawEntries read_entries(const MapHandle& map, size_t key_size, size_t value_size, bool take,
                        size_t limit);

// Under CORESCOPE_RECORD_EVENTS: appends key then value as one record.
void record_entry(const void* key, size_t key_size, const void* value, size_t value_size);

template <class Key, class Value>
void record(const std::vector<MapEntry<Key, Value>>& entries) {
    for (const auto& e : entries)
        record_entry(&e.key, sizeof e.key, &e.value, sizeof e.value);
}

} // namespace detail

// The number of CPUs a per-CPU map has a value for.
int possible_cpus();

// Every entry, limit at most (0: as many as the map holds).
template <class Key, class Value>
std::vector<MapEntry<Key, Value>> read_map(const MapHandle& map, size_t limit = 0) {
    detail::RawEntries raw = detail::read_entries(map, sizeof(Key), sizeof(Value), false, limit);
    std::vector<MapEntry<Key, Value>> out(raw.count);
    for (size_t i = 0; i < raw.count; i++) {
        std::memcpy(&out[i].key, raw.keys.data() + i * sizeof(Key), sizeof(Key));
        std::memcpy(&out[i].value, raw.values.data() + i * raw.value_bytes, sizeof(Value));
    }
    detail::record(out);
    return out;
}

// Every entry, deleted as it is read.
template <class Key, class Value>
std::vector<MapEntry<Key, Value>> take_map(const MapHandle& map, size_t limit = 0) {
    detail::RawEntries raw = detail::read_entries(map, sizeof(Key), sizeof(Value), true, limit);
    std::vector<MapEntry<Key, Value>> out(raw.count);
    for (size_t i = 0; i < raw.count; i++) {
        std::memcpy(&out[i].key, raw.keys.data() + i * sizeof(Key), sizeof(Key));
        std::memcpy(&out[i].value, raw.values.data() + i * raw.value_bytes, sizeof(Value));
    }
    detail::record(out);
    return out;
}

// Every entry of a per-CPU map, its values summed over the CPUs with add.
template <class Key, class Value, class Add>
std::vector<MapEntry<Key, Value>> read_percpu_map(const MapHandle& map, Add add, size_t limit = 0) {
    detail::RawEntries raw = detail::read_entries(map, sizeof(Key), sizeof(Value), false, limit);
    std::vector<MapEntry<Key, Value>> out(raw.count);
    // The kernel gives each CPU's value 8-byte aligned.
    size_t stride = (sizeof(Value) + 7) / 8 * 8;
    size_t cpus = raw.value_bytes / stride;
    for (size_t i = 0; i < raw.count; i++) {
        std::memcpy(&out[i].key, raw.keys.data() + i * sizeof(Key), sizeof(Key));
        out[i].value = Value{};
        for (size_t cpu = 0; cpu < cpus; cpu++) {
            Value one;
            std::memcpy(&one, raw.values.data() + i * raw.value_bytes + cpu * stride, sizeof one);
            add(out[i].value, one);
        }
    }
    detail::record(out);
    return out;
}

} // namespace corescope
