#!/usr/bin/env python3
"""`meson dist` script: copies the wraps' source tarballs that are in
subprojects/packagecache/ (with the right hash) into the tarball, so that it
builds its fallbacks offline too. Missing ones are named and left out: the
tarball then needs the system packages or the network for them."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wraps  # noqa: E402


def main():
    source_root = os.environ["MESON_SOURCE_ROOT"]
    dist_root = os.environ["MESON_DIST_ROOT"]
    cache = os.path.join(source_root, "subprojects", "packagecache")
    dist_cache = os.path.join(dist_root, "subprojects", "packagecache")
    missing = []
    for source in wraps.sources(os.path.join(source_root, "subprojects")):
        path = wraps.cached(cache, source)
        if path is None:
            missing.append(source.filename)
            continue
        os.makedirs(dist_cache, exist_ok=True)
        shutil.copy2(path, dist_cache)
    if missing:
        print(f"dist_packagecache: not in subprojects/packagecache, so not in the tarball: {' '.join(missing)} "
              "(scripts/fill_packagecache.py fetches them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
