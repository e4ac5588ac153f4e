"""The board link's plans (hw/plan/board.py): the UART divisor for a clock and baud rate, the frames
and images in flight of the bridge, and the PLL dividers for a board clock."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw.errors import BitfoldError
from hw.plan.board import PLL_TOLERANCE, BridgePlan, UartPlan, pll_plan, uart_plan


def test_uart_plan_picks_the_nearest_divisor_and_refuses_a_far_or_too_fast_baud():
    assert uart_plan(25e6, 115_200).divisor == 217
    assert uart_plan(12e6, 115_200).divisor == 104
    assert uart_plan(25e6, 115_200).cycles_per_byte == 2170
    with pytest.raises(BitfoldError, match=r"3000000 baud is 4.2% off on a 25 MHz clock \(divisor 8"):
        uart_plan(25e6, 3_000_000)
    with pytest.raises(BitfoldError, match=r"too fast for a 12 MHz clock \(at most 3000000 baud"):
        uart_plan(12e6, 4_000_000)
    with pytest.raises(BitfoldError, match="positive clock and baud"):
        uart_plan(12e6, 0)
    with pytest.raises(ValueError, match="at least 4 clock cycles per bit, not 3"):
        UartPlan(3)


def test_bridge_plan_frames_and_how_many_images_a_host_may_send_ahead():
    p = BridgePlan(beats=64, s_bytes=1, m_bytes=6, uart=UartPlan(4))
    assert (p.image_frame_bytes, p.result_frame_bytes, p.in_flight, p.cycles_per_image) == (65, 7, 2, 65 * 40)
    p = BridgePlan(beats=1, s_bytes=1, m_bytes=6, uart=UartPlan(4))  # a result frame outlasts an image frame
    assert (p.image_frame_bytes, p.result_frame_bytes, p.in_flight, p.cycles_per_image) == (2, 7, 1, 9 * 40)



def test_known_pll_settings():
    """The dividers icepll and ecppll give for these clocks."""
    assert dict(pll_plan("ice40", 12e6, 24e6).params) == {"DIVR": 0, "DIVF": 63, "DIVQ": 5, "FILTER_RANGE": 1}
    p = pll_plan("ecp5", 25e6, 100e6)
    assert p.primitive == "EHXPLLL" and p.out_hz == 100e6
    assert dict(p.params) == {"CLKI_DIV": 1, "CLKFB_DIV": 4, "CLKOP_DIV": 4}


@settings(max_examples=60, deadline=None)
@given(family=st.sampled_from(["ecp5", "ice40"]), osc=st.sampled_from([12e6, 25e6, 48e6]),
       want=st.floats(16e6, 200e6))
def test_pll_dividers_keep_every_frequency_in_range_and_reach_the_clock(family, osc, want):
    try:
        p = pll_plan(family, osc, want)
    except BitfoldError as e:
        assert "closest is" in str(e) and "--clock-mhz" in e.where
        return
    d = dict(p.params)
    assert abs(p.out_hz - want) <= PLL_TOLERANCE * want
    if family == "ecp5":
        pfd = osc / d["CLKI_DIV"]
        assert 3.125e6 <= pfd <= 400e6 and p.out_hz == pytest.approx(pfd * d["CLKFB_DIV"])
        assert 400e6 <= p.out_hz * d["CLKOP_DIV"] <= 800e6
    else:
        pfd = osc / (d["DIVR"] + 1)
        vco = pfd * (d["DIVF"] + 1)
        assert 10e6 <= pfd <= 133e6 and 533e6 <= vco <= 1066e6 and p.out_hz == pytest.approx(vco / 2 ** d["DIVQ"])
        assert 1 <= d["FILTER_RANGE"] <= 6


def test_a_clock_no_pll_makes_is_an_error_with_the_closest():
    with pytest.raises(BitfoldError, match=r"no ice40 PLL makes 1 MHz from the board's 12 MHz oscillator within 1%; "
                                           r"the closest is 8\.438 MHz"):
        pll_plan("ice40", 12e6, 1e6)
