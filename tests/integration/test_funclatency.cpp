#include "harness.h"

namespace test_funclatency {
} // namespace test_funclatency
