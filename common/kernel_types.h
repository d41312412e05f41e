// The kernel's BTF types, read for the few lookups an attach plan makes
// (does a BTF tracepoint or kernel function exist, how many arguments does a
// tracepoint take, what are an enum's values). libbpf's btf__parse copies
// and checks every type; these lookups need neither, so the raw blob is
// mapped (or read) and scanned in place: ~1 ms instead of ~10, and no second
// full copy of the types next to the one libbpf makes when it loads.
#pragma once

#include <bpf/btf.h>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

class KernelTypes {
  public:
    // Opens a BTF file: raw BTF (as in /sys/kernel/btf/vmlinux) is scanned in
    // place; anything else (an ELF file with a .BTF section) goes through
    // libbpf once. Returns nullptr and says why in *error ("not a BTF file")
    // when the file is missing or not BTF.
    static std::unique_ptr<KernelTypes> open(const std::string& path, std::string* error = nullptr);
    ~KernelTypes();
    KernelTypes(const KernelTypes&) = delete;
    KernelTypes& operator=(const KernelTypes&) = delete;

    // The id of the type with this name and kind (BTF_KIND_*), or -1.
    int find(std::string_view name, int kind) const;
    // The type with this id, or nullptr; id 0 (void) is nullptr too.
    const struct btf_type* type(uint32_t id) const;
    std::string_view name(uint32_t name_offset) const;
    uint32_t type_count() const { return static_cast<uint32_t>(offsets_.size()); }

  private:
    KernelTypes() = default;
    bool index(std::string* error);

    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    void* mapping_ = nullptr;   // mmap of the file, when the file allows it
    std::vector<uint8_t> copy_; // the blob otherwise
    const uint8_t* types_ = nullptr;
    const char* strings_ = nullptr;
    uint32_t strings_size_ = 0;
    std::vector<uint32_t> offsets_; // offsets_[id - 1]: type id's offset in types_
};

} // namespace corescope
