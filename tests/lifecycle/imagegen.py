"""Moved to :mod:`customvision_emulator.samples`; kept as a re-export for the benchmarks."""

from customvision_emulator.samples import bmp, png

__all__ = ["bmp", "png"]
