// triage's two renderings of a report and its findings: text that reads in
// 80 columns, and one JSON object with the same data.
#pragma once

#include "triage_findings.h"
#include "triage_report.h"

#include <string>
#include <vector>

namespace corescope::triage {

std::string render_text(const Report& report, const std::vector<Finding>& findings);
std::string render_json(const Report& report, const std::vector<Finding>& findings);

} // namespace corescope::triage
