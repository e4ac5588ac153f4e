"""The DFU suffix a USB DFU bootloader expects at the end of a firmware file (the OrangeCrab's
bootloader checks it), added in place as ``dfu-suffix -v VID -p PID -a FILE`` does, for board
builds on machines without dfu-util: ``python -m bitfold.dfu -v 1209 -p 5af0 -a FILE``.

The suffix (DFU 1.1, appendix B) is 16 bytes, little-endian: ``bcdDevice`` (0xFFFF: any),
``idProduct``, ``idVendor``, ``bcdDFU`` (0x0100), the signature ``UFD``, ``bLength`` (16), and a
CRC-32 of the file and the first 12 suffix bytes (the reflected 0xEDB88320 polynomial from
0xFFFFFFFF, without the final inversion).
"""

import argparse
import struct
import sys
import zlib
from pathlib import Path

__all__ = ["suffix", "add_suffix"]


def suffix(data: bytes, vid: int, pid: int) -> bytes:
    """The 16-byte DFU suffix of ``data``."""
    head = struct.pack("<HHHH3sB", 0xFFFF, pid, vid, 0x0100, b"UFD", 16)
    crc = ~zlib.crc32(data + head) & 0xFFFFFFFF
    return head + struct.pack("<I", crc)


def add_suffix(path, vid: int, pid: int) -> None:
    """Append the suffix to the file at ``path`` (an error if it already has one)."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) >= 16 and data[-8:-5] == b"UFD" and data[-5] == 16:
        raise ValueError(f"{path} already has a DFU suffix")
    path.write_bytes(data + suffix(data, vid, pid))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bitfold.dfu", description="add a DFU suffix to a file")
    p.add_argument("-v", "--vid", required=True, type=lambda s: int(s, 16))
    p.add_argument("-p", "--pid", required=True, type=lambda s: int(s, 16))
    p.add_argument("-a", "--add", required=True, metavar="FILE")
    args = p.parse_args(argv)
    try:
        add_suffix(args.add, args.vid, args.pid)
    except (OSError, ValueError) as e:
        print(f"dfu: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
