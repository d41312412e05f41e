// Names from the traced system inside SVG and HTML (flame graphs, triage's
// HTML report): escaped so that no name can close an element, open a tag or
// a script, or make the document ill-formed XML, whatever bytes it holds.
#pragma once

#include <string>
#include <string_view>

namespace corescope {

// Appends s as XML/HTML character data or as an attribute value in either
// quote: the bytes a terminal would be sent escaped are escaped as
// append_text_escaped does (control bytes as \n, \x01; invalid UTF-8 as
// \xNN; a backslash as \\), so a reader sees the same name in every output,
// and then & < > " ' become character references. U+FFFE and U+FFFF, valid
// UTF-8 but not XML characters, become \ufffe and \uffff.
void append_markup_escaped(std::string& out, std::string_view s);
std::string markup_escaped(std::string_view s);

// JSON text (from JsonObject, append_json_string, nlohmann) made safe inside
// an HTML or SVG <script> element: < > & become \u003c \u003e \u0026, which
// JSON reads as the same characters, so no string in it can end the script
// ("</script>") or start markup ("<!--", "]]>").
std::string script_safe_json(std::string_view json);

} // namespace corescope
