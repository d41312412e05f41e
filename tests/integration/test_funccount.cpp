#include "harness.h"

namespace test_funccount {
} // namespace test_funccount
