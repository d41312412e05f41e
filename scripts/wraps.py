"""The source tarballs the wraps in subprojects/ name, and the package cache
Meson reads them from (subprojects/packagecache/) instead of downloading."""
import configparser
import glob
import hashlib
import os


class Source:
    def __init__(self, wrap, url, filename, sha256):
        self.wrap = wrap
        self.url = url
        self.filename = filename
        self.sha256 = sha256


def sources(subprojects_dir):
    """Every [wrap-file] source of subprojects/*.wrap, in name order."""
    found = []
    for path in sorted(glob.glob(os.path.join(subprojects_dir, "*.wrap"))):
        wrap = configparser.ConfigParser(interpolation=None)
        wrap.read(path)
        if not wrap.has_section("wrap-file"):
            continue
        section = wrap["wrap-file"]
        found.append(Source(os.path.basename(path), section["source_url"], section["source_filename"],
                            section["source_hash"].lower()))
    return found


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached(cache_dir, source):
    """The path of source in cache_dir when it is there with the right hash."""
    path = os.path.join(cache_dir, source.filename)
    return path if os.path.isfile(path) and sha256_of(path) == source.sha256 else None
