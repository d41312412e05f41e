// Precompiled for the tools' loaders (meson.build, the corescope-tools
// library): the shared headers nearly every tool includes, which were half
// of each loader's compile time.
#include "decoder.h"
#include "event_fields.h"
#include "map_reader.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
