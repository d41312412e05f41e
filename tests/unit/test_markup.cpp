// Markup escaping (common/markup.h): traced names inside SVG and HTML.
#include "markup.h"
#include "output.h"

#include "common/utf8.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>
#include <string>

namespace test_markup {

using namespace corescope;

namespace {
// The inverse of the five references, as an XML parser reads them.
std::string unreferenced(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        if (s[i] != '&') {
            out += s[i++];
            continue;
        }
        size_t end = s.find(';', i);
        REQUIRE(end != std::string::npos);
        std::string name = s.substr(i, end - i + 1);
        if (name == "&amp;")
            out += '&';
        else if (name == "&lt;")
            out += '<';
        else if (name == "&gt;")
            out += '>';
        else if (name == "&quot;")
            out += '"';
        else if (name == "&#39;")
            out += '\'';
        else
            FAIL("unknown reference " << name);
        i = end + 1;
    }
    return out;
}

// What XML 1.0 allows as characters, less the five that need references.
void check_markup_safe(const std::string& s) {
    for (size_t i = 0; i < s.size();) {
        size_t len = testutf8::sequence_length(s, i);
        INFO("byte " << i << " of " << s);
        REQUIRE(len > 0);
        if (len == 1) {
            unsigned char c = s[i];
            CHECK(c >= 0x20);
            CHECK(c != 0x7f);
            CHECK(c != '<');
            CHECK(c != '>');
            CHECK(c != '"');
            CHECK(c != '\'');
        }
        if (len == 3)
            CHECK_FALSE(
                (s.compare(i, 3, "\xef\xbf\xbe") == 0 || s.compare(i, 3, "\xef\xbf\xbf") == 0));
        if (len == 2)
            CHECK_FALSE((static_cast<unsigned char>(s[i]) == 0xc2 &&
                         static_cast<unsigned char>(s[i + 1]) < 0xa0));
        i += len;
    }
}
} // namespace

TEST_CASE("markup escaping turns markup characters into references", "[markup]") {
    CHECK(markup_escaped("<script>alert(\"x\")</script>") ==
          "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    CHECK(markup_escaped("a&b 'c'") == "a&amp;b &#39;c&#39;");
    CHECK(markup_escaped("std::vector<int>::push_back") == "std::vector&lt;int&gt;::push_back");
    CHECK(markup_escaped("plain_name") == "plain_name");
    CHECK(markup_escaped("") == "");
}

TEST_CASE("markup escaping shows control bytes and bad UTF-8 as the text output does", "[markup]") {
    CHECK(markup_escaped("a\nb\x01") == "a\\nb\\x01");
    CHECK(markup_escaped("\xff<") == "\\xff&lt;");
    CHECK(markup_escaped("caf\xc3\xa9") == "caf\xc3\xa9");
    CHECK(markup_escaped("\xc2\x9b[0m") == text_escaped("\xc2\x9b[0m"));
    CHECK(markup_escaped("x\xef\xbf\xbey\xef\xbf\xbf") == "x\\ufffey\\uffff");
    CHECK(markup_escaped("\xef\xbf\xbd") == "\xef\xbf\xbd"); // U+FFFD stays
}

TEST_CASE("markup escaping of any bytes is well-formed and reads back as the text output",
          "[markup]") {
    std::mt19937 random(7);
    const std::string alphabet =
        std::string("<>&\"';/\\ab\n\t\x01\x7f\xc2\x9b\xef\xbf\xbe\xe2\x80\xa8\xff\xc3\xa9", 25);
    for (int round = 0; round < 2000; round++) {
        std::string s;
        int n = random() % 24;
        for (int k = 0; k < n; k++)
            s += random() % 4 ? alphabet[random() % alphabet.size()] : static_cast<char>(random());
        std::string escaped = markup_escaped(s);
        check_markup_safe(escaped);
        std::string text = text_escaped(s);
        std::string read_back = unreferenced(escaped);
        // The same name a terminal shows, but for the two non-characters.
        for (auto [from, to] :
             {std::pair{"\xef\xbf\xbe", "\\ufffe"}, std::pair{"\xef\xbf\xbf", "\\uffff"}})
            for (size_t at; (at = text.find(from)) != std::string::npos;)
                text.replace(at, 3, to);
        CHECK(read_back == text);
    }
}

TEST_CASE("script_safe_json cannot end a script and reads back as the same JSON", "[markup]") {
    std::string json;
    append_json_string(json, "</script><!-- ]]> & x");
    std::string safe = script_safe_json(json);
    CHECK(safe.find('<') == std::string::npos);
    CHECK(safe.find('>') == std::string::npos);
    CHECK(safe.find('&') == std::string::npos);
    CHECK(nlohmann::json::parse(safe) == nlohmann::json::parse(json));
    CHECK(nlohmann::json::parse(safe).get<std::string>() == "</script><!-- ]]> & x");
}

} // namespace test_markup
