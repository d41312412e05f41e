// The event stream from kernel to user space: a BPF ring buffer where the
// kernel has one (5.8+), a perf buffer otherwise, behind one callback type.
// Its kernel half is bpf/events.bpf.h. Events the kernel could not hand over
// (buffer full) are counted there, in the events_lost per-CPU map; the perf
// buffer's lost callback reports the same drops, so lost() uses it only
// without that map.
//
// CORESCOPE_RECORD_EVENTS=FILE appends every event as the kernel handed it
// over (a native-endian u32 size, then the bytes) to FILE, or to
// DIR/NAME-PID.events when it names a directory: the recorded inputs of the
// decoders' golden-output tests (tests/golden).
#pragma once

#include "errors.h"
#include "fd.h"
#include "kernel_features.h"

#include <bpf/libbpf.h>
#include <cstdint>
#include <functional>
#include <vector>

namespace corescope {

struct EventStreamConfig {
    bool use_ringbuf = true;
    // Shared by all CPUs. The kernel maps its pages twice into the reader
    // (so records that wrap stay contiguous), all resident: 4 MiB costs 8 MiB
    // of RSS, which stays below the peak libbpf reaches while it loads the
    // kernel BTF. At 450,000 opens/s it holds ~80 ms of events.
    uint32_t ring_bytes = 4u << 20;
    // Wake the consumer only when this much is pending; below it the
    // consumer's periodic poll collects events. Saves a wake-up per event.
    uint32_t wakeup_bytes = 256u << 10;
    uint32_t perf_pages_per_cpu = 64;
};

bool perf_buffer_forced();

// Chooses the transport and sizes the maps. Call between open and load. The
// skeleton must use bpf/events.bpf.h (maps events and events_lost, rodata
// events_use_ringbuf and events_wakeup_bytes).
template <class Skeleton>
EventStreamConfig prepare_event_stream(Skeleton* skel, EventStreamConfig config = {}) {
    // CORESCOPE_PERF_BUFFER=1 takes the pre-5.8 path on any kernel, so the
    // fallback is tested where the ring buffer exists.
    config.use_ringbuf = KernelFeatures::instance().ringbuf() && !perf_buffer_forced();
    struct bpf_map* events = skel->maps.events;
    int err;
    if (config.use_ringbuf) {
        err = bpf_map__set_max_entries(events, config.ring_bytes);
    } else {
        err = bpf_map__set_type(events, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
        if (!err) err = bpf_map__set_key_size(events, sizeof(int));
        if (!err) err = bpf_map__set_value_size(events, sizeof(int));
        if (!err) err = bpf_map__set_max_entries(events, 0); // libbpf: one per CPU
    }
    if (err) throw RuntimeError(errno_message("cannot size the event buffer", err));
    skel->rodata->events_use_ringbuf = config.use_ringbuf;
    skel->rodata->events_wakeup_bytes = config.use_ringbuf ? config.wakeup_bytes : 0;
    return config;
}

class EventStream {
  public:
    // Returns false to stop consuming (the output closed): the event it was
    // given was handled; the rest stay in the buffer.
    using Handler = std::function<bool(const void* data, size_t size)>;

    EventStream(const EventStreamConfig& config, struct bpf_map* events,
                struct bpf_map* events_lost, Handler handler);
    EventStream(const EventStream&) = delete;
    EventStream& operator=(const EventStream&) = delete;
    ~EventStream();

    // Waits up to timeout_ms for events and hands every pending one to the
    // handler, until it says stop. Returns the number of events handled.
    int poll(int timeout_ms);
    // Hands over everything still pending, without waiting.
    int drain();
    uint64_t lost() const;
    // Called every few events in the middle of a poll or drain: when the
    // reader is slower than the kernel, one poll can hand over events for
    // seconds (the ring buffer's goes on while the kernel keeps adding), and
    // what must happen regularly (the lost-event report) happens here.
    void set_tick(std::function<void()> tick) { tick_ = std::move(tick); }

  private:
    static int on_ring_event(void* self, void* data, size_t size);
    static void on_perf_event(void* self, int cpu, void* data, __u32 size);
    static void on_perf_lost(void* self, int cpu, __u64 count);

    void record(const void* data, size_t size);

    Handler handler_;
    FileDescriptor record_fd_; // CORESCOPE_RECORD_EVENTS: every event's bytes, for golden tests
    struct bpf_map* events_lost_;
    struct ring_buffer* ring_ = nullptr;
    struct perf_buffer* perf_ = nullptr;
    uint64_t perf_lost_ = 0;
    std::vector<uint64_t> aligned_; // perf records, copied to 8-byte alignment
    int handled_ = 0;
    std::function<void()> tick_;
    unsigned since_tick_ = 0;
    void handled_one();
};

} // namespace corescope
