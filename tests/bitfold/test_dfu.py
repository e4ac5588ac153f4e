"""The DFU suffix of OrangeCrab bitstreams (bitfold/dfu.py): its fields, and its CRC checked with a
bit-by-bit CRC-32 as a DFU bootloader computes it."""

import pytest

from bitfold.dfu import add_suffix, main, suffix


def _dfu_crc(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc  # no final inversion


@pytest.mark.parametrize("data", [b"", b"\x00" * 7, bytes(range(256)) * 3])
def test_suffix_fields_and_crc(data):
    s = suffix(data, 0x1209, 0x5AF0)
    assert len(s) == 16
    assert s[:12] == bytes([0xFF, 0xFF, 0xF0, 0x5A, 0x09, 0x12, 0x00, 0x01]) + b"UFD" + bytes([16])
    assert int.from_bytes(s[12:], "little") == _dfu_crc(data + s[:12])


def test_add_suffix_in_place_once(tmp_path, capsys):
    f = tmp_path / "b.bit"
    f.write_bytes(b"bitstream")
    assert main(["-v", "1209", "-p", "5af0", "-a", str(f)]) == 0
    assert f.read_bytes() == b"bitstream" + suffix(b"bitstream", 0x1209, 0x5AF0)
    assert main(["-v", "1209", "-p", "5af0", "-a", str(f)]) == 1
    assert f"{f} already has a DFU suffix" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError):
        add_suffix(tmp_path / "none.bit", 1, 2)
