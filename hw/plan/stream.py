"""Small stream units: OR pooling, width converters, the queues, the argmax."""

from dataclasses import dataclass
from enum import StrEnum

from ..errors import BitfoldError
from .memory import MemoryStyle, memory_style, range_bits

__all__ = ["OrPoolPlan", "GatherPlan", "SplitPlan", "QueueKind", "FifoPlan", "SkidPlan", "ArgMaxPlan",
           "FLOPS_PER_ENABLE", "spans"]

#: The most flip-flops one copy of an enable drives in a wide register (a sliding window's line
#: buffer and window register, a queue's read data): nextpnr does not replicate a high fan-out
#: enable, so the units do.
FLOPS_PER_ENABLE = 128
#: Read slices of a queue in LUT RAM are multiples of this many bits (LUT RAM cells hold 4 bits
#: per word on ECP5, 3 or 6 on xc7).
SLICE_QUANTUM = 12


def spans(bits, n, quantum=1) -> list:
    """``n`` ranges ``(start, stop)`` of nearly equal size covering ``bits`` bits, each starting at a
    multiple of ``quantum`` (the slices of a register that copies of its enable drive)."""
    if not bits or not n:
        return []
    units = -(-bits // quantum)
    cuts = [min(bits, quantum * (units * k // n)) for k in range(n + 1)]
    return list(zip(cuts, cuts[1:], strict=False))


@dataclass(frozen=True)
class OrPoolPlan:
    """Binary max-pooling of ``windows`` windows per beat: per window the OR, channel by channel, of
    its ``pixels`` pixels. Registered output, full throughput."""

    pixels: int
    channels: int
    windows: int = 1

    @property
    def i_width(self) -> int:
        return self.windows * self.pixels * self.channels

    @property
    def o_width(self) -> int:
        return self.windows * self.channels

    cycles_per_vector = 1
    latency = 1
    memory_bits = 0

    @property
    def register_bits(self) -> int:
        return self.o_width + 1


@dataclass(frozen=True)
class GatherPlan:
    """Narrow to wide: ``count`` beats of ``width`` bits become one beat, the first in the least
    significant bits. Each beat is written into its slot of the output register (a one-hot
    pointer); the next vector's first beat is taken when the consumer takes this one."""

    width: int
    count: int

    def __post_init__(self):
        if self.width < 1 or self.count < 1:
            raise BitfoldError(f"Gather needs a positive width and count, not {self.width} and {self.count}")

    @property
    def i_width(self) -> int:
        return self.width

    @property
    def o_width(self) -> int:
        return self.width * self.count

    latency = 1
    memory_bits = 0

    @property
    def register_bits(self) -> int:
        if self.count == 1:
            return self.width + 1
        return self.o_width + self.count + 1  # the slots, the pointer, the full flag


@dataclass(frozen=True)
class SplitPlan:
    """Wide to narrow: one beat of ``width * count`` bits becomes ``count`` beats of ``width``, the
    least significant first. The wide beat waits in a register that shifts by ``width`` per beat out;
    the next wide beat loads as the last narrow one leaves: no bubble."""

    width: int
    count: int

    def __post_init__(self):
        if self.width < 1 or self.count < 2:
            raise BitfoldError(f"Split needs a positive width and a count of at least 2, not {self.width} and "
                               f"{self.count}")

    @property
    def i_width(self) -> int:
        return self.width * self.count

    @property
    def o_width(self) -> int:
        return self.width

    latency = 1
    memory_bits = 0

    @property
    def register_bits(self) -> int:
        """The shift register, the beat counter and the valid flag."""
        return self.i_width + range_bits(self.count) + 1


class QueueKind(StrEnum):
    """The queue after every layer: ``sized`` (as deep as the producer's and consumer's schedules
    need, see :mod:`hw.plan.queues`), ``image`` (deep enough for one image of the layer's output),
    ``skid`` (a two-entry register slice, least area) or ``none``."""

    SIZED = "sized"
    IMAGE = "image"
    SKID = "skid"
    NONE = "none"


@dataclass(frozen=True)
class FifoPlan:
    """A first-in first-out queue: ``depth - 1`` entries in a memory whose synchronous read port's
    data register is the output; ``i.ready`` and ``o.valid`` come from registers. A wide queue in
    LUT RAM is read in :attr:`read_slices` (see there)."""

    width: int
    depth: int

    def __post_init__(self):
        if self.depth < 3:
            raise BitfoldError(f"StreamFIFO depth must be at least 3, not {self.depth}")

    @property
    def read_slices(self) -> tuple:
        """The bit ranges ``(start, stop)`` of the output, each read from its own memory through its
        own copy of the read pointer and of the valid and non-empty flags (``keep``), so that no
        read enable drives more than about :data:`FLOPS_PER_ENABLE` output flip-flops. LUT RAM
        only: its read data register is fabric flip-flops (a block RAM's is inside the block).
        Slices are whole multiples of 12 bits, so each family's LUT RAM cells (4, 3 or 6 bits wide)
        fill as in one memory. One slice (no copies) for a narrower queue."""
        n = -(-self.width // FLOPS_PER_ENABLE)
        if self.style != MemoryStyle.DISTRIBUTED or n < 2:
            return ((0, self.width),)
        return tuple(spans(self.width, n, SLICE_QUANTUM))

    @property
    def entries(self) -> int:
        """Entries held in the memory."""
        return self.depth - 1

    @property
    def style(self) -> MemoryStyle:
        return memory_style(self.entries, self.width, read_only=False)

    @property
    def i_width(self) -> int:
        return self.width

    o_width = i_width
    latency = 2

    @property
    def register_bits(self) -> int:
        """The write and read pointers, the level and the valid flag; per further read slice, its
        read pointer and its valid and non-empty flags."""
        copies = len(self.read_slices) - 1
        return 2 * range_bits(self.entries) + range_bits(self.entries + 1) + 1 + copies * (range_bits(self.entries) + 2)

    @property
    def memory_bits(self) -> int:
        return self.entries * self.width


@dataclass(frozen=True)
class SkidPlan:
    """Two-entry register slice: full throughput, ``i.ready`` from a register."""

    width: int

    @property
    def i_width(self) -> int:
        return self.width

    o_width = i_width
    latency = 1
    memory_bits = 0

    @property
    def register_bits(self) -> int:
        return 2 * self.width + 2


@dataclass(frozen=True)
class ArgMaxPlan:
    """Class of a score vector (lowest index on ties) and the scores: a tree of compare-selects with
    a register after every level (so each level is one compare), into an output queue with credits
    (the levels never stall)."""

    classes: int
    score_width: int

    @property
    def class_bits(self) -> int:
        return max(1, (self.classes - 1).bit_length())

    @property
    def levels(self) -> int:
        """Compare levels of the tree (at least one register stage)."""
        return max(1, (self.classes - 1).bit_length())

    @property
    def i_width(self) -> int:
        return self.classes * self.score_width

    @property
    def o_width(self) -> int:
        return self.class_bits + self.i_width

    cycles_per_vector = 1

    @property
    def latency(self) -> int:
        """The levels, then the output queue."""
        return self.levels + FifoPlan.latency

    @property
    def credits(self) -> int:
        return self.latency + 2

    @property
    def queue(self) -> FifoPlan:
        return FifoPlan(self.o_width, self.credits + 1)

    @property
    def register_bits(self) -> int:
        """Per level: its valid flag, the scores carried along, the candidates' indices and (but
        after the last level) values; the credit counter and the queue."""
        bits, n = 0, self.classes
        for d in range(self.levels):
            n = (n + 1) // 2 if n > 1 else 1
            bits += 1 + self.i_width + n * (self.class_bits + (self.score_width if d < self.levels - 1 else 0))
        return bits + range_bits(self.queue.entries + 1) + 1 + self.queue.register_bits

    @property
    def memory_bits(self) -> int:
        return self.queue.memory_bits
