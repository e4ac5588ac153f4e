"""The top level's interface: the bare stream top, or an AXI4-Stream top around it.

``stream``: ports ``clk``, ``rst`` (synchronous, active high), ``i__payload/i__valid/i__ready`` and
``o__payload/o__valid/o__ready`` (Amaranth's stream signature), payloads exactly as wide as the
layouts' beats.

``axis``: the ports Vivado's IP integrator infers an AXI4-Stream interface from, as FINN's cores
have them: ``ap_clk``, ``ap_rst_n`` (synchronous, active low), ``s_axis_tdata/tvalid/tready/tlast``
in and ``m_axis_tdata/tvalid/tready/tlast`` out, TDATA padded to whole bytes (the padding bits of
``s_axis_tdata`` are ignored, those of ``m_axis_tdata`` are 0).

An image is ``beats`` input beats, ``tlast`` on its last one. The result is one output beat with
``tlast`` set: the stream top's output beat in the low bits, then one error bit. The error bit is
set when the image's ``tlast`` did not fall on its last beat:

- ``tlast`` early (a short image): the missing beats are fed to the network as zeros (the sender
  is held off meanwhile), so the next image starts aligned;
- no ``tlast`` on the last beat (a long image): the beats after it up to and including the next
  ``tlast`` are taken and dropped.

Either way the stream never hangs nor misaligns, and exactly one result leaves per image sent.
A register slice on each side of the core keeps the ports' ``tvalid``/``tready`` out of the core's
paths (two cycles of latency; the throughput is the core's).
The error bits wait in a FIFO of ``flag_depth`` entries, one per image whose beats are all in and
whose result is not yet out; when it is full the last beat of the next image waits.
"""

import enum
from dataclasses import dataclass

__all__ = ["Interface", "AxisPlan", "axis_plan"]


class Interface(enum.StrEnum):
    AXIS = "axis"
    STREAM = "stream"


def _bytes(bits: int) -> int:
    return (bits + 7) // 8


@dataclass(frozen=True)
class AxisPlan:
    """Widths and sizes of the AXI4-Stream top around a design with ``beats`` input beats of
    ``beat_bits`` bits per image and ``out_bits``-bit result beats."""

    beats: int
    beat_bits: int
    out_bits: int
    flag_depth: int

    latency = 2  # cycles the top adds: a register slice on each side of the core

    def __post_init__(self):
        if self.beats < 1 or self.beat_bits < 1 or self.out_bits < 1 or self.flag_depth < 1:
            raise ValueError(f"an AXI4-Stream top needs positive sizes, not {self}")

    @property
    def s_tdata_bits(self) -> int:
        return 8 * _bytes(self.beat_bits)

    @property
    def error_bit(self) -> int:
        """Bit of ``m_axis_tdata`` that flags an image whose ``tlast`` was misplaced."""
        return self.out_bits

    @property
    def m_tdata_bits(self) -> int:
        return 8 * _bytes(self.out_bits + 1)

    def to_dict(self) -> dict:
        return {"beats": self.beats, "s_tdata_bits": self.s_tdata_bits, "m_tdata_bits": self.m_tdata_bits,
                "result_bits": self.out_bits, "error_bit": self.error_bit, "flag_depth": self.flag_depth}


def axis_plan(plan) -> AxisPlan:
    """The AXI4-Stream top of a :class:`~hw.plan.Plan`. The error-bit FIFO holds every image the
    pipeline can hold between its last input beat and its result when nothing stalls (latency over
    cycles per image, plus two), so it never slows the stream down by itself."""
    depth = -(-(plan.latency + AxisPlan.latency) // max(1, plan.cycles_per_image)) + 2
    return AxisPlan(plan.input.beats, plan.input.beat_bits, plan.output.beat_bits, depth)
