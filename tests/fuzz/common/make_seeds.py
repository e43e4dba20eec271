#!/usr/bin/env python3
"""Writes the seeds of fuzz_body_decode into the directory given: gzip and
zstd bodies (whole, with and without a declared size, several frames, a
skippable frame), each behind the byte that picks its decoder and a 1 MiB
limit (fuzz_body_decode.c). zstd frames come from the zstd command (Debian
package zstd)."""
import gzip
import os
import subprocess
import sys
import tempfile

GZIP, ZSTD, ROOMY = 0x00, 0x80, 0x10
TEXT = b"visit notes: agreed the next step with the buyer; " * 40


def zstd(data, *args):
    """A frame of data; from a file, so that it declares its size unless
    args say --no-content-size."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        return subprocess.run(["zstd", "-q", "-c", *args, f.name], check=True,
                              stdout=subprocess.PIPE).stdout


def main(out):
    os.makedirs(out, exist_ok=True)
    skippable = b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"skip"
    seeds = {
        "gzip": bytes([GZIP | ROOMY]) + gzip.compress(TEXT, 1),
        "gzip_small_limit": bytes([GZIP | 0x08]) + gzip.compress(TEXT, 6),
        "zstd_sized": bytes([ZSTD | ROOMY]) + zstd(TEXT, "-1"),
        "zstd_unsized": bytes([ZSTD | ROOMY]) + zstd(TEXT, "-1", "--no-content-size"),
        "zstd_two_frames": bytes([ZSTD | ROOMY]) + zstd(TEXT[:500], "-3") + zstd(TEXT, "-1"),
        "zstd_skippable": bytes([ZSTD | ROOMY]) + skippable + zstd(TEXT, "-1"),
        "zstd_small_limit": bytes([ZSTD | 0x0a]) + zstd(TEXT, "-1", "--no-content-size"),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
