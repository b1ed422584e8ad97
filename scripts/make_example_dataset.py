"""Write the small object-detection dataset the examples train on.

Fifteen 256 x 256 PNG images, each showing one "bolt" (a long bar) and one "nut" (a
square) at different places, and ``labels.json``: for every image file, its bounding
boxes as fractions of the image (what ``cv.Region`` takes). Fifteen images with a region
of each tag is the minimum Custom Vision asks of an object-detection project, so the
dataset trains both in the emulator and in a real account.

    .venv/bin/python scripts/make_example_dataset.py examples/dataset

The output is deterministic: running it again writes the same bytes.
"""

from __future__ import annotations

import argparse
import json
import struct
import zlib
from pathlib import Path

SIZE = 256
IMAGES = 15
BACKGROUND = (226, 230, 235)
COLOURS = {"bolt": (90, 96, 110), "nut": (176, 120, 48)}


def _png(pixels: list[bytearray]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + bytes(row) for row in pixels)
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _boxes(index: int) -> dict[str, tuple[int, int, int, int]]:
    """Pixel boxes (left, top, width, height) of the bolt and the nut in image ``index``."""
    bolt = (16 + (index * 37) % 96, 24 + (index * 53) % 72, 96 + (index % 4) * 8, 24)
    nut_left = 40 + (index * 29) % 150
    nut = (min(nut_left, SIZE - 56), 150 + (index * 17) % 50, 48, 48)
    return {"bolt": bolt, "nut": nut}


def _image(index: int) -> tuple[bytes, list[dict[str, object]]]:
    pixels = [bytearray(BACKGROUND * SIZE) for _ in range(SIZE)]
    labels: list[dict[str, object]] = []
    for tag, (left, top, width, height) in _boxes(index).items():
        for y in range(top, top + height):
            for x in range(left, left + width):
                pixels[y][3 * x : 3 * x + 3] = bytes(COLOURS[tag])
        labels.append(
            {
                "tag": tag,
                "left": round(left / SIZE, 6),
                "top": round(top / SIZE, 6),
                "width": round(width / SIZE, 6),
                "height": round(height / SIZE, 6),
            }
        )
    return _png(pixels), labels


def write_dataset(directory: Path) -> dict[str, list[dict[str, object]]]:
    """Write the images and ``labels.json`` into ``directory``; return the labels.

    Label keys are the image file names, e.g. ``"part-01.png"``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    labels: dict[str, list[dict[str, object]]] = {}
    for index in range(1, IMAGES + 1):
        data, boxes = _image(index)
        name = f"part-{index:02d}.png"
        (directory / name).write_bytes(data)
        labels[name] = boxes
    (directory / "labels.json").write_text(json.dumps(labels, indent=2) + "\n")
    return labels


def main() -> None:
    """Command line: the target directory."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    directory = parser.parse_args().directory
    write_dataset(directory)
    print(f"wrote {IMAGES} images and labels.json to {directory}")


if __name__ == "__main__":
    main()
