#!/usr/bin/env python3
"""Fashion-MNIST for the GPU machine, small enough for the device tool's 64 MiB carry.

    python3 scripts/fashion-mnist-subset.py 20000 OUT_DIR [SRC_DIR]     first 20,000 training images + t10k, IDX .gz
    python3 scripts/fashion-mnist-subset.py --xz all OUT_DIR [SRC_DIR]  all 60,000 + t10k, IDX .xz (26.5 MiB
                                                                        against 30.9 as .gz)
    python3 scripts/fashion-mnist-subset.py --unpack XZ_DIR DIR         (on the GPU machine) the .xz files as
                                                                        plain IDX files in DIR, for train --data DIR

SRC_DIR defaults to /usr/share/datasets/fashion-mnist. A subset's header count is rewritten to N; nothing
else changes (pixels stay bytes, labels stay bytes)."""
import gzip
import lzma
import struct
import sys
from pathlib import Path

NAMES = {"train-images-idx3-ubyte": 28 * 28, "train-labels-idx1-ubyte": 1,
         "t10k-images-idx3-ubyte": 28 * 28, "t10k-labels-idx1-ubyte": 1}


def subset(src: Path, count, item_bytes: int) -> bytes:
    """The IDX file src (.gz) with its first count items (None: all of them)."""
    with gzip.open(src, "rb") as f:
        magic, total = struct.unpack(">II", f.read(8))
        dims = (magic & 0xFF) - 1
        rest = f.read(4 * dims)
        if count is None:
            count = total
        if count > total:
            sys.exit(f"{src}: holds {total} items, fewer than the {count} asked for")
        data = f.read(count * item_bytes)
    if len(data) != count * item_bytes:
        sys.exit(f"{src}: ends after {len(data)} of {count * item_bytes} data bytes")
    return struct.pack(">II", magic, count) + rest + data


def write(out: Path, name: str, data: bytes, xz: bool) -> None:
    target = out / (name + (".xz" if xz else ".gz"))
    temp = target.with_name(target.name + ".tmp")
    with (lzma.open(temp, "wb", preset=9 | lzma.PRESET_EXTREME) if xz else gzip.open(temp, "wb")) as f:
        f.write(data)
    temp.replace(target)


def unpack(src: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        temp = out / (name + ".tmp")
        with lzma.open(src / (name + ".xz"), "rb") as f:
            temp.write_bytes(f.read())
        temp.replace(out / name)
    print(f"{out}: {', '.join(NAMES)} unpacked from {src}")


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--unpack"] and len(args) == 3:
        unpack(Path(args[1]), Path(args[2]))
        return
    xz = args[:1] == ["--xz"]
    if xz:
        args = args[1:]
    if len(args) not in (2, 3):
        sys.exit(__doc__)
    n = None if args[0] == "all" else int(args[0])
    out = Path(args[1])
    src = Path(args[2] if len(args) == 3 else "/usr/share/datasets/fashion-mnist")
    out.mkdir(parents=True, exist_ok=True)
    for name, item_bytes in NAMES.items():
        write(out, name, subset(src / (name + ".gz"), n if name.startswith("train") else None, item_bytes), xz)
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"{out}: {n if n is not None else 'all'} training images, 10000 test images, {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
