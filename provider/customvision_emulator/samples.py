"""Tiny valid images made in memory, each one different, for seeding the emulator.

The service (and the emulator) deduplicates images by content, so seeding a project with
``n`` images needs ``n`` different files::

    from customvision_emulator.samples import png

    client.create_images_from_data(project_id, [png(i) for i in range(5)], tag_ids=[tag_id])

``png(n)`` is a complete RGB PNG (signature, IHDR, IDAT, IEND with correct CRCs) whose
pixels encode ``n``; ``bmp(n)`` is the same idea as a 24-bit BMP. Both are unique for each
``0 <= n < 2**48`` and read by the emulator's size detection (and by image libraries).
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["bmp", "png"]

_SEED_BYTES = 6  # n < 2**48: two RGB pixels


def _seed(n: int) -> bytes:
    if not 0 <= n < 2 ** (8 * _SEED_BYTES):
        raise ValueError(f"n must be between 0 and 2**48 - 1, got {n}")
    return n.to_bytes(_SEED_BYTES, "big")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(n: int, width: int = 2, height: int = 2) -> bytes:
    """A valid PNG of ``width`` x ``height`` pixels (``width`` >= 2), unique for each ``n``.

    Every row repeats the two pixels that encode ``n``.
    """
    if width < 2 or height < 1:
        raise ValueError(f"a sample PNG is at least 2x1 pixels, got {width}x{height}")
    seed = _seed(n)
    row = b"".join(seed[(3 * x) % 6 : (3 * x) % 6 + 3] for x in range(width))
    raw = b"".join(b"\x00" + row for _ in range(height))  # filter type 0 before each row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def bmp(n: int) -> bytes:
    """A valid 2x2 24-bit BMP, unique for each ``n``."""
    rows = (_seed(n) + b"\x00\x00") * 2  # two rows of two pixels, padded to 4 bytes
    header = struct.pack("<2sIHHI", b"BM", 54 + len(rows), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, 2, 2, 1, 24, 0, len(rows), 2835, 2835, 0, 0)
    return header + info + rows
