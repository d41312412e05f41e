// triage's third rendering: the report and its findings as one
// self-contained HTML5 page (inline CSS, charts as inline SVG, no script
// run and nothing fetched), for an engineer to attach to an incident. It
// reads the same Report as render_text and render_json, and carries
// render_json's object inside it, so the three cannot disagree.
#pragma once

#include "triage_findings.h"
#include "triage_report.h"

#include <string>
#include <vector>

namespace corescope::triage {

// The id of the <script type="application/json"> element that holds the
// report as render_json writes it (made safe by script_safe_json).
inline constexpr const char* html_report_json_id = "corescope-triage-report";

std::string render_html(const Report& report, const std::vector<Finding>& findings);

} // namespace corescope::triage
