"""cocotb testbenches, run under Verilator by :mod:`sim.runner` (never imported by pytest directly).

Each bench reads its stimulus from the ``.npz`` file named by ``BITFOLD_BENCH_IN`` and writes what
the design produced to ``BITFOLD_BENCH_OUT``; the Python side compares with the IR reference, so
every check uses the one reference model. The package itself holds what the benches and their
Python side (:mod:`sim.components`) share: stimulus rows, their integers, the gap schedules.
"""

import numpy as np

__all__ = ["ints", "rows", "gaps"]


def ints(rows_):
    """The integers of a stimulus array's rows (little-endian bytes)."""
    return [int.from_bytes(r.tobytes(), "little") for r in rows_]


def rows(values, bits):
    """``values`` as rows of little-endian bytes, ``bits`` wide (the inverse of :func:`ints`)."""
    nbytes = max(1, (bits + 7) // 8)
    return np.array([np.frombuffer(int(v).to_bytes(nbytes, "little"), dtype=np.uint8) for v in values]).reshape(
        -1, nbytes)


def gaps(stim):
    """The input-gap and output-gap schedules a stimulus asks for."""
    from sim.stream import Gaps

    return Gaps(float(stim["in_gap"]), int(stim["seed"])), Gaps(float(stim["out_gap"]), int(stim["seed"]) + 1)
