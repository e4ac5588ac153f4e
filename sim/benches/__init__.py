"""cocotb testbenches, run under Verilator by :mod:`sim.runner` (never imported by pytest directly).

Each bench reads its stimulus from the ``.npz`` file named by ``BITFOLD_BENCH_IN`` and writes what
the design produced to ``BITFOLD_BENCH_OUT``; the Python side compares with the IR reference, so
every check uses the one reference model.
"""
