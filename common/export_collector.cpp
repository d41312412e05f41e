#include "export_collector.h"

#include "output.h"
#include "tool.h"

namespace corescope {

int print_expositions(std::unique_ptr<ExportCollector> collector, const CommonOptions& options) {
    if (!collector) return exit_ok;
    Output out;
    run_summary_loop(options, out, [&] {
        Exposition e;
        collector->collect(e);
        out.buffer() += e.render(ExpositionFormat::text);
    });
    return exit_ok;
}

} // namespace corescope
