"""Tiny valid images made in memory, each one different, for seeding tests and benchmarks.

``png(n)`` is a complete 2x2 RGB PNG (signature, IHDR, IDAT, IEND with correct CRCs) whose
pixels encode ``n``, so every ``n`` gives different bytes (the service deduplicates images
by content). ``bmp(n)`` is the same idea as a 24-bit BMP.
"""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(n: int, width: int = 2, height: int = 2) -> bytes:
    """A valid PNG of ``width`` x ``height`` pixels, unique for each ``n`` (< 2**48)."""
    seed = n.to_bytes(6, "big")
    row = b"".join(seed[(3 * x) % 6 : (3 * x) % 6 + 3] for x in range(width))
    raw = b"".join(b"\x00" + row for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def bmp(n: int) -> bytes:
    """A valid 2x2 24-bit BMP, unique for each ``n`` (< 2**48)."""
    seed = n.to_bytes(6, "big")
    rows = (seed + b"\x00\x00") * 2  # two rows of two pixels, padded to 4 bytes
    header = struct.pack("<2sIHHI", b"BM", 54 + len(rows), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, 2, 2, 1, 24, 0, len(rows), 2835, 2835, 0, 0)
    return header + info + rows
