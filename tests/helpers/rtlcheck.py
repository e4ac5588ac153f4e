"""Reference beats for the RTL components, built from the IR reference ops (hw.ir.interp), and a
runner that streams them through a component in the Amaranth simulator or under Verilator."""

import numpy as np

from hw.ir import interp
from sim.stream import Gaps

__all__ = ["lint_clean", "pack", "unpack", "run", "simulate_clocked", "mvtu_case", "window_case", "jet_case",
           "mst_case", "PopcountStream"]


def simulate_clocked(dut, testbench):
    """Run ``testbench`` against ``dut`` in the Amaranth simulator with a ``sync`` clock, which a
    component that may have no registers of its own (a combinational tree) does not create."""
    from amaranth import Module, Signal
    from amaranth.sim import Simulator

    top = Module()
    top.submodules.dut = dut
    tick = Signal()
    top.d.sync += tick.eq(~tick)
    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()


def pack(values, bits):
    """Elements (last axis) -> one int per row, element 0 in the low bits (two's complement)."""
    values = np.asarray(values, dtype=np.int64)
    mask = (1 << bits) - 1
    out = []
    for row in values.reshape(-1, values.shape[-1]):
        v = 0
        for j, e in enumerate(row.tolist()):
            v |= (int(e) & mask) << (j * bits)
        out.append(v)
    return out


def unpack(beats, count, bits, signed=False):
    out = []
    for b in beats:
        row = [(b >> (j * bits)) & ((1 << bits) - 1) for j in range(count)]
        if signed:
            row = [v - (1 << bits) if v >> (bits - 1) else v for v in row]
        out.append(row)
    return np.array(out, dtype=np.int64)


def run(component, beats, n_out, backend="amaranth", tmp_path=None, gap=0.3, seed=0, cycles=None):
    """Stream ``beats`` through ``component`` with random valid gaps and back-pressure."""
    if backend == "amaranth":
        from sim.amaranth_run import run_stream

        return run_stream(component, beats, n_out, Gaps(gap, seed), Gaps(gap, seed + 1), cycles=cycles,
                          max_cycles=200 * (len(beats) + n_out) + 20_000)
    from sim.components import run_component

    return run_component(component, beats, n_out, tmp_path, in_gap=gap, out_gap=gap, seed=seed)


def mvtu_case(rng, k, o, in_bits, in_signed, vectors, out="threshold"):
    """Random weights, inputs, and the IR reference's outputs for an MVTU."""
    w = rng.integers(0, 2, (o, k), dtype=np.uint8)
    if in_bits == 0:
        x = rng.integers(0, 2, (vectors, k))
        acc = interp.binary_dense(x.astype(np.uint8), w)  # dot = 2p - K
        hw_acc = (acc + k) // 2  # the popcount the hardware compares
    else:
        lo, hi = (-(2 ** (in_bits - 1)), 2 ** (in_bits - 1) - 1) if in_signed else (0, 2**in_bits - 1)
        x = rng.integers(lo, hi + 1, (vectors, k))
        acc = interp.int_dense(x, w)
        hw_acc = acc
    return w, x, acc, hw_acc


def window_case(x, kernel, stride, pads, pad_value):
    """Reference windows in hardware order (KH, KW, C) from the IR's im2col (C, KH, KW)."""
    cols = interp.conv_windows(x, kernel, stride, pads, pad_value)
    n, oh, ow, _ = cols.shape
    c = x.shape[1]
    kh, kw = kernel
    return cols.reshape(n, oh, ow, c, kh, kw).transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, -1)


def jet_case(rng, o, c, in_bits, constrained, n=8):
    if constrained:
        co = np.zeros((o, c, 9), np.int64)
        co[np.arange(o)[:, None], np.arange(c)[None, :], rng.integers(0, 9, (o, c))] = rng.choice([-1, 1], (o, c))
    else:
        co = rng.integers(-1, 2, (o, c, 9))
    win = rng.integers(0, 2 ** max(1, in_bits), (n, 9, c))
    x = 2 * win - 1 if in_bits == 0 else win
    from hw.ir.jets import jets

    acc = np.einsum("ncj,ocj->no", jets(x.transpose(0, 2, 1).reshape(n, c, 3, 3)), co)
    t = rng.integers(acc.min(), acc.max() + 1, o)
    d = rng.choice([-1, 1], o)
    return co, win, interp.threshold(acc, t, d), t, d


def mst_case(rng, o, k, bound, n=12, prototypes=3, flip=0.15):
    """An MST unit's weights (noisy copies of a few prototypes, as MST training makes them), its
    schedule within ``bound``, inputs, thresholds on the popcount and the reference output bits."""
    from hw.mst import mst_schedule

    base = rng.integers(0, 2, (prototypes, k), dtype=np.uint8)
    w = (base[rng.integers(0, prototypes, o)] ^ (rng.random((o, k)) < flip)).astype(np.uint8)
    x = rng.integers(0, 2, (n, k), dtype=np.uint8)
    pop = interp.xnor_popcount(interp.pack_bits(x), interp.pack_bits(w), k)
    t, d = rng.integers(0, k + 1, o), rng.choice([-1, 1], o)
    return w, mst_schedule(w, bound).parents, x, t, d, interp.threshold(pop, t, d)


class PopcountStream:
    """A :class:`~hw.rtl.compressor_tree.CompressorTree` behind streams, as a unit drives it: one
    beat ``x | w << n`` in, its count out; the tree's ``en`` is high while the output can move, and
    a valid flag travels beside each register stage."""

    def __new__(cls, plan):
        from amaranth import Module, Signal
        from amaranth.lib import stream, wiring
        from amaranth.lib.wiring import In, Out

        from hw.rtl.compressor_tree import CompressorTree

        class _PopcountStream(wiring.Component):
            def __init__(self):
                width = plan.n * (2 if plan.variable else 1)
                super().__init__({"i": In(stream.Signature(width)), "o": Out(stream.Signature(plan.out_width))})

            def elaborate(self, platform):
                m = Module()
                m.submodules.tree = tree = CompressorTree(plan)
                m.d.comb += tree.x.eq(self.i.payload[:plan.n])
                if plan.variable:
                    m.d.comb += tree.w.eq(self.i.payload[plan.n:])
                m.d.comb += self.o.payload.eq(tree.count)
                if plan.latency == 0:
                    m.d.comb += [self.o.valid.eq(self.i.valid), self.i.ready.eq(self.o.ready)]
                    return m
                en = Signal()
                valid = Signal(plan.latency)
                m.d.comb += [en.eq(~self.o.valid | self.o.ready), tree.en.eq(en), self.i.ready.eq(en),
                             self.o.valid.eq(valid[-1])]
                with m.If(en):
                    m.d.sync += valid.eq((valid << 1) | self.i.valid)
                return m

        return _PopcountStream()


def lint_clean(rtl_dir):
    """The Verilog compiled into ``rtl_dir`` (as its ``manifest.json`` names it) has no Verilator
    -Wall warning beyond its waiver file's."""
    import json

    from sim.lint import lint

    man = json.loads((rtl_dir / "manifest.json").read_text())
    r = lint(rtl_dir / man["verilog"], man["top"], rtl_dir / man["lint_waivers"])
    assert r["warnings"] == 0, r["messages"]
