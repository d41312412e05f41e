#include "kernel_types.h"
#include "fd.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/btf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace corescope {

namespace {

// Bytes that follow a type's common header, by kind (include/uapi/linux/btf.h).
// Returns false for a kind this table does not know.
bool trailing_bytes(const struct btf_type* t, size_t* bytes) {
    size_t vlen = btf_vlen(t);
    switch (btf_kind(t)) {
    case BTF_KIND_INT:
        *bytes = sizeof(uint32_t);
        return true;
    case BTF_KIND_ARRAY:
        *bytes = sizeof(struct btf_array);
        return true;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
        *bytes = vlen * sizeof(struct btf_member);
        return true;
    case BTF_KIND_ENUM:
        *bytes = vlen * sizeof(struct btf_enum);
        return true;
    case BTF_KIND_ENUM64:
        *bytes = vlen * sizeof(struct btf_enum64);
        return true;
    case BTF_KIND_FUNC_PROTO:
        *bytes = vlen * sizeof(struct btf_param);
        return true;
    case BTF_KIND_VAR:
        *bytes = sizeof(struct btf_var);
        return true;
    case BTF_KIND_DATASEC:
        *bytes = vlen * sizeof(struct btf_var_secinfo);
        return true;
    case BTF_KIND_DECL_TAG:
        *bytes = sizeof(struct btf_decl_tag);
        return true;
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG:
        *bytes = 0;
        return true;
    default:
        return false;
    }
}

bool read_whole(int fd, std::vector<uint8_t>* out) {
    // sysfs hands out at most a page per read whatever the size asked for.
    uint8_t chunk[1 << 16];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) return true;
        out->insert(out->end(), chunk, chunk + n);
    }
}

} // namespace

std::unique_ptr<KernelTypes> KernelTypes::open(const std::string& path, std::string* error) {
    std::string ignored;
    if (error == nullptr) error = &ignored;
    std::unique_ptr<KernelTypes> types(new KernelTypes);
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        *error = std::strerror(errno);
        return nullptr;
    }
    struct stat st {};
    uint16_t magic = 0;
    bool raw = pread(fd.get(), &magic, sizeof magic, 0) == sizeof magic && magic == BTF_MAGIC;
    if (raw && fstat(fd.get(), &st) == 0 && st.st_size > 0) {
        // /sys/kernel/btf/vmlinux can be mapped since Linux 6.16.
        void* m =
            mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
        if (m != MAP_FAILED) {
            types->mapping_ = m;
            types->data_ = static_cast<const uint8_t*>(m);
            types->size_ = static_cast<size_t>(st.st_size);
        }
    }
    if (raw && types->mapping_ == nullptr) {
        types->copy_.reserve(st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0);
        if (!read_whole(fd.get(), &types->copy_)) {
            *error = std::strerror(errno);
            return nullptr;
        }
    }
    fd.reset(); // the mapping or the copy holds the types now
    if (!raw) {
        // Not raw BTF (or the other byte order): let libbpf find and convert it.
        struct btf* parsed = btf__parse(path.c_str(), nullptr);
        if (libbpf_get_error(parsed)) {
            *error = "not a BTF file";
            return nullptr;
        }
        btf__set_endianness(parsed, __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? BTF_LITTLE_ENDIAN
                                                                              : BTF_BIG_ENDIAN);
        uint32_t size = 0;
        const void* blob = btf__raw_data(parsed, &size);
        if (blob)
            types->copy_.assign(static_cast<const uint8_t*>(blob),
                                static_cast<const uint8_t*>(blob) + size);
        btf__free(parsed);
    }
    if (types->mapping_ == nullptr) {
        types->data_ = types->copy_.data();
        types->size_ = types->copy_.size();
    }
    if (!types->index(error)) return nullptr;
    return types;
}

KernelTypes::~KernelTypes() {
    if (mapping_) munmap(mapping_, size_);
}

bool KernelTypes::index(std::string* error) {
    struct btf_header hdr {};
    if (size_ < sizeof hdr) {
        *error = "BTF too short";
        return false;
    }
    std::memcpy(&hdr, data_, sizeof hdr);
    if (hdr.magic != BTF_MAGIC || hdr.hdr_len < sizeof hdr || hdr.hdr_len > size_ ||
        hdr.type_off > size_ - hdr.hdr_len || hdr.type_len > size_ - hdr.hdr_len - hdr.type_off ||
        hdr.str_off > size_ - hdr.hdr_len || hdr.str_len > size_ - hdr.hdr_len - hdr.str_off ||
        hdr.str_len == 0) {
        *error = "malformed BTF header";
        return false;
    }
    types_ = data_ + hdr.hdr_len + hdr.type_off;
    strings_ = reinterpret_cast<const char*>(data_ + hdr.hdr_len + hdr.str_off);
    strings_size_ = hdr.str_len;
    offsets_.reserve(hdr.type_len / 16);
    size_t off = 0;
    while (off + sizeof(struct btf_type) <= hdr.type_len) {
        const auto* t = reinterpret_cast<const struct btf_type*>(types_ + off);
        size_t extra = 0;
        if (!trailing_bytes(t, &extra)) {
            *error = "unknown BTF kind " + std::to_string(btf_kind(t));
            return false;
        }
        offsets_.push_back(static_cast<uint32_t>(off));
        off += sizeof(struct btf_type) + extra;
    }
    if (off != hdr.type_len) {
        *error = "truncated BTF type section";
        return false;
    }
    return true;
}

int KernelTypes::find(std::string_view name, int kind) const {
    for (size_t i = 0; i < offsets_.size(); i++) {
        const auto* t = reinterpret_cast<const struct btf_type*>(types_ + offsets_[i]);
        if (btf_kind(t) == kind && this->name(t->name_off) == name) return static_cast<int>(i + 1);
    }
    return -1;
}

const struct btf_type* KernelTypes::type(uint32_t id) const {
    if (id == 0 || id > offsets_.size()) return nullptr;
    return reinterpret_cast<const struct btf_type*>(types_ + offsets_[id - 1]);
}

std::string_view KernelTypes::name(uint32_t name_offset) const {
    if (name_offset >= strings_size_) return {};
    return {strings_ + name_offset, strnlen(strings_ + name_offset, strings_size_ - name_offset)};
}

} // namespace corescope
