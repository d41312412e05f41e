// Block devices as the kernel numbers and names them: the kernel's dev_t
// (not glibc's), --disk NAME to a whole disk's device number, device
// numbers back to names, and the names of request operations, for every
// tool that traces block requests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace corescope {

// The kernel's dev_t: 12 bits of major above 20 of minor (MINORBITS).
constexpr unsigned kernel_minor_bits = 20;
inline uint32_t kernel_dev(unsigned major, unsigned minor) {
    return (major << kernel_minor_bits) | minor;
}
inline unsigned kernel_dev_major(uint32_t dev) {
    return dev >> kernel_minor_bits;
}
inline unsigned kernel_dev_minor(uint32_t dev) {
    return dev & ((1U << kernel_minor_bits) - 1);
}

// --disk NAME (or /dev/NAME): the whole disk's kernel dev_t, from
// /sys/class/block. Throws UsageError naming the value for an unknown name
// or a partition (naming its disk: requests are per whole disk).
uint32_t find_disk(std::string_view text);

// Disk names from kernel device numbers, as the kernel names them (DEVNAME
// in /sys/dev/block/MAJ:MIN/uevent), cached; MAJ:MIN when the disk is gone.
class DiskNames {
  public:
    const std::string& name(uint32_t dev);

  private:
    std::map<uint32_t, std::string> names_;
};

// Request operation names from the running kernel's REQ_OP_* enum (req_op
// since 6.0, req_opf before), whose numbers for the rarer ops differ between
// versions: REQ_OP_WRITE_ZEROES becomes "WriteZeroes". Without the kernel's
// BTF, the numbers that have held since 4.10 (Read, Write, Flush, Discard,
// SecureErase).
class BlockOperationNames {
  public:
    // unnamed: the number a BPF program gives an operation the tracepoint
    // record did not name (block_rwbs_op's, bpf/block.bpf.h), "Other".
    explicit BlockOperationNames(uint32_t unnamed);
    // From these numbers and names instead of the kernel's (tests).
    BlockOperationNames(uint32_t unnamed, std::map<uint32_t, std::string> names);

    // "Read", "WriteZeroes"; "Other" for the unnamed one; "Op N" as "Op9"
    // for a number the kernel does not name.
    std::string name(uint32_t op) const;

  private:
    uint32_t unnamed_;
    std::map<uint32_t, std::string> names_;
};

// "WRITE_ZEROES" as "WriteZeroes": each word capitalized, the underscores gone.
std::string camel_case(std::string_view upper_words);
// "WriteZeroes" as "write_zeroes" (an operation as a Prometheus label value).
std::string snake_case(std::string_view camel);

} // namespace corescope
