// Block devices as the kernel numbers and names them: the kernel's dev_t
// (not glibc's), --disk NAME to a whole disk's device number, and device
// numbers back to names, for every tool that traces block requests.
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

} // namespace corescope
