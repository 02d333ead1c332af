"""corpus.py - the fuzz corpora are kept as tests/fuzz/corpus/NAME.tar.xz.

Mutated inputs share most of their bytes (a cubin corpus is a few hundred
variants of one 17 KB file), so a corpus that is megabytes as files is
kilobytes as one xz tarball.  Python's tarfile/lzma: no xz binary needed.

    python3 tests/fuzz/corpus.py unpack NAME.tar.xz DIR   (files into DIR)
    python3 tests/fuzz/corpus.py pack DIR NAME.tar.xz     (DIR's files, sorted, fixed metadata)
"""
import io
import os
import sys
import tarfile


def unpack(archive, out):
    os.makedirs(out, exist_ok=True)
    with tarfile.open(archive, "r:xz") as t:
        for m in t.getmembers():
            name = os.path.basename(m.name)
            if not m.isfile() or not name or name.startswith("."):
                continue  # plain files only, never a path outside out
            with open(os.path.join(out, name), "wb") as f:
                f.write(t.extractfile(m).read())


def pack(d, archive):
    tmp = archive + ".tmp"
    with tarfile.open(tmp, "w:xz", preset=9) as t:
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            if not os.path.isfile(p):
                continue
            data = open(p, "rb").read()
            ti = tarfile.TarInfo(name)  # reproducible: no owner, time or mode from the disk
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
            t.addfile(ti, io.BytesIO(data))
    os.replace(tmp, archive)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("pack", "unpack"):
        sys.exit(__doc__)
    (unpack if sys.argv[1] == "unpack" else pack)(sys.argv[2], sys.argv[3])
