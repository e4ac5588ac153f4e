"""bitfold's RTL verification: cocotb testbenches under Verilator, driven from Python."""
