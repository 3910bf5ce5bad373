#!/usr/bin/env python3
"""Writes the first N training images and labels of Fashion-MNIST, plus the whole t10k test set, as IDX .gz
files into OUT_DIR, so that a GPU run can carry the data beside .device/ within the device tool's 64 MiB.

    python3 scripts/fashion-mnist-subset.py 20000 .device-data [/usr/share/datasets/fashion-mnist]

The header's count is rewritten to N; nothing else changes (pixels stay bytes, labels stay bytes)."""
import gzip
import shutil
import struct
import sys
from pathlib import Path


def subset(src: Path, dst: Path, count: int, item_bytes: int) -> None:
    with gzip.open(src, "rb") as f:
        magic, total = struct.unpack(">II", f.read(8))
        dims = (magic & 0xFF) - 1
        rest = f.read(4 * dims)
        if count > total:
            sys.exit(f"{src}: holds {total} items, fewer than the {count} asked for")
        data = f.read(count * item_bytes)
    with gzip.open(dst, "wb") as out:
        out.write(struct.pack(">II", magic, count) + rest + data)


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    n, out = int(sys.argv[1]), Path(sys.argv[2])
    src = Path(sys.argv[3] if len(sys.argv) == 4 else "/usr/share/datasets/fashion-mnist")
    out.mkdir(parents=True, exist_ok=True)
    subset(src / "train-images-idx3-ubyte.gz", out / "train-images-idx3-ubyte.gz", n, 28 * 28)
    subset(src / "train-labels-idx1-ubyte.gz", out / "train-labels-idx1-ubyte.gz", n, 1)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copyfile(src / name, out / name)
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"{out}: {n} training images, 10000 test images, {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
