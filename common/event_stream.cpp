#include "event_stream.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string>
#include <vector>

namespace corescope {

bool perf_buffer_forced() {
    const char* value = std::getenv("CORESCOPE_PERF_BUFFER");
    return value && *value && std::string(value) != "0";
}

EventStream::EventStream(const EventStreamConfig& config, struct bpf_map* events,
                         struct bpf_map* events_lost, Handler handler)
    : handler_(std::move(handler)), events_lost_(events_lost) {
    if (const char* where = std::getenv("CORESCOPE_RECORD_EVENTS"); where && *where) {
        // A directory gets one file per process: NAME-PID.events.
        std::string path = where;
        struct stat st {};
        if (stat(where, &st) == 0 && S_ISDIR(st.st_mode))
            path += "/" + std::string(program_invocation_short_name) + "-" +
                    std::to_string(getpid()) + ".events";
        record_fd_.reset(open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
        if (!record_fd_.valid())
            throw RuntimeError(errno_message("cannot record events to " + path, errno));
    }
    errno = 0;
    if (config.use_ringbuf) {
        ring_ = ring_buffer__new(bpf_map__fd(events), on_ring_event, this, nullptr);
        if (ring_ == nullptr)
            throw RuntimeError(
                errno_message("cannot open the ring buffer", errno ? errno : EINVAL));
    } else {
        perf_ = perf_buffer__new(bpf_map__fd(events), config.perf_pages_per_cpu, on_perf_event,
                                 on_perf_lost, this, nullptr);
        if (perf_ == nullptr)
            throw RuntimeError(
                errno_message("cannot open the perf buffer", errno ? errno : EINVAL));
    }
}

EventStream::~EventStream() {
    ring_buffer__free(ring_);
    perf_buffer__free(perf_);
}

void EventStream::record(const void* data, size_t size) {
    if (!record_fd_.valid()) return;
    uint32_t size32 = static_cast<uint32_t>(size);
    std::string bytes(reinterpret_cast<const char*>(&size32), sizeof size32);
    bytes.append(static_cast<const char*>(data), size);
    if (write(record_fd_.get(), bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
        record_fd_.reset(); // a full disk stops the recording, not the trace
}

void EventStream::handled_one() {
    handled_++;
    // Every 16 events: often enough for a report once a second from the
    // slowest reader worth serving, rare enough to cost nothing.
    if (tick_ && ++since_tick_ % 16 == 0) tick_();
}

int EventStream::on_ring_event(void* self, void* data, size_t size) {
    auto* stream = static_cast<EventStream*>(self);
    stream->record(data, size);
    bool keep = stream->handler_(data, size);
    stream->handled_one();
    // A negative return stops libbpf's consumption cleanly: nothing is
    // thrown through its C frames.
    return keep ? 0 : -ECANCELED;
}

void EventStream::on_perf_event(void* self, int, void* data, __u32 size) {
    auto* stream = static_cast<EventStream*>(self);
    // A perf record's sample sits 4 bytes past an 8-byte boundary (after its
    // u32 size), and events hold 64-bit fields: hand over an aligned copy
    // (the sanitizer build found the misaligned reads).
    if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
        stream->aligned_.resize((size + sizeof(uint64_t) - 1) / sizeof(uint64_t));
        std::memcpy(stream->aligned_.data(), data, size);
        data = stream->aligned_.data();
    }
    stream->record(data, size);
    // The perf buffer cannot be stopped from here; the loop sees the
    // closed output after this batch.
    stream->handler_(data, size);
    stream->handled_one();
}

void EventStream::on_perf_lost(void* self, int, __u64 count) {
    static_cast<EventStream*>(self)->perf_lost_ += count;
}

int EventStream::poll(int timeout_ms) {
    handled_ = 0;
    int err = ring_ ? ring_buffer__poll(ring_, timeout_ms) : perf_buffer__poll(perf_, timeout_ms);
    if (err == -ECANCELED) return handled_; // the handler stopped it
    if (err < 0 && err != -EINTR) throw RuntimeError(errno_message("cannot read events", err));
    // Events submitted without a wake-up are only seen by consuming (a
    // handler that stops it there just ends the batch).
    if (ring_) ring_buffer__consume(ring_);
    return handled_;
}

int EventStream::drain() {
    handled_ = 0;
    if (ring_)
        ring_buffer__consume(ring_);
    else
        perf_buffer__consume(perf_);
    return handled_;
}

uint64_t EventStream::lost() const {
    // Every record the kernel drops fails the program's output call, which
    // counts it in events_lost. The perf buffer reports the same drops again
    // (PERF_RECORD_LOST, once a later record fits): counted only when there
    // is no events_lost map, or each loss would count twice.
    if (events_lost_ == nullptr) return perf_lost_;
    uint64_t total = 0;
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) return total;
    std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
    uint32_t zero = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(events_lost_), &zero, per_cpu.data()) == 0)
        for (uint64_t n : per_cpu)
            total += n;
    return total;
}

} // namespace corescope
