#!/usr/bin/env python3
"""Downloads the source tarball of every wrap in subprojects/ that is not yet
in subprojects/packagecache/, and checks its sha256. Meson then builds the
fallbacks offline, and `meson dist` puts the cache into the tarball.

Usage: fill_packagecache.py [--cache DIR]
Exit status: 0 when every tarball is in the cache, 3 when the archive could
not be reached, 1 on any other failure (a tarball with the wrong hash).
"""
import argparse
import os
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wraps  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNREACHABLE = 3


def download(source, cache_dir):
    """Fetches source into cache_dir through a temporary file, so a broken
    transfer never leaves a partial tarball that Meson would reject."""
    with urllib.request.urlopen(source.url, timeout=30) as response:
        with tempfile.NamedTemporaryFile(dir=cache_dir, prefix=".part-", delete=False) as part:
            while block := response.read(1 << 20):
                part.write(block)
    got = wraps.sha256_of(part.name)
    if got != source.sha256:
        os.unlink(part.name)
        raise ValueError(f"{source.url}: sha256 {got}, {source.wrap} expects {source.sha256}")
    os.chmod(part.name, 0o644)
    os.rename(part.name, os.path.join(cache_dir, source.filename))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=os.path.join(ROOT, "subprojects", "packagecache"))
    args = parser.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    status = 0
    for source in wraps.sources(os.path.join(ROOT, "subprojects")):
        if wraps.cached(args.cache, source):
            print(f"{source.filename}: in the cache")
            continue
        try:
            download(source, args.cache)
            print(f"{source.filename}: downloaded from {source.url}")
        except (urllib.error.URLError, OSError) as e:
            print(f"fill_packagecache: cannot fetch {source.url}: {getattr(e, 'reason', e)}", file=sys.stderr)
            status = status or UNREACHABLE
        except ValueError as e:
            print(f"fill_packagecache: {e}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
