"""``bitfold deploy``: a real bitstream for an open board (a small imported net on the iCEBreaker,
clocked by a PLL: Yosys, nextpnr-ice40 and icepack from the venv), its ``deploy.json`` checked
against its schema and the files it names, and kept honest by provenance when the RTL changes under
it. (``make demo`` builds the ULX3S bitstream of sfc.)"""

import pytest

from bitfold.schema import read_json
from clirun import cli, last_json

pytestmark = pytest.mark.synth


def test_icebreaker_bitstream_of_a_small_net(foreign_file, tmp_path, capsys):
    from bitfold.compile import compile_run

    run = tmp_path / "pq"
    assert cli(capsys, "import", foreign_file("pynq-fc"), "--out", run, "--dataset", "digits")[0] == 0
    compile_run(run, target_cycles=64)
    code, out, err = cli(capsys, "deploy", run, "--board", "icebreaker", "--clock-mhz", "18", "--json")
    assert code == 0, err
    r = last_json(out)
    doc = read_json(run / "board" / "icebreaker" / "deploy.json", "deploy")
    assert doc == r
    bit = run / "board" / "icebreaker" / r["bitstream"]
    assert bit.suffix == ".bin" and bit.stat().st_size == r["bitstream_bytes"] > 50_000
    assert r["meets_clock"] and r["fmax_mhz"] >= r["clock_mhz"] == 18.0 and r["oscillator_mhz"] == 12.0
    assert r["pll"]["primitive"] == "SB_PLL40_PAD" and r["utilization"]["ICESTORM_PLL"]["used"] == 1
    lc = r["utilization"]["ICESTORM_LC"]
    assert 0 < lc["used"] <= lc["available"] == 5280
    assert r["uart"]["divisor"] == 156 and r["uart"]["beats"] == 64 and r["cycles_per_image"] == 64
    assert r["link_images_per_s"] == round(18e6 / r["uart"]["cycles_per_image"], 1)
    assert r["critical_path"]["from_where"]["stage"] is not None
    assert r["program"] == f"iceprog {bit}"
    assert not (run / "board" / "icebreaker.failed").exists()

    code, out, _ = cli(capsys, "summary", run, "--json")
    assert last_json(out)["boards"]["icebreaker"]["bitstream"] == "board/icebreaker/bitfold_board.bin"
    code, _, err = cli(capsys, "board", run, "--board", "icebreaker", "--port", tmp_path / "no-such-tty")
    assert code == 2 and f"cannot open {tmp_path / 'no-such-tty'}" in err

    assert compile_run(run, target_cycles=128)["invalidated"] == ["board/icebreaker/"]  # new RTL: the old build goes
    assert not (run / "board" / "icebreaker").exists()
    code, out, _ = cli(capsys, "summary", run, "--json")
    assert "boards" not in last_json(out)
    code, _, err = cli(capsys, "board", run, "--board", "icebreaker", "--port", "/dev/null")
    assert code == 2 and "board/icebreaker/deploy.json: not computed; run `bitfold deploy" in err
