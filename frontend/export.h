// corescope export: the tools' in-kernel aggregations served to Prometheus
// (docs/man/corescope-export.8.md).
#pragma once

namespace corescope {

int export_command(int argc, char** argv);

} // namespace corescope
