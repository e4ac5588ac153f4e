"""How a memory is built: the one rule that maps a table or a queue to block RAM, LUTs or LUT RAM.

The style is fixed in the RTL (Yosys ``rom_style``/``ram_style`` attributes), so synthesis does not
choose and the estimator's block RAM counts are exact.
"""

from enum import StrEnum

__all__ = ["MemoryStyle", "memory_style", "range_bits"]


class MemoryStyle(StrEnum):
    """Where a memory's bits live."""

    BLOCK = "block"              # block RAM
    LOGIC = "logic"              # a read-only table in LUTs (read into a register)
    DISTRIBUTED = "distributed"  # LUT RAM
    WIRED = "wired"              # no memory: constants in the logic


def memory_style(depth: int, width: int, read_only: bool, rom_words: int = 64) -> MemoryStyle:
    """Weight ROMs of up to ``rom_words`` words become logic (one LUT per output bit: 64 words in a
    LUT6, 16 in a LUT4), larger ones block RAM. Queues of up to 64 entries or 2 kbit use
    distributed (LUT) RAM, larger ones block RAM."""
    if read_only:
        return MemoryStyle.LOGIC if depth <= rom_words else MemoryStyle.BLOCK
    return MemoryStyle.DISTRIBUTED if depth <= 64 or depth * width <= 2048 else MemoryStyle.BLOCK


def range_bits(n: int) -> int:
    """Width of a counter over ``range(n)`` (Amaranth's ``Signal(range(n))``)."""
    return max(0, (int(n) - 1).bit_length())
