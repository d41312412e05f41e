// Tracepoint format files (common/tracepoint_format.h), as tracefs writes them.
#include "tracepoint_format.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace test_tracepoint_format {

using namespace corescope;

namespace {
const char* const exec_format =
    "name: sched_process_exec\n"
    "ID: 365\n"
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
    "\n"
    "\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;\n"
    "\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;\n"
    "\tfield:char prev_comm[16];\toffset:16;\tsize:16;\tsigned:0;\n"
    "\tfield:const char * name;\toffset:32;\tsize:8;\tsigned:0;\n"
    "\tfield:unsigned long *ptr;\toffset:40;\tsize:8;\tsigned:0;\n"
    "\n"
    "print fmt: \"filename=%s pid=%d\", __get_str(filename), REC->pid\n";
} // namespace

TEST_CASE("tracepoint_fields reads every field with its type, name, offset and size",
          "[tracepoint_format]") {
    std::vector<TracepointField> f = tracepoint_fields(exec_format);
    REQUIRE(f.size() == 7);
    CHECK(f[0].name == "common_type");
    CHECK(f[0].common());
    CHECK(f[1].is_signed);
    // A __data_loc field's brackets belong to its type, not its name.
    CHECK(f[2].name == "filename");
    CHECK(f[2].type == "__data_loc char[]");
    CHECK(f[2].declaration == "__data_loc char[] filename");
    CHECK_FALSE(f[2].common());
    CHECK(f[2].offset == 8);
    CHECK(f[2].size == 4);
    CHECK_FALSE(f[2].is_signed);
    CHECK(f[3].name == "pid");
    CHECK(f[3].type == "pid_t");
    CHECK(f[3].is_signed);
    // An array's size follows its name.
    CHECK(f[4].name == "prev_comm");
    CHECK(f[4].type == "char[16]");
    CHECK(f[4].size == 16);
    CHECK(f[5].name == "name");
    CHECK(f[5].type == "const char *");
    CHECK(f[6].name == "ptr");
    CHECK(f[6].type == "unsigned long *");
    CHECK(f[6].offset == 40);
}

TEST_CASE("tracepoint_id is the ID line's number", "[tracepoint_format]") {
    CHECK(tracepoint_id(exec_format) == 365);
    CHECK(tracepoint_id("name: x\nformat:\n") == 0);
}

TEST_CASE("tracepoint_fields leaves out what does not parse", "[tracepoint_format]") {
    CHECK(tracepoint_fields("").empty());
    CHECK(tracepoint_fields("\tfield:int x\n").empty());            // no semicolon
    CHECK(tracepoint_fields("\tfield:;\toffset:0;\n").empty());     // no declaration
    CHECK(tracepoint_fields("\tfield:int ;\toffset:0;\n").empty()); // no name
    CHECK(tracepoint_fields("\tfield:x[;\toffset:0;\n").empty());   // no name
    std::vector<TracepointField> huge =
        tracepoint_fields("\tfield:int a;\toffset:99999999999999999999999;\tsize:4;\n");
    REQUIRE(huge.size() == 1);
    CHECK(huge[0].size == 4); // the offset stops short of overflowing
}

TEST_CASE("the event's own fields as JSON and as text", "[tracepoint_format]") {
    std::vector<TracepointField> fields = tracepoint_fields(exec_format);
    auto json = nlohmann::json::parse(tracepoint_fields_json(fields));
    REQUIRE(json.size() == 5); // no common_ field
    CHECK(json[0]["name"] == "filename");
    CHECK(json[0]["type"] == "__data_loc char[]");
    CHECK(json[0]["offset"] == 8);
    CHECK(json[0]["size"] == 4);
    CHECK(json[0]["signed"] == false);
    CHECK(json[1]["signed"] == true);
    CHECK(tracepoint_fields_json({}) == "[]");
    std::string text;
    append_tracepoint_fields_text(text, fields);
    CHECK(text.starts_with("\n    __data_loc char[] filename;\n    pid_t pid;\n"));
    CHECK(text.find("common_") == std::string::npos);
}

} // namespace test_tracepoint_format
