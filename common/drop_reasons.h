// Names of the kernel's packet drop reasons (enum skb_drop_reason, the
// reason skb:kfree_skb carries), read from the running kernel's BTF (or
// --btf FILE) rather than compiled in: reasons are added, and renumbered,
// from one kernel to the next. tcpdrop names each drop by them; triage
// counts drops by them.
//
// Names lose the enum's prefix, as the kernel's own trace output shows
// them: SKB_DROP_REASON_NO_SOCKET is "NO_SOCKET", SKB_CONSUMED "CONSUMED".
// Reasons of a subsystem (the high 16 bits set: mac80211, openvswitch) come
// from that subsystem's own enum (`enum ovs_drop_reason`...), named in full.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace corescope {

class KernelTypes;

class DropReasons {
  public:
    // No names: every reason reads as its number (a decoder, which looks
    // nothing up on the running system).
    DropReasons() = default;
    // From these types; empty when they have no enum skb_drop_reason (a
    // kernel before 5.17).
    explicit DropReasons(const KernelTypes* btf);
    // The running kernel's (KernelFeatures: /sys/kernel/btf/vmlinux, or the
    // --btf FILE the command line named).
    static DropReasons of_running_kernel();

    bool empty() const { return names_.empty(); }
    size_t size() const { return names_.size(); }
    // "NO_SOCKET"; empty when the kernel names no such reason.
    std::string_view name(uint32_t reason) const;
    // name(), or the reason's number in decimal when it has none.
    std::string label(uint32_t reason) const;
    // The number of a reason by its name ("NO_SOCKET"); nullopt if unknown.
    std::optional<uint32_t> value(std::string_view name) const;
    // False for the marks of a packet that was not dropped (NOT_DROPPED_YET,
    // CONSUMED), which some kernels pass to skb:kfree_skb too.
    bool is_drop(uint32_t reason) const;

  private:
    std::map<uint32_t, std::string> names_;
};

} // namespace corescope
