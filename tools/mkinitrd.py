#!/usr/bin/env python3
"""mkinitrd.py OUT.tar ARCHIVE_PATH=FILE... - pack files into a POSIX USTAR archive.

The archive is reproducible: entries in the order given (parent directories first, once
each), owner 0:0 without names, mtime 0, mode 0755 for files whose source is executable and
0644 otherwise. Python's tarfile writes it in USTAR format (no pax or GNU extensions), which is
what libexec's reader accepts; a path too long for USTAR's prefix/name fields is an error here
rather than an archive the kernel cannot read.
"""
import io
import os
import sys
import tarfile


def add_dirs(tar, seen, path):
    parts = path.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        d = "/".join(parts[:i])
        if d in seen:
            continue
        seen.add(d)
        info = tarfile.TarInfo(d)
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        info.mtime = 0
        tar.addfile(info)


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    out = argv[1]
    entries = []
    for arg in argv[2:]:
        name, sep, src = arg.partition("=")
        if not sep or not name or not src:
            sys.stderr.write(f"mkinitrd.py: expected ARCHIVE_PATH=FILE, got {arg!r}\n")
            return 2
        entries.append((name.strip("/"), src))
    tmp = out + ".tmp"
    seen = set()
    with tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, src in entries:
            add_dirs(tar, seen, name)
            with open(src, "rb") as f:
                data = f.read()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if os.access(src, os.X_OK) else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
