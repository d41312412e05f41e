#include "block_devices.h"
#include "text_file.h"

#include "errors.h"
#include "kernel_features.h"
#include "kernel_types.h"

#include <bpf/btf.h>
#include <cctype>
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

BlockOperationNames::BlockOperationNames(uint32_t unnamed) : unnamed_(unnamed) {
    const KernelTypes* btf = KernelFeatures::instance().kernel_btf();
    int id = -1;
    for (const char* type : {"req_op", "req_opf"})
        if (btf && id < 0) id = btf->find(type, BTF_KIND_ENUM);
    if (id >= 0) {
        const struct btf_type* t = btf->type(id);
        const struct btf_enum* e = btf_enum(t);
        for (int i = 0; i < btf_vlen(t); i++, e++) {
            std::string_view full = btf->name(e->name_off);
            if (full.rfind("REQ_OP_", 0) == 0 && full != "REQ_OP_LAST")
                names_.emplace(static_cast<uint32_t>(e->val), camel_case(full.substr(7)));
        }
    }
    KernelFeatures::instance().release_btf();
    if (names_.empty()) // numbers that have held since 4.10
        names_ = {{0, "Read"}, {1, "Write"}, {2, "Flush"}, {3, "Discard"}, {5, "SecureErase"}};
}

BlockOperationNames::BlockOperationNames(uint32_t unnamed, std::map<uint32_t, std::string> names)
    : unnamed_(unnamed), names_(std::move(names)) {}

std::string BlockOperationNames::name(uint32_t op) const {
    if (op == unnamed_) return "Other";
    auto it = names_.find(op);
    return it != names_.end() ? it->second : "Op" + std::to_string(op);
}

std::string camel_case(std::string_view words) {
    std::string out;
    bool upper = true;
    for (char c : words) {
        if (c == '_') {
            upper = true;
            continue;
        }
        out += upper ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        upper = false;
    }
    return out;
}

std::string snake_case(std::string_view camel) {
    std::string out;
    for (size_t i = 0; i < camel.size(); i++) {
        char c = camel[i];
        if (std::isupper(static_cast<unsigned char>(c))) {
            if (i > 0) out += '_';
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        out += c;
    }
    return out;
}

} // namespace corescope
