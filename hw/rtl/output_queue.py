"""The output end shared by the computing units (MVTU, MST unit, jet unit): an output queue, the
credits that keep their datapaths from ever stalling, and the assembly of group results."""

from amaranth import Cat, Signal
from amaranth.lib import wiring

from .stream_fifo import StreamFIFO

__all__ = ["output_queue", "assemble"]


def output_queue(m, unit, plan, start):
    """Add ``unit``'s output queue (a :class:`StreamFIFO` built from ``plan``, feeding ``unit.o``)
    and its credits: ``start`` (an input signal of the caller's logic) reserves an entry when a
    vector starts, a result leaving ``o`` frees one. Returns ``(queue, room, room_next)``: ``room``, a
    register (so what it gates starts at a flip-flop), is high while an entry is free, so a vector
    may start; the queue's input never sees a full queue. ``room_next`` is its next value (for a
    caller that registers a function of it)."""
    m.submodules.queue = queue = StreamFIFO(plan)
    wiring.connect(m, queue.o, wiring.flipped(unit.o))
    reserved = Signal(range(plan.entries + 1))
    room = Signal(init=1)
    nxt = Signal(range(plan.entries + 2))
    room_next = Signal()
    m.d.comb += [nxt.eq(reserved + start - (unit.o.valid & unit.o.ready)), room_next.eq(nxt < plan.entries)]
    m.d.sync += [reserved.eq(nxt), room.eq(room_next)]
    return queue, room, room_next


def assemble(m, queue, valid, g, nf, groups):
    """Results arrive one group of PE channels at a time, in group order, while ``valid``, the
    group's index being ``g``; per vector (``groups[j]``, the group's results), groups
    ``0 .. nf - 2`` shift into an assembly register, and the last completes the vector's result,
    written into ``queue`` with the other vectors' (vector ``j`` at ``[j*w, (j+1)*w)``)."""
    beats = []
    for j, group in enumerate(groups):
        width = len(group)
        if nf > 1:
            asm = Signal((nf - 1) * width, name=f"asm{j}")
            with m.If(valid & (g != nf - 1)):  # groups arrive in order: shift in at the top
                m.d.sync += asm.eq(Cat(asm[width:], group) if nf > 2 else group)
            beats.append(Cat(asm, group))
        else:
            beats.append(group)
    m.d.comb += [queue.i.valid.eq(valid & (g == nf - 1)), queue.i.payload.eq(Cat(*beats))]
