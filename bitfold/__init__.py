"""bitfold: train binarized nets, compile them to bit-exact FPGA dataflow, verify and measure.

The command line is :mod:`bitfold.cli`; each verb wraps a function of :mod:`bitfold.flow`,
:mod:`bitfold.check` or :mod:`bitfold.bench`.
"""

__version__ = "0.1.0"
