#include "page_cache.h"

#include <catch2/catch.hpp>

namespace test_page_cache {

using namespace corescope;

TEST_CASE("page cache activity on the tracepoints: hits, misses, and the writes' share of "
          "dirtied pages",
          "[page_cache]") {
    PageCacheCounters before{}, now{};
    now.read_pages = 3000; // 1024 warm + 2048 cold
    now.added = 2048 + 1024;
    now.added_dirtied = 1024; // a write created 1024 pages
    now.dirtied = 1024 + 256; // and dirtied 256 cached ones
    PageCacheActivity a = page_cache_activity(now, before, false);
    CHECK(a.accesses == 3000);
    CHECK(a.misses == 2048);
    CHECK(a.hits == 952);
    CHECK(a.dirties == 1280);
    CHECK(a.writes_known);
    CHECK(a.dirties_created == 1024);
    CHECK(a.write_hit_ratio() == Approx(0.2));
    CHECK(a.hit_ratio() == Approx(952.0 / 3000));
    // Counted from a reading, not from zero.
    PageCacheActivity none = page_cache_activity(now, now, false);
    CHECK(none.accesses == 0);
    CHECK(none.dirties == 0);
    CHECK(none.write_hit_ratio() == 0);
    CHECK(none.hit_ratio() == 0);
}

TEST_CASE("page cache activity on kernel functions does not tell the writes' share",
          "[page_cache]") {
    PageCacheCounters before{}, now{};
    now.calls_accessed = 100;
    now.calls_added = 30;
    now.calls_buffer_dirty = 10;
    now.dirtied_folios = 5;
    PageCacheActivity a = page_cache_activity(now, before, true);
    CHECK(a.accesses == 90);
    CHECK(a.misses == 25);
    CHECK(a.hits == 65);
    CHECK(a.dirties == 10);
    CHECK_FALSE(a.writes_known);
}

} // namespace test_page_cache
