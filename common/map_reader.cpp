#include "map_reader.h"

#include "errors.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <string>
#include <unistd.h>

namespace corescope {

void set_map_entries(bpf_map* map, uint32_t entries) {
    if (int err = bpf_map__set_max_entries(map, entries))
        throw RuntimeError(
            errno_message(std::string("cannot size the BPF map ") + bpf_map__name(map), err));
}

int possible_cpus() {
    static int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) throw RuntimeError(errno_message("cannot count the possible CPUs", cpus));
    return cpus;
}

MapHandle::MapHandle(const bpf_map* map)
    : fd(bpf_map__fd(map)), type(bpf_map__type(map)), max_entries(bpf_map__max_entries(map)) {}

MapHandle::MapHandle(int map_fd) : fd(map_fd), type(BPF_MAP_TYPE_UNSPEC), max_entries(0) {
    bpf_map_info info{};
    uint32_t len = sizeof info;
    int err = bpf_obj_get_info_by_fd(map_fd, &info, &len);
    if (err) throw RuntimeError(errno_message("cannot read a BPF map's type", err));
    type = static_cast<bpf_map_type>(info.type);
    max_entries = info.max_entries;
}

namespace detail {

namespace {

bool is_percpu(const MapHandle& map) {
    switch (map.type) {
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
        return true;
    default:
        return false;
    }
}

// Batch operations are not there before 5.6 (EINVAL), and not for every
// map type (ENOTSUPP, which the kernel reports as 524).
bool batch_unsupported(int err) {
    return err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP || err == -524;
}

// CORESCOPE_NO_MAP_BATCH=1 reads key by key, as on kernels before 5.6, so
// that path is tested where batches work.
bool batches_allowed() {
    const char* value = std::getenv("CORESCOPE_NO_MAP_BATCH");
    return !(value && *value && std::string(value) != "0");
}

// Returns false when the kernel cannot do it in batches.
bool read_batched(int fd, RawEntries& raw, size_t key_size, bool take, size_t limit) {
    // The batch token is the kernel's cursor (a bucket or an index): 8
    // bytes hold it for every map type.
    uint64_t in_batch = 0, out_batch = 0;
    bool first = true;
    for (;;) {
        __u32 count = static_cast<__u32>(limit - raw.count);
        LIBBPF_OPTS(bpf_map_batch_opts, opts);
        int err = take ? bpf_map_lookup_and_delete_batch(
                             fd, first ? nullptr : &in_batch, &out_batch,
                             raw.keys.data() + raw.count * key_size,
                             raw.values.data() + raw.count * raw.value_bytes, &count, &opts)
                       : bpf_map_lookup_batch(fd, first ? nullptr : &in_batch, &out_batch,
                                              raw.keys.data() + raw.count * key_size,
                                              raw.values.data() + raw.count * raw.value_bytes,
                                              &count, &opts);
        // A hash map hands over whole buckets: when the next one holds more
        // entries than the room left under the limit, stop short of it (or,
        // with nothing read yet, read key by key).
        if (err == -ENOSPC) return raw.count > 0;
        if (err < 0 && err != -ENOENT) {
            if (first && batch_unsupported(err)) return false;
            throw RuntimeError(errno_message("cannot read a BPF map", err));
        }
        raw.count += count;
        if (err == -ENOENT || raw.count >= limit) return true;
        in_batch = out_batch;
        first = false;
    }
}

void read_key_by_key(int fd, RawEntries& raw, size_t key_size, bool take, size_t limit) {
    std::vector<uint8_t> key(key_size), next(key_size);
    const void* prev = nullptr;
    while (raw.count < limit && bpf_map_get_next_key(fd, prev, next.data()) == 0) {
        uint8_t* k = raw.keys.data() + raw.count * key_size;
        uint8_t* v = raw.values.data() + raw.count * raw.value_bytes;
        std::memcpy(k, next.data(), key_size);
        if (bpf_map_lookup_elem(fd, k, v) == 0) {
            raw.count++;
            if (take) bpf_map_delete_elem(fd, k);
        }
        // Deleting the key we stand on restarts the walk at the first key,
        // which is what we want: what is left.
        if (take) {
            prev = nullptr;
        } else {
            key = next;
            prev = key.data();
        }
    }
}

} // namespace

RawEntries read_entries(const MapHandle& map, size_t key_size, size_t value_size, bool take,
                        size_t limit) {
    RawEntries raw;
    size_t capacity = map.max_entries;
    if (limit == 0 || limit > capacity) limit = capacity;
    raw.value_bytes = is_percpu(map)
                          ? (value_size + 7) / 8 * 8 * static_cast<size_t>(possible_cpus())
                          : value_size;
    raw.keys.resize(limit * key_size);
    raw.values.resize(limit * raw.value_bytes);
    bool array = map.type == BPF_MAP_TYPE_ARRAY || map.type == BPF_MAP_TYPE_PERCPU_ARRAY;
    // Arrays cannot delete: taking from one is reading it.
    if (array) take = false;
    if (batches_allowed() && read_batched(map.fd, raw, key_size, take, limit)) return raw;
    raw.count = 0;
    read_key_by_key(map.fd, raw, key_size, take, limit);
    return raw;
}

void record_entry(const void* key, size_t key_size, const void* value, size_t value_size) {
    static int fd = [] {
        const char* where = std::getenv("CORESCOPE_RECORD_EVENTS");
        if (!where || !*where) return -1;
        std::string path = where;
        struct stat st {};
        if (stat(where, &st) == 0 && S_ISDIR(st.st_mode))
            path += "/" + std::string(program_invocation_short_name) + "-" +
                    std::to_string(getpid()) + ".entries";
        return open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }();
    if (fd < 0) return;
    uint32_t size = static_cast<uint32_t>(key_size + value_size);
    std::string bytes(reinterpret_cast<const char*>(&size), sizeof size);
    bytes.append(static_cast<const char*>(key), key_size);
    bytes.append(static_cast<const char*>(value), value_size);
    if (write(fd, bytes.data(), bytes.size()) < 0) return; // a full disk stops the recording only
}

} // namespace detail

} // namespace corescope
