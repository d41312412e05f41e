#!/usr/bin/env python3
"""Makes a tool's golden input from recordings of real runs.

Usage: sample_events.py OUT RECORDING...

RECORDINGs are files a tool wrote under CORESCOPE_RECORD_EVENTS (a u32
size, then the bytes, per event). OUT gets a sample of them in the same
format, in the order recorded: the first events, the largest and smallest,
and those holding an escape byte (the hostile-name tests make them), each
at most once, 24 at most."""
import sys


def events(path):
    data = open(path, "rb").read()
    at = 0
    while at + 4 <= len(data):
        size = int.from_bytes(data[at:at + 4], sys.byteorder)
        yield data[at + 4:at + 4 + size]
        at += 4 + size


def main():
    out, recordings = sys.argv[1], sys.argv[2:]
    recorded = [e for path in recordings for e in events(path)]
    if not recorded:
        sys.exit("sample_events.py: no events in " + " ".join(recordings))
    by_size = sorted(range(len(recorded)), key=lambda i: len(recorded[i]))
    wanted = list(range(min(12, len(recorded))))
    wanted += by_size[-2:] + by_size[:1]
    wanted += [i for i, e in enumerate(recorded) if b"\x1b" in e][:4]
    chosen, seen = [], set()
    for i in sorted(set(wanted)):
        if recorded[i] not in seen:
            seen.add(recorded[i])
            chosen.append(recorded[i])
    with open(out, "wb") as f:
        for e in chosen[:24]:
            f.write(len(e).to_bytes(4, sys.byteorder) + e)


main()
