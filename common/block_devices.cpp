#include "block_devices.h"
#include "text_file.h"

#include "errors.h"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace corescope {

uint32_t find_disk(std::string_view text) {
    std::string name(text);
    if (name.rfind("/dev/", 0) == 0) name.erase(0, 5);
    auto invalid = [&](const std::string& why) {
        return UsageError("invalid disk '" + std::string(text) + "': " + why);
    };
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
        throw invalid("not a block device name (see /sys/block)");
    std::string sys = "/sys/class/block/" + name;
    unsigned major = 0, minor = 0;
    if (std::sscanf(read_first_line(sys + "/dev").value_or("").c_str(), "%u:%u", &major, &minor) !=
        2)
        throw invalid("no such block device (see /sys/block)");
    if (access((sys + "/partition").c_str(), F_OK) == 0) {
        // Requests are per whole disk; name the one to ask for.
        char real[PATH_MAX];
        std::string parent = realpath(sys.c_str(), real) ? real : "";
        parent = parent.substr(0, parent.rfind('/'));
        throw invalid("a partition; I/O is counted per disk, try --disk " +
                      parent.substr(parent.rfind('/') + 1));
    }
    return kernel_dev(major, minor);
}

const std::string& DiskNames::name(uint32_t dev) {
    auto it = names_.find(dev);
    if (it != names_.end()) return it->second;
    std::string number =
        std::to_string(kernel_dev_major(dev)) + ":" + std::to_string(kernel_dev_minor(dev));
    std::string found = number;
    std::string uevent = read_text_file("/sys/dev/block/" + number + "/uevent").value_or("");
    for (std::string_view line : split_lines(uevent))
        if (line.substr(0, 8) == "DEVNAME=") found = line.substr(8);
    return names_.emplace(dev, found).first->second;
}

} // namespace corescope
