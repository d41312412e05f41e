#include "drop_reasons.h"
#include "kernel_features.h"
#include "kernel_types.h"

#include <bpf/btf.h>

namespace corescope {

namespace {

// The enum's values into names, each with its prefix removed.
void add_enum(const KernelTypes& btf, const struct btf_type* t, bool subsystem_only,
              std::map<uint32_t, std::string>& names) {
    auto add = [&](uint32_t value, std::string_view full) {
        if (subsystem_only && (value >> 16) == 0) return; // the core reasons' own enum has those
        std::string_view name = full;
        for (std::string_view prefix : {"SKB_DROP_REASON_", "SKB_"})
            if (!subsystem_only && name.starts_with(prefix)) {
                name.remove_prefix(prefix.size());
                break;
            }
        names.emplace(value, std::string(name));
    };
    if (btf_kind(t) == BTF_KIND_ENUM) {
        const struct btf_enum* e = btf_enum(t);
        for (int i = 0; i < btf_vlen(t); i++, e++)
            add(static_cast<uint32_t>(e->val), btf.name(e->name_off));
    } else if (btf_kind(t) == BTF_KIND_ENUM64) {
        const struct btf_enum64* e = btf_enum64(t);
        for (int i = 0; i < btf_vlen(t); i++, e++)
            add(static_cast<uint32_t>(e->val_lo32), btf.name(e->name_off));
    }
}

} // namespace

DropReasons::DropReasons(const KernelTypes* btf) {
    if (!btf) return;
    int id = btf->find("skb_drop_reason", BTF_KIND_ENUM);
    if (id < 0) return;
    add_enum(*btf, btf->type(id), false, names_);
    // The markers that are not reasons.
    for (std::string_view marker : {"MAX", "SUBSYS_MASK"})
        for (auto it = names_.begin(); it != names_.end();)
            it = it->second == marker ? names_.erase(it) : std::next(it);
    // Subsystems' reasons: enum mac80211_drop_reason, ovs_drop_reason...
    for (uint32_t i = 1; i < btf->type_count() + 1; i++) {
        const struct btf_type* t = btf->type(i);
        if (!t || (btf_kind(t) != BTF_KIND_ENUM && btf_kind(t) != BTF_KIND_ENUM64)) continue;
        std::string_view name = btf->name(t->name_off);
        if (name.ends_with("_drop_reason") && name != "skb_drop_reason")
            add_enum(*btf, t, true, names_);
    }
}

DropReasons DropReasons::of_running_kernel() {
    return DropReasons(KernelFeatures::instance().kernel_btf());
}

std::string_view DropReasons::name(uint32_t reason) const {
    auto it = names_.find(reason);
    return it == names_.end() ? std::string_view{} : std::string_view{it->second};
}

std::string DropReasons::label(uint32_t reason) const {
    std::string_view n = name(reason);
    return n.empty() ? std::to_string(reason) : std::string(n);
}

std::optional<uint32_t> DropReasons::value(std::string_view name) const {
    for (const auto& [value, n] : names_)
        if (n == name) return value;
    return std::nullopt;
}

bool DropReasons::is_drop(uint32_t reason) const {
    std::string_view n = name(reason);
    return n != "NOT_DROPPED_YET" && n != "CONSUMED";
}

} // namespace corescope
