#!/usr/bin/env python3
"""mkarchives.py OUTDIR - the USTAR archives test_ustar reads, written by Python's tarfile.

posix.tar (USTAR_FORMAT) and gnu.tar (GNU_FORMAT) hold the same entries; manifest.txt lists
them one per line as "<kind> <size> <name>" in archive order, kind f (file), d (directory) or
l (symlink). File contents follow one rule both sides know: byte i of a file of n bytes is
(i * 7 + n) % 256. The names cover a 100-character name (no NUL in its field), a long path that
needs the prefix field, sizes 0, 1, 511, 512, 513 and 70000.
"""
import io
import os
import sys
import tarfile


def content(n):
    return bytes((i * 7 + n) % 256 for i in range(n))


def entries():
    long_dir = "d" * 60 + "/" + "e" * 60
    return [
        ("d", "bin", 0),
        ("f", "bin/hello", 1),
        ("f", "empty", 0),
        ("f", "etc/b511", 511),
        ("f", "etc/b512", 512),
        ("f", "etc/b513", 513),
        ("f", "n" * 100, 3),
        ("d", long_dir, 0),
        ("f", long_dir + "/" + "f" * 90, 70000),
        ("l", "bin/link", 0),
        ("f", "./dot/file", 5),
    ]


def write(path, fmt):
    with tarfile.open(path, "w", format=fmt) as tar:
        for kind, name, size in entries():
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if kind == "d":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif kind == "l":
                info.type = tarfile.SYMTYPE
                info.linkname = "hello"
                tar.addfile(info)
            else:
                info.size = size
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(content(size)))


def main():
    out = sys.argv[1]
    write(os.path.join(out, "posix.tar"), tarfile.USTAR_FORMAT)
    write(os.path.join(out, "gnu.tar"), tarfile.GNU_FORMAT)
    with open(os.path.join(out, "manifest.txt"), "w") as m:
        for kind, name, size in entries():
            m.write(f"{kind} {size} {name}\n")


if __name__ == "__main__":
    main()
