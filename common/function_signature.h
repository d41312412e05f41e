// A kernel function's signature from the kernel's BTF (its parameters'
// names and types, its return type), and how a raw 64-bit argument or
// return value prints as its type: ksnoop's, and any later tool that shows
// kernel function arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corescope {

// How a value of a BTF type prints.
struct ValueType {
    enum class Kind { signed_int, unsigned_int, boolean, pointer, enumeration, other };
    Kind kind = Kind::other;
    uint32_t size = 8;                                  // bytes
    std::vector<std::pair<int64_t, std::string>> names; // an enum's values
    std::string c_name;                                 // "unsigned int", "struct file *"
};

struct FunctionParam {
    std::string name;
    ValueType type;
};

// A function as the kernel's BTF describes it.
struct FunctionSignature {
    std::string function;
    std::vector<FunctionParam> params;
    ValueType ret;
    bool returns_void = false;
};

// A raw value as its type prints: in text, and as a JSON value.
struct ShownValue {
    std::string text, json;
};

// The function's signature, read from the BTF file at btf_path. Throws
// UsageError when the BTF has no such function (or no prototype for it),
// RuntimeError when the BTF cannot be read.
FunctionSignature function_signature(const std::string& function, const std::string& btf_path);

// "int __close_range(unsigned int fd, unsigned int max_fd, unsigned int flags)"
std::string prototype(const FunctionSignature& s);

// raw as type prints: sign-extended from the type's size, an enum's name
// where one matches, a pointer (or anything else) in hex.
ShownValue show_value(const ValueType& type, uint64_t raw);

// What to trace and show: the function, the arguments shown (by name, in
// the order given), and whether the return value is.
struct FunctionRequest {
    std::string function;
    std::vector<std::string> args; // as given; empty: all
    bool ret = true;
    bool listed = false; // "FUNC(...)": only what the list names
};

// "FUNC" or "FUNC(arg, arg, return)". Members and predicates, which the
// classic ksnoop takes, are refused by name (UsageError).
FunctionRequest parse_function_request(std::string_view text);

// The indexes into s.params of the arguments request shows, in its order:
// all of them when it lists none. An argument s does not have, or past the
// first max_args (what the BPF side reads), is a UsageError naming it.
std::vector<size_t> shown_params(const FunctionSignature& s, const FunctionRequest& request,
                                 size_t max_args);

} // namespace corescope
