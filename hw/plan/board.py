"""The UART link of a board build: baud divisor and the frames the host and the board exchange.

The host sends an image as one frame: the byte :data:`IMAGE` (``0x49``, ``'I'``) then the image's
``beats`` AXI4-Stream input beats of ``s_bytes`` bytes each, every beat least significant byte
first (the TDATA of :mod:`hw.plan.interface`, padding bits 0). The board answers each image with
one frame: the byte :data:`RESULT` (``0x52``, ``'R'``) then the result beat's ``m_bytes`` bytes,
least significant first (the class, the scores and the error bit, as ``m_axis_tdata``). Bytes
between frames that are not :data:`IMAGE` are ignored by the board (a host that lost its place
resynchronises by sending a whole frame).

UART: 8 data bits, no parity, one stop bit, least significant bit first; the bit time is
``divisor`` clock cycles.
"""

from dataclasses import dataclass

from ..errors import BitfoldError
from .interface import AxisPlan

__all__ = ["IMAGE", "RESULT", "UartPlan", "BridgePlan", "uart_plan", "bridge_plan", "BAUD_TOLERANCE", "PllPlan",
           "pll_plan", "PLL_TOLERANCE"]

IMAGE = 0x49
RESULT = 0x52
#: The largest relative error of the bit time a UART link tolerates here (both ends sample at the
#: middle of a bit; 10 bits per byte leave about 5%, half of it for each end).
BAUD_TOLERANCE = 0.02


@dataclass(frozen=True)
class UartPlan:
    """A UART of ``divisor`` clock cycles per bit (8N1)."""

    divisor: int

    def __post_init__(self):
        if self.divisor < 4:
            raise ValueError(f"a UART needs at least 4 clock cycles per bit, not {self.divisor}")

    @property
    def cycles_per_byte(self) -> int:
        return 10 * self.divisor


def uart_plan(clock_hz: float, baud: int) -> UartPlan:
    """The UART for ``baud`` on a ``clock_hz`` clock, or an error naming both when no whole divisor
    is within :data:`BAUD_TOLERANCE` of it."""
    if baud <= 0 or clock_hz <= 0:
        raise BitfoldError(f"a UART needs a positive clock and baud rate, not {clock_hz:g} Hz and {baud} baud")
    divisor = round(clock_hz / baud)
    if divisor < 4:
        raise BitfoldError(f"{baud} baud is too fast for a {clock_hz / 1e6:g} MHz clock (at most "
                           f"{int(clock_hz // 4)} baud: 4 clock cycles per bit)")
    error = abs(clock_hz / divisor - baud) / baud
    if error > BAUD_TOLERANCE:
        raise BitfoldError(f"{baud} baud is {100 * error:.1f}% off on a {clock_hz / 1e6:g} MHz clock (divisor "
                           f"{divisor}; at most {100 * BAUD_TOLERANCE:g}%); choose another --baud")
    return UartPlan(divisor)


@dataclass(frozen=True)
class BridgePlan:
    """A UART bridge to an AXI4-Stream core: images of ``beats`` beats of ``s_bytes`` bytes in,
    results of ``m_bytes`` bytes out, over ``uart``."""

    beats: int
    s_bytes: int
    m_bytes: int
    uart: UartPlan

    @property
    def image_frame_bytes(self) -> int:
        return 1 + self.beats * self.s_bytes

    @property
    def result_frame_bytes(self) -> int:
        return 1 + self.m_bytes

    @property
    def in_flight(self) -> int:
        """Images a host may send ahead of their results. The bridge holds one input beat and the
        core stalls its input while a result waits for the transmitter, so a second image is safe
        only while a result frame is sent faster than an image frame arrives."""
        return 2 if self.result_frame_bytes <= self.image_frame_bytes else 1

    @property
    def cycles_per_image(self) -> int:
        """Clock cycles per image the link sustains: the line is full duplex, so with images sent
        ahead the longer of the two frames sets the pace (with one in flight, both add up)."""
        frames = (max if self.in_flight > 1 else sum)((self.image_frame_bytes, self.result_frame_bytes))
        return frames * self.uart.cycles_per_byte

    def to_dict(self) -> dict:
        return {"image": IMAGE, "result": RESULT, "beats": self.beats, "s_bytes": self.s_bytes,
                "m_bytes": self.m_bytes, "divisor": self.uart.divisor, "in_flight": self.in_flight,
                "cycles_per_image": self.cycles_per_image}


def bridge_plan(axis: AxisPlan, uart: UartPlan) -> BridgePlan:
    return BridgePlan(axis.beats, axis.s_tdata_bits // 8, axis.m_tdata_bits // 8, uart)


@dataclass(frozen=True)
class PllPlan:
    """A PLL from the board oscillator (``in_hz``) to the design clock (``out_hz``, the closest the
    primitive reaches to what was asked): ``primitive`` (``EHXPLLL`` on ECP5, ``SB_PLL40_PAD`` on
    iCE40) and its dividers ``params``, as ``(name, value)`` pairs."""

    family: str
    in_hz: float
    out_hz: float
    primitive: str
    params: tuple

    def to_dict(self) -> dict:
        return {"primitive": self.primitive, "in_mhz": self.in_hz / 1e6, "out_mhz": round(self.out_hz / 1e6, 4),
                **dict(self.params)}


#: The largest relative error between the asked and the reached PLL output.
PLL_TOLERANCE = 0.01


def _ecp5_pll(in_hz: float, want_hz: float):
    """ECP5 EHXPLLL, feedback from CLKOP: out = in * CLKFB_DIV / CLKI_DIV; the phase detector runs
    at in / CLKI_DIV (3.125-400 MHz), the VCO at out * CLKOP_DIV (400-800 MHz)."""
    best = None
    for clki in range(1, 129):
        if not 3.125e6 <= in_hz / clki <= 400e6:
            continue
        for clkfb in range(1, 81):
            out = in_hz * clkfb / clki
            if not 3.125e6 <= out <= 400e6:
                continue
            for clkop in range(1, 129):
                if 400e6 <= out * clkop <= 800e6:
                    key = (abs(out - want_hz), clki, clkop)
                    if best is None or key < best[0]:
                        best = (key, out, (("CLKI_DIV", clki), ("CLKFB_DIV", clkfb), ("CLKOP_DIV", clkop)))
                    break
    return best


def _ice40_pll(in_hz: float, want_hz: float):
    """iCE40 SB_PLL40, simple feedback: out = in * (DIVF + 1) / ((DIVR + 1) * 2 ** DIVQ); the phase
    detector runs at in / (DIVR + 1) (10-133 MHz), the VCO at 533-1066 MHz; FILTER_RANGE follows
    the phase detector's frequency."""
    best = None
    for divr in range(16):
        pfd = in_hz / (divr + 1)
        if not 10e6 <= pfd <= 133e6:
            continue
        for divf in range(128):
            vco = pfd * (divf + 1)
            if not 533e6 <= vco <= 1066e6:
                continue
            for divq in range(1, 7):
                out = vco / 2 ** divq
                key = (abs(out - want_hz), divr)
                if best is None or key < best[0]:
                    rng = next(k for k, top in enumerate((17e6, 26e6, 44e6, 66e6, 101e6, 134e6), 1) if pfd < top)
                    best = (key, out, (("DIVR", divr), ("DIVF", divf), ("DIVQ", divq), ("FILTER_RANGE", rng)))
    return best


def pll_plan(family: str, in_hz: float, want_hz: float) -> PllPlan:
    """The PLL that makes ``want_hz`` from the board's ``in_hz`` oscillator, or an error naming the
    closest reachable clock when it is more than :data:`PLL_TOLERANCE` off."""
    search, primitive = {"ecp5": (_ecp5_pll, "EHXPLLL"), "ice40": (_ice40_pll, "SB_PLL40_PAD")}[family]
    best = search(in_hz, want_hz)
    if best is None or abs(best[1] - want_hz) > PLL_TOLERANCE * want_hz:
        near = f"; the closest is {best[1] / 1e6:.3f} MHz" if best else ""
        raise BitfoldError(f"no {family} PLL makes {want_hz / 1e6:g} MHz from the board's {in_hz / 1e6:g} MHz "
                           f"oscillator within {100 * PLL_TOLERANCE:g}%{near}", where="--clock-mhz")
    return PllPlan(family, in_hz, best[1], primitive, best[2])
