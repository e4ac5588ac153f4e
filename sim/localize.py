"""Find where an image first goes wrong in hardware: the layer and the channel.

The image is run through the built design in the Amaranth simulator while the output stream of
every layer is recorded; each layer's beats are decoded into the IR's tensor layout and compared
with the reference's output of that layer. If every layer agrees there, the Amaranth design is
right and the difference arose on the way to Verilog or in Verilator, and the result says so.
"""

import numpy as np
from amaranth.sim import Simulator

from hw.ir import interp
from hw.ir.graph import Conv, Dense, MaxPool
from hw.plan import Popcount, QueueKind, plan_graph

from .stream import amaranth_put

__all__ = ["localize", "layer_outputs"]


def layer_outputs(graph, codes, max_cycles=200_000, trace=None, queues=QueueKind.SIZED, popcount=Popcount()):
    """Run one image (``codes`` of the input shape) through the Amaranth model of the design and
    return ``{layer name: list of output beats}`` for every layer. If ``trace`` is a dict, it
    receives ``{layer name: (valid, ready) per cycle}``, a waveform of every layer's output stream."""
    from hw.rtl.build import dataflow

    plan = plan_graph(graph, queues, popcount)
    inl = plan.input
    # beats per image on each layer's output: one per window for window layers, else one vector
    expect = {layer.name: layer.window.windows if layer.window else 1 for layer in plan.layers}
    beats = inl.beats_of(inl.images(codes[None])[0])
    top = dataflow(plan)
    components = dict(top.stages)
    # a layer's result leaves its last compute stage (before its queue)
    taps = {layer.name: components[layer.compute[-1].name].o for layer in plan.layers}
    seen = {name: [] for name in taps}
    sim = Simulator(top)
    sim.add_clock(1e-8)

    async def source(ctx):
        await amaranth_put(ctx, top.i, beats)

    async def monitor(ctx):
        ctx.set(top.o.ready, 1)
        order = list(taps)
        sampled = [s for n in order for s in (taps[n].valid, taps[n].ready, taps[n].payload)]
        cycles = 0
        async for _, _, *vals in ctx.tick().sample(*sampled):
            for j, name in enumerate(order):
                valid, ready, payload = vals[3 * j:3 * j + 3]
                if valid and ready:
                    seen[name].append(int(payload))
                if trace is not None:
                    trace.setdefault(name, []).append((int(valid), int(ready)))
            cycles += 1
            if all(len(seen[n]) >= expect[n] for n in order) or cycles > max_cycles:
                return

    sim.add_testbench(source, background=True)
    sim.add_testbench(monitor)
    sim.run()
    return seen


def _decode(node, beats):
    """Layer output beats -> the IR tensor (C, H, W) or (C,) of bits, or scores."""
    t = node.out
    c = t.shape[0]
    if len(t.shape) == 3:
        _, h, w = t.shape
        bits = np.array([[(b >> k) & 1 for k in range(c)] for b in beats], dtype=np.uint8)
        return bits.reshape(h, w, c).transpose(2, 0, 1) if len(bits) == h * w else None
    if not beats:
        return None
    return np.array([(beats[0] >> k) & 1 for k in range(c)], dtype=np.uint8)


def localize(graph, codes, design=None, queues=QueueKind.SIZED, popcount=Popcount()) -> dict:
    """``{"layer", "channel", "position", "note"}`` for the first layer whose hardware output
    differs from the reference on this image. ``design`` is the graph the hardware was built from,
    if it differs from the reference's (tests use this to plant a fault)."""
    ref = interp.run(graph, codes[None], from_codes=True, keep=True)
    seen = layer_outputs(design or graph, codes, queues=queues, popcount=popcount)
    nodes = list(graph.nodes)
    for name, beats in seen.items():
        if name not in {n.name for n in nodes}:
            continue
        i = next(j for j, n in enumerate(nodes) if n.name == name)
        node = nodes[i]
        out_node = nodes[i + 1] if isinstance(node, Dense | Conv) else node
        if isinstance(node, Dense | Conv) and out_node.op == "Scores":
            continue  # the scores are compared by the caller
        if not isinstance(node, Dense | Conv | MaxPool):
            continue
        got = _decode(out_node, beats)
        want = ref[out_node.name][0]
        if got is None:
            return {"layer": name, "channel": None, "position": None,
                    "note": f"layer {name} produced {len(beats)} beats in the Amaranth simulation, "
                            "fewer than the image needs"}
        if not np.array_equal(got, want):
            idx = np.argwhere(got != want)[0]
            return {"layer": name, "channel": int(idx[0]), "position": [int(v) for v in idx[1:]],
                    "note": "found by re-running the image in the Amaranth simulator"}
    return {"layer": None, "channel": None, "position": None,
            "note": "every layer matches the reference in the Amaranth simulation of this image: the "
                    "difference arises in the emitted Verilog or in Verilator"}
