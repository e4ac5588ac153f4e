"""``bitfold board``: the host side of the UART link (frames, errors, images in flight) against
scripted ports, and the whole board top (UART bridge and the compiled core) under the Amaranth
simulator, bit-exact on real digits images."""

import shutil

import pytest

from bitfold.board import exchange, image_frame, read_result
from clirun import cli, copy_run, last_json
from hw.errors import BitfoldError
from hw.plan.board import IMAGE, RESULT, BridgePlan, UartPlan


class ScriptedPort:
    """A serial port whose board answers every image frame with ``answer(frame)`` (or nothing),
    counting how many frames were outstanding at most."""

    def __init__(self, answer):
        self.answer, self.pending, self.out = answer, [], bytearray()
        self.most_in_flight = 0

    def write(self, data):
        self.pending.append(bytes(data))
        self.most_in_flight = max(self.most_in_flight, len(self.pending))

    def read(self, n):
        while len(self.out) < n and self.pending:
            self.out += self.answer(self.pending.pop(0))
        data, self.out = bytes(self.out[:n]), self.out[n:]
        return data


def _plan(m_bytes=3, beats=4):
    return BridgePlan(beats=beats, s_bytes=1, m_bytes=m_bytes, uart=UartPlan(4))


def test_exchange_returns_each_images_result_in_order_and_keeps_at_most_in_flight_outstanding():
    plan = _plan()
    frames = [bytes([IMAGE, k, k + 1, k + 2, k + 3]) for k in range(7)]
    port = ScriptedPort(lambda f: bytes([RESULT]) + (sum(f[1:]) * 1000 + f[1]).to_bytes(3, "little"))
    seen = []
    words = exchange(port, frames, plan, progress=seen.append)
    assert words == [sum(f[1:]) * 1000 + f[1] for f in frames]
    assert seen == list(range(1, 8)) and port.most_in_flight == plan.in_flight == 2
    one = _plan(m_bytes=9, beats=2)  # a result frame longer than an image frame: one image at a time
    port = ScriptedPort(lambda f: bytes([RESULT]) + bytes(9))
    assert exchange(port, [bytes([IMAGE, 1, 2])] * 3, one) == [0, 0, 0] and port.most_in_flight == 1


@pytest.mark.parametrize("answer,message", [
    (lambda f: b"", "no result from the board for image 0 within 2 s: is its bitstream loaded"),
    (lambda f: b"\x00\x01\x02\x03", "the board sent 0x00 where the result frame of image 0 starts (0x52)"),
    (lambda f: bytes([RESULT, 1]), "the result frame of image 0 ended after 1 of 3 bytes"),
])
def test_a_silent_wrong_or_short_answer_is_an_error_naming_the_image(answer, message):
    with pytest.raises(BitfoldError, match=message.replace("(", r"\(").replace(")", r"\)")):
        exchange(ScriptedPort(answer), [bytes([IMAGE, 0, 0, 0, 0])], _plan())


def test_image_frame_is_the_header_then_each_beat_least_significant_byte_first():
    class Layout:
        def beats_of(self, image):
            return [image & 0xFFFF, image >> 16]

    assert image_frame(Layout(), 2, 0xAABBCCDD) == bytes([IMAGE, 0xDD, 0xCC, 0xBB, 0xAA])
    port = ScriptedPort(lambda f: bytes([RESULT, 0x34, 0x12, 0x00]))
    port.write(b"x")
    assert read_result(port, 3, 1.0, 5) == 0x1234


@pytest.fixture(scope="module")
def axis_run(trained, tmp_path_factory):
    """The digits-mlp run compiled at 64 cycles per image (one 8-bit pixel a beat)."""
    from bitfold.compile import compile_run

    run = copy_run(trained("digits-mlp"), tmp_path_factory.mktemp("board") / "dm")
    compile_run(run, target_cycles=64)
    return run


@pytest.mark.verilator
def test_simulated_board_is_bit_exact_on_digits_images(axis_run, capsys):
    """The board top under Verilator (bridge, power-on reset, the compiled core's Verilog), driven
    by the host driver's own code bit by bit on its UART lines."""
    code, out, _ = cli(capsys, "board", axis_run, "--simulate", "--images", "24", "--json")
    r = last_json(out)
    assert code == 0 and (r["images"], r["mismatches"], r["error_flags"]) == (24, 0, 0)
    assert r["board"] == "simulated" and r["accuracy"] == r["reference_accuracy"]
    plan = BridgePlan(64, 1, 0, UartPlan(4))  # two images in flight: the image frames set the pace
    assert 24 * plan.image_frame_bytes * plan.uart.cycles_per_byte <= r["simulated_cycles"]
    assert r["simulated_cycles"] <= 25 * plan.image_frame_bytes * plan.uart.cycles_per_byte + 2000


def test_judge_finds_a_flipped_bit_in_a_score_or_the_class_and_the_error_flag(axis_run):
    """The comparison can fail: each single-bit change of a result word, in the class, a score or
    the error bit, is a mismatch at its image."""
    import numpy as np

    from bitfold.board import judge
    from bitfold.runs import open_run
    from bitfold.simulate import hardware_plan
    from hw.ir import interp

    graph, plan, _ = hardware_plan(open_run(axis_run))
    codes = np.random.default_rng(0).integers(0, 256, (3, 1, 8, 8))
    ref = interp.run(graph, codes, from_codes=True)
    ref_class = interp.argmax(ref)
    outl = plan.output
    w = outl.score_width
    words = [int(c) | sum((int(v) & ((1 << w) - 1)) << (outl.class_bits + k * w) for k, v in enumerate(r))
             for c, r in zip(ref_class, ref, strict=True)]
    assert judge(words, outl, ref, ref_class, None)["mismatches"] == 0
    for bit in range(outl.beat_bits + 1):
        bad = list(words)
        bad[1] ^= 1 << bit
        r = judge(bad, outl, ref, ref_class, None)
        assert r["mismatches"] == 1 and r["first_mismatch"]["image"] == 1, bit


def test_board_and_deploy_bad_inputs(axis_run, tmp_path, capsys):
    code, _, err = cli(capsys, "board", axis_run)
    assert code == 2 and "one of the arguments --port --simulate is required" in err
    code, _, err = cli(capsys, "board", axis_run, "--port", "/dev/ttyUSB9", "--board", "ulx3s")
    assert code == 2 and "board/ulx3s/deploy.json: not computed; run `bitfold deploy" in err
    code, _, err = cli(capsys, "deploy", axis_run, "--board", "icebreaker")
    assert code == 2 and "does not fit the icebreaker (ice40 up5k)" in err
    assert "LUT4 estimated, the device has 5,280" in err
    code, _, err = cli(capsys, "deploy", axis_run, "--board", "ulx3s", "--baud", "3000000")
    assert code == 2 and "3000000 baud is 4.2% off on a 25 MHz clock" in err
    code, _, err = cli(capsys, "deploy", axis_run, "--board", "ulx3s", "--clock-mhz", "1")
    assert code == 2 and "no ecp5 PLL makes 1 MHz from the board's 25 MHz oscillator within 1%; the closest" in err
    code, _, err = cli(capsys, "deploy", axis_run, "--board", "ulx3s", "--clock-mhz", "-5")
    assert code == 2 and "a clock of -5 MHz: give a positive frequency" in err
    assert not (axis_run / "board").exists() or not any((axis_run / "board").iterdir())
    stream = copy_run(axis_run, tmp_path / "stream")
    from bitfold.compile import compile_run

    compile_run(stream, target_cycles=64, interface="stream")
    for verb in (["deploy", stream, "--board", "ulx3s"], ["board", stream, "--simulate"]):
        code, _, err = cli(capsys, *verb)
        assert code == 2 and "the board top needs the AXI4-Stream core" in err, verb
    shutil.rmtree(stream)
