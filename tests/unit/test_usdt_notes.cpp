#include "usdt_notes.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace test_usdt_notes {

using namespace corescope;

namespace {

void put(std::vector<uint8_t>& out, uint64_t v, unsigned size, bool big_endian) {
    for (unsigned i = 0; i < size; i++)
        out.push_back(static_cast<uint8_t>(v >> (8 * (big_endian ? size - 1 - i : i))));
}

// One note as a linker writes it: header, owner padded to 4, descriptor
// padded to 4.
std::vector<uint8_t> note(const std::string& owner, uint32_t type, const std::vector<uint8_t>& desc,
                          bool big_endian = false) {
    std::vector<uint8_t> out;
    put(out, owner.size() + 1, 4, big_endian);
    put(out, desc.size(), 4, big_endian);
    put(out, type, 4, big_endian);
    out.insert(out.end(), owner.begin(), owner.end());
    out.push_back(0);
    while (out.size() % 4)
        out.push_back(0);
    out.insert(out.end(), desc.begin(), desc.end());
    while (out.size() % 4)
        out.push_back(0);
    return out;
}

std::vector<uint8_t> stapsdt(uint64_t pc, uint64_t base, uint64_t sema, const std::string& text,
                             unsigned address_size = 8, bool big_endian = false) {
    std::vector<uint8_t> desc;
    put(desc, pc, address_size, big_endian);
    put(desc, base, address_size, big_endian);
    put(desc, sema, address_size, big_endian);
    desc.insert(desc.end(), text.begin(), text.end());
    return note("stapsdt", 3, desc, big_endian);
}

} // namespace

TEST_CASE("stapsdt notes: every field, other notes skipped, both byte orders and sizes",
          "[usdt_notes]") {
    std::string one("prov\0tick\0-4@%eax 8@-16(%rbp)\0", 30);
    std::vector<uint8_t> section = note("GNU", 1, {1, 2, 3, 4});
    std::vector<uint8_t> a = stapsdt(0x1139, 0x2004, 0, one);
    std::vector<uint8_t> b = stapsdt(0x1200, 0x2004, 0x4010, std::string("prov\0bare\0\0", 11));
    section.insert(section.end(), a.begin(), a.end());
    section.insert(section.end(), b.begin(), b.end());
    std::vector<UsdtNote> notes = parse_stapsdt_notes(section, 8, false);
    REQUIRE(notes.size() == 2);
    CHECK(notes[0].address == 0x1139);
    CHECK(notes[0].base == 0x2004);
    CHECK(notes[0].semaphore == 0);
    CHECK(notes[0].provider == "prov");
    CHECK(notes[0].name == "tick");
    CHECK(notes[0].arguments == "-4@%eax 8@-16(%rbp)");
    CHECK(notes[1].semaphore == 0x4010);
    CHECK(notes[1].name == "bare");
    CHECK(notes[1].arguments.empty());

    std::vector<uint8_t> big = stapsdt(0x10000, 0x20000, 0, one, 4, true);
    notes = parse_stapsdt_notes(big, 4, true);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].address == 0x10000);
    CHECK(notes[0].base == 0x20000);
}

TEST_CASE("stapsdt notes: truncated and lying lengths stop the parse, never read past it",
          "[usdt_notes]") {
    // 12 bytes of header, "stapsdt" and its NUL, 24 of addresses, 5 of
    // strings, 3 of padding: cut anywhere before the padding, nothing.
    std::vector<uint8_t> good = stapsdt(1, 2, 3, std::string("p\0n\0\0", 5));
    REQUIRE(good.size() == 52);
    for (size_t cut = 0; cut < 49; cut++) {
        std::vector<uint8_t> part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
        CHECK(parse_stapsdt_notes(part, 8, false).empty());
    }
    // Without the last note's padding: still whole.
    std::vector<uint8_t> unpadded(good.begin(), good.begin() + 49);
    CHECK(parse_stapsdt_notes(unpadded, 8, false).size() == 1);
    // A descriptor size past the end; a name size near 2^32.
    std::vector<uint8_t> lying = good;
    lying[4] = 0xff;
    lying[5] = 0xff;
    CHECK(parse_stapsdt_notes(lying, 8, false).empty());
    lying = good;
    lying[0] = 0xfe;
    lying[1] = lying[2] = lying[3] = 0xff;
    CHECK(parse_stapsdt_notes(lying, 8, false).empty());
    // No NUL after the strings; an empty provider; an unknown address size.
    CHECK(parse_stapsdt_notes(stapsdt(1, 2, 3, "prov"), 8, false).empty());
    CHECK(parse_stapsdt_notes(stapsdt(1, 2, 3, std::string("\0n\0", 3)), 8, false).empty());
    CHECK(parse_stapsdt_notes(good, 2, false).empty());
}

TEST_CASE("USDT argument specs: size, sign and location", "[usdt_notes]") {
    std::vector<UsdtArgument> args = parse_usdt_arguments("-4@%eax  8@-16(%rbp) 2@$5 %rdi 3@%ax");
    REQUIRE(args.size() == 5);
    CHECK(args[0].size == 4);
    CHECK(args[0].is_signed);
    CHECK(args[0].location == "%eax");
    CHECK(args[1].size == 8);
    CHECK(!args[1].is_signed);
    CHECK(args[1].location == "-16(%rbp)");
    CHECK(args[2].location == "$5");
    CHECK(args[3].size == 0); // no size given
    CHECK(args[3].location == "%rdi");
    CHECK(args[4].size == 0); // not a size: the spec kept whole
    CHECK(args[4].location == "3@%ax");
    CHECK(parse_usdt_arguments("").empty());
    CHECK(parse_usdt_arguments("   ").empty());
}

TEST_CASE("USDT probes: sites grouped by probe in file order, as JSON and text", "[usdt_notes]") {
    std::vector<UsdtNote> notes = {{0x10, 0x1000, 0, "p", "a", "-4@%eax"},
                                   {0x20, 0x1000, 0x3000, "p", "b", ""},
                                   {0x30, 0x1000, 0, "p", "a", "8@$5"}};
    auto all = usdt_probe_sites(notes, [](std::string_view, std::string_view) { return true; });
    REQUIRE(all.size() == 2);
    REQUIRE(all[0].size() == 2); // p:a, both sites
    CHECK(all[0][1]->address == 0x30);
    CHECK(all[1][0]->name == "b");
    auto only_b = usdt_probe_sites(
        notes, [](std::string_view, std::string_view name) { return name == "b"; });
    REQUIRE(only_b.size() == 1);
    CHECK(only_b[0][0]->semaphore == 0x3000);

    auto json = nlohmann::json::parse(usdt_sites_json(all[0]));
    REQUIRE(json.size() == 2);
    CHECK(json[0]["address"] == 0x10);
    CHECK(json[0]["base"] == 0x1000);
    CHECK(json[0]["semaphore"] == 0);
    CHECK(json[0]["arguments_spec"] == "-4@%eax");
    CHECK(json[0]["arguments"][0]["size"] == 4);
    CHECK(json[0]["arguments"][0]["signed"] == true);
    CHECK(json[0]["arguments"][0]["location"] == "%eax");

    std::string text;
    append_usdt_site_text(text, notes[0]);
    CHECK(text == "\n    site 0x10, semaphore none\n        arg1: signed 32-bit, %eax");
    text.clear();
    append_usdt_site_text(text, notes[1]);
    CHECK(text == "\n    site 0x20, semaphore 0x3000");
}

} // namespace test_usdt_notes
