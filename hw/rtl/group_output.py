from functools import reduce

from amaranth import Cat, Signal

__all__ = ["group_output"]


def group_output(m, o, en, done, g, nf, group):
    """The output end shared by the folded units (MVTU, jet unit): results arrive one group of PE
    channels at a time, in group order; groups ``0 .. nf - 2`` shift into an assembly register, and
    the last completes the output beat, registered on ``o``.

    ``done`` are the flags (ANDed) that say a group's result is on ``group`` this cycle, ``g`` the
    group's index. Drives ``en``, the pipeline enable: every stage holds while a completed beat
    cannot leave (``o`` valid and not ready).
    """
    completing = Signal()
    m.d.comb += completing.eq(reduce(lambda a, b: a & b, done) & (g == nf - 1))
    m.d.comb += en.eq(~(o.valid & ~o.ready & completing))
    with m.If(o.ready):
        m.d.sync += o.valid.eq(0)
    if nf > 1:
        width = len(group)
        asm = Signal((nf - 1) * width)
        with m.If(reduce(lambda a, b: a & b, done, en) & (g != nf - 1)):  # groups arrive in order: shift in at the top
            m.d.sync += asm.eq(Cat(asm[width:], group) if nf > 2 else group)
        payload = Cat(asm, group)
    else:
        payload = group
    with m.If(en & completing):
        m.d.sync += [o.valid.eq(1), o.payload.eq(payload)]
