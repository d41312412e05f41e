#include "function_signature.h"

#include "errors.h"
#include "kernel_types.h"

#include <bpf/btf.h>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <memory>

namespace corescope {

namespace {

// The type id past typedefs and qualifiers.
uint32_t resolve(const KernelTypes& btf, uint32_t id) {
    for (int i = 0; i < 32; i++) {
        const btf_type* t = btf.type(id);
        if (!t) return id;
        int kind = btf_kind(t);
        if (kind != BTF_KIND_TYPEDEF && kind != BTF_KIND_CONST && kind != BTF_KIND_VOLATILE &&
            kind != BTF_KIND_RESTRICT && kind != BTF_KIND_TYPE_TAG)
            return id;
        id = t->type;
    }
    return id;
}

// A C spelling of a type: "unsigned int", "struct file *", "loff_t *".
std::string c_name(const KernelTypes& btf, uint32_t id, int depth = 0) {
    const btf_type* t = btf.type(id);
    if (!t) return "void";
    if (depth > 16) return "?";
    std::string name(btf.name(t->name_off));
    switch (btf_kind(t)) {
    case BTF_KIND_PTR:
        return c_name(btf, t->type, depth + 1) + " *";
    case BTF_KIND_CONST:
        return "const " + c_name(btf, t->type, depth + 1);
    case BTF_KIND_VOLATILE:
        return "volatile " + c_name(btf, t->type, depth + 1);
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG:
        return c_name(btf, t->type, depth + 1);
    case BTF_KIND_STRUCT:
        return "struct " + name;
    case BTF_KIND_UNION:
        return "union " + name;
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64:
        return "enum " + name;
    case BTF_KIND_FUNC_PROTO:
        return "function";
    default:
        return name.empty() ? "?" : name;
    }
}

ValueType value_type(const KernelTypes& btf, uint32_t id) {
    ValueType v;
    v.c_name = c_name(btf, id);
    const btf_type* t = btf.type(resolve(btf, id));
    if (!t) return v;
    switch (btf_kind(t)) {
    case BTF_KIND_INT: {
        uint32_t encoding = btf_int_encoding(t);
        v.size = t->size;
        v.kind = encoding & BTF_INT_BOOL     ? ValueType::Kind::boolean
                 : encoding & BTF_INT_SIGNED ? ValueType::Kind::signed_int
                                             : ValueType::Kind::unsigned_int;
        break;
    }
    case BTF_KIND_PTR:
        v.kind = ValueType::Kind::pointer;
        break;
    case BTF_KIND_ENUM: {
        v.kind = ValueType::Kind::enumeration;
        v.size = t->size;
        const struct btf_enum* e = btf_enum(t);
        for (int i = 0; i < btf_vlen(t) && i < 4096; i++)
            v.names.push_back({e[i].val, std::string(btf.name(e[i].name_off))});
        break;
    }
    default:
        break;
    }
    return v;
}

} // namespace

// The function's signature from BTF; throws UsageError when there is none.
FunctionSignature function_signature(const std::string& function, const std::string& btf_path) {
    std::string error;
    std::unique_ptr<KernelTypes> btf = KernelTypes::open(btf_path, &error);
    if (!btf) throw RuntimeError("cannot read the kernel's BTF " + btf_path + ": " + error);
    int id = btf->find(function, BTF_KIND_FUNC);
    if (id < 0)
        throw UsageError("invalid function '" + function + "': no such function in " + btf_path +
                         " (an inlined or static function the compiler folded away has none)");
    const btf_type* func = btf->type(static_cast<uint32_t>(id));
    const btf_type* proto = btf->type(func->type);
    if (!proto || btf_kind(proto) != BTF_KIND_FUNC_PROTO)
        throw UsageError("invalid function '" + function + "': its BTF has no prototype");
    FunctionSignature s;
    s.function = function;
    s.returns_void = proto->type == 0;
    s.ret = value_type(*btf, proto->type);
    const btf_param* p = btf_params(proto);
    for (int i = 0; i < btf_vlen(proto); i++) {
        if (p[i].type == 0) break; // varargs
        s.params.push_back({std::string(btf->name(p[i].name_off)), value_type(*btf, p[i].type)});
    }
    return s;
}

std::string prototype(const FunctionSignature& s) {
    std::string text = (s.returns_void ? "void" : s.ret.c_name) + " " + s.function + "(";
    for (size_t i = 0; i < s.params.size(); i++) {
        if (i) text += ", ";
        text += s.params[i].type.c_name;
        if (!text.ends_with('*')) text += ' ';
        text += s.params[i].name;
    }
    return text + ")";
}

ShownValue show_value(const ValueType& type, uint64_t raw) {
    char b[48];
    uint64_t mask = type.size >= 8 ? ~0ull : (1ull << (type.size * 8)) - 1;
    uint64_t v = raw & mask;
    int64_t sv = static_cast<int64_t>(v);
    if (type.size < 8 && (v >> (type.size * 8 - 1)) & 1) sv = static_cast<int64_t>(v | ~mask);
    switch (type.kind) {
    case ValueType::Kind::signed_int:
        std::snprintf(b, sizeof b, "%" PRId64, sv);
        return {b, b};
    case ValueType::Kind::unsigned_int:
        std::snprintf(b, sizeof b, "%" PRIu64, v);
        return {b, b};
    case ValueType::Kind::boolean:
        return v ? ShownValue{"true", "true"} : ShownValue{"false", "false"};
    case ValueType::Kind::enumeration:
        for (const auto& [value, name] : type.names)
            if (static_cast<uint64_t>(value) == v || value == sv) return {name, "\"" + name + "\""};
        std::snprintf(b, sizeof b, "%" PRId64, sv);
        return {b, b};
    case ValueType::Kind::pointer:
    case ValueType::Kind::other:
        break;
    }
    std::snprintf(b, sizeof b, "0x%" PRIx64, raw);
    return {b, std::string("\"") + b + "\""};
}

FunctionRequest parse_function_request(std::string_view text) {
    FunctionRequest r;
    auto open = text.find('(');
    r.function = std::string(text.substr(0, open));
    auto valid_name = [](std::string_view n) {
        if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
        for (char c : n)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') return false;
        return true;
    };
    if (!valid_name(r.function))
        throw UsageError("invalid function '" + std::string(text) +
                         "': FUNC or FUNC(ARG, ..., return)");
    if (open == std::string_view::npos) return r;
    if (text.back() != ')')
        throw UsageError("invalid function '" + std::string(text) + "': no closing ')'");
    r.listed = true;
    r.ret = false;
    std::string_view list = text.substr(open + 1, text.size() - open - 2);
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string_view word = list.substr(0, comma);
        while (!word.empty() && word.front() == ' ')
            word.remove_prefix(1);
        while (!word.empty() && word.back() == ' ')
            word.remove_suffix(1);
        if (word.find_first_of("-><=!") != std::string_view::npos || word.find(' ') != word.npos)
            throw UsageError("invalid argument '" + std::string(word) +
                             "': members and predicates (->, ==, >...) are not supported; name "
                             "the function's arguments or 'return'");
        if (word == "return")
            r.ret = true;
        else if (!valid_name(word))
            throw UsageError("invalid argument '" + std::string(word) + "' of " + r.function);
        else
            r.args.push_back(std::string(word));
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return r;
}

std::vector<size_t> shown_params(const FunctionSignature& s, const FunctionRequest& request,
                                 size_t max_args) {
    std::vector<size_t> shown;
    if (request.args.empty() && !request.listed) {
        for (size_t i = 0; i < s.params.size(); i++)
            shown.push_back(i);
        return shown;
    }
    for (const std::string& name : request.args) {
        size_t i = 0;
        while (i < s.params.size() && s.params[i].name != name)
            i++;
        if (i == s.params.size())
            throw UsageError("invalid argument '" + name + "': " + prototype(s) +
                             " has none by that name");
        if (i >= max_args)
            throw UsageError("invalid argument '" + name + "': only the first " +
                             std::to_string(max_args) + " arguments can be read");
        shown.push_back(i);
    }
    return shown;
}

} // namespace corescope
