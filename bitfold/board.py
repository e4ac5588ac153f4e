"""``bitfold board``: stream a run's test split through a board that runs its bitstream, over the
UART link of :mod:`hw.plan.board`, and compare every result with the IR reference.

The same host code drives a real serial port (pyserial) and, with ``--simulate``, the board top
under Verilator (:func:`simulate_board`: the UART bridge, the power-on reset and the compiled core's
Verilog, as in the bitstream), bit by bit on its UART lines, so the link is proved without a board.
"""

import os
import shutil
import time

from hw.errors import BitfoldError
from hw.plan.board import IMAGE, RESULT, BridgePlan, UartPlan

__all__ = ["image_frame", "read_result", "exchange", "simulate_board", "judge", "board_run", "SIM_DIVISOR"]

SIM_DIVISOR = 4  # clock cycles per UART bit in the simulated board: the fastest the UART allows


def image_frame(inl, s_bytes: int, image: int) -> bytes:
    """The frame of one image (an integer of ``inl.image_bits`` bits, beat 0 in the low bits)."""
    return bytes([IMAGE]) + b"".join(beat.to_bytes(s_bytes, "little") for beat in inl.beats_of(image))


def read_result(port, m_bytes: int, timeout_s: float, index: int) -> int:
    """One result frame from ``port``; its ``m_axis_tdata`` as an integer."""
    head = port.read(1)
    if not head:
        raise BitfoldError(f"no result from the board for image {index} within {timeout_s:g} s: is its bitstream "
                           f"loaded, the port the board's and the baud rate the build's?", where="--port")
    if head[0] != RESULT:
        raise BitfoldError(f"the board sent 0x{head[0]:02x} where the result frame of image {index} starts (0x"
                           f"{RESULT:02x}): is the port the board's, and the bitstream this run's?", where="--port")
    body = port.read(m_bytes)
    if len(body) != m_bytes:
        raise BitfoldError(f"the result frame of image {index} ended after {len(body)} of {m_bytes} bytes",
                           where="--port")
    return int.from_bytes(body, "little")


def exchange(port, frames, bridge: BridgePlan, timeout_s: float = 2.0, progress=None) -> list:
    """Send ``frames`` (at most ``bridge.in_flight`` ahead of their results) and return each
    image's result word, in order. ``progress``: called with the number of results so far."""
    results, sent = [], 0
    while len(results) < len(frames):
        while sent < len(frames) and sent - len(results) < bridge.in_flight:
            port.write(frames[sent])
            sent += 1
        results.append(read_result(port, bridge.m_bytes, timeout_s, len(results)))
        if progress:
            progress(len(results))
    return results


def simulate_board(run, comp, bridge: BridgePlan, frames, timeout_cycles: int = 200_000) -> tuple[list, int]:
    """Run ``frames`` through the board top under Verilator (:class:`hw.rtl.board_top.BoardSimTop`:
    the bridge and power-on reset from Amaranth, the core from the run's compiled Verilog, as in the
    bitstream), driven by :func:`exchange` itself (``sim/benches/board.py``); returns the result
    words and the simulated clock cycles."""
    import numpy as np
    from amaranth.back import verilog

    from hw.io import file_lock, temp_dir
    from hw.rtl.board_top import BoardSimTop
    from sim import runner
    from sim.benches import ints

    sim_dir = run.file("sim")
    sim_dir.mkdir(exist_ok=True)
    top = BoardSimTop(bridge, comp.manifest["top"])
    work = temp_dir(sim_dir, f"board-{os.getpid()}-")
    keep = False
    try:
        design = work / "design.v"  # one file for the build cache key: the board top + the emitted RTL
        design.write_text(verilog.convert(top, name="bitfold_board_sim", emit_src=False) + "\n" + comp.verilog)
        with file_lock(run.path, shared=True):
            build_dir = runner.build(design, "bitfold_board_sim", sim_dir / "cache",
                                     cycles=len(frames) * bridge.cycles_per_image)
        stim, out = work / "stimulus.npz", work / "result.npz"
        np.savez(stim, frames=np.array([np.frombuffer(f, dtype=np.uint8) for f in frames]), beats=bridge.beats,
                 s_bytes=bridge.s_bytes, m_bytes=bridge.m_bytes, divisor=bridge.uart.divisor,
                 timeout_cycles=timeout_cycles)
        try:
            runner.run(build_dir, "bitfold_board_sim", "board", work / "test",
                       {"BITFOLD_BENCH_IN": stim.resolve(), "BITFOLD_BENCH_OUT": out.resolve()})
        except BitfoldError:
            keep = True  # the message points at the log inside it
            raise
        if not out.exists():
            keep = True
            raise BitfoldError(f"the board bench wrote no results; see {work / 'test' / 'board.log'}")
        res = np.load(out)
        if str(res["error"]):
            raise BitfoldError(f"the simulated board: {res['error']}", where="--simulate")
        return ints(res["words"]), int(res["cycles"])
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def _serial(port: str, baud: int, timeout_s: float):
    import serial

    try:
        return serial.Serial(port, baud, timeout=timeout_s)
    except (serial.SerialException, OSError, ValueError) as e:
        raise BitfoldError(f"cannot open {port}: {e}", where="--port") from None


def judge(words, outl, ref, ref_class, labels) -> dict:
    """The board's result words (``m_axis_tdata``: the result beat, the error bit above it) against
    the reference's scores and classes: mismatches, error flags, accuracy, the first mismatch."""
    import numpy as np

    mask = (1 << outl.beat_bits) - 1
    decoded = [outl.decode(w & mask) for w in words]
    flags = [w >> outl.beat_bits for w in words]
    bad = [k for k, ((cls, scores), f) in enumerate(zip(decoded, flags, strict=True))
           if cls != ref_class[k] or scores != ref[k].tolist() or f]
    classes = np.array([c for c, _ in decoded])
    out = {"images": len(words), "mismatches": len(bad), "error_flags": sum(1 for f in flags if f),
           "accuracy": None if labels is None else float((classes == labels).mean()),
           "reference_accuracy": None if labels is None else float((ref_class == labels).mean())}
    if bad:
        k = bad[0]
        out["first_mismatch"] = {"image": k, "board_class": int(decoded[k][0]), "reference_class": int(ref_class[k]),
                                 "board_scores": decoded[k][1], "reference_scores": ref[k].tolist(),
                                 "error_flag": int(flags[k])}
    return out


def board_run(path, board_name: str | None = None, port: str | None = None, images: int | None = None,
              simulate: bool = False, timeout_s: float = 2.0, progress: bool = True) -> dict:
    """Stream the first ``images`` test images (default all) of a run through the board on ``port``
    (its build's UART settings from ``board/<board>/deploy.json``), or with ``simulate`` through
    the board top under Verilator, and compare every result with the IR reference."""
    from hw.ir import interp
    from hw.plan.board import bridge_plan

    from .check import inputs_for
    from .deploy import axis_core

    if simulate == (port is not None):
        raise BitfoldError("give --port (a board) or --simulate (the simulated board top), one of them",
                           where="--port")
    run, comp, plan, axis = axis_core(path)
    graph = comp.graph
    if simulate:
        bridge = bridge_plan(axis, UartPlan(SIM_DIVISOR))
        where = "the simulated board top (Verilator)"
    else:
        from .deploy import deploy_result

        if board_name is None:
            raise BitfoldError("--board: which board's build to talk to (its UART settings)", where="--board")
        dep = deploy_result(run, board_name)
        bridge = bridge_plan(axis, UartPlan(dep["uart"]["divisor"]))
        where = f"the {board_name} on {port}"

    x, labels = inputs_for(run, graph, images)
    codes = interp.quantize(graph.nodes[0], x)
    ref = interp.run(graph, codes, from_codes=True)
    ref_class = interp.argmax(ref)
    inl = plan.input
    frames = [image_frame(inl, bridge.s_bytes, v) for v in inl.images(codes)]

    t0 = time.perf_counter()
    cycles = None
    if simulate:
        words, cycles = simulate_board(run, comp, bridge, frames)
    else:
        link = _serial(port, dep["uart"]["baud"], timeout_s)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(frames), unit="image", desc=f"bitfold board ({where})", leave=False)
        try:
            words = exchange(link, frames, bridge, timeout_s, (lambda k: bar.update(1)) if bar else None)
        finally:
            link.close()
            if bar:
                bar.close()
    seconds = time.perf_counter() - t0
    result = {"run": str(run.path), "board": "simulated" if simulate else board_name, "link": where,
              **judge(words, plan.output, ref, ref_class, labels),
              "seconds": round(seconds, 2), "images_per_s": round(len(frames) / seconds, 1) if seconds else None,
              "baud": None if simulate else dep["uart"]["baud"]}
    if simulate:
        result["simulated_cycles"] = cycles
    return result
