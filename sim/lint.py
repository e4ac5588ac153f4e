"""Verilator's linter on emitted Verilog: ``verilator --lint-only`` (with ``-Wall``, and the waiver
file the compiler writes beside the Verilog, :func:`hw.verilog.waiver_file`)."""

import re
import subprocess
from pathlib import Path

from hw.errors import BitfoldError

from .runner import verilator_bin

__all__ = ["lint"]


def lint(verilog, top: str, waivers=None, wall: bool = True) -> dict:
    """Lint ``verilog`` (a path) with module ``top`` on top; returns ``{"warnings": n, "by_rule":
    {rule: n}, "messages": [first lines]}``. A Verilog error (not a warning) raises."""
    exe = verilator_bin() / "verilator"
    args = [str(exe), "--lint-only", "-Wno-fatal", "--top-module", top]
    if wall:
        args.append("-Wall")
    if waivers is not None:
        args.append(str(waivers))
    args.append(str(verilog))
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=1800, cwd=Path(verilog).parent)
    except (OSError, subprocess.SubprocessError) as e:
        raise BitfoldError(f"Verilator could not lint {verilog}: {e}") from None
    if p.returncode != 0:
        tail = "\n".join(p.stderr.splitlines()[-10:])
        raise BitfoldError(f"Verilator reports errors in {verilog}:\n{tail}")
    messages = [line for line in p.stderr.splitlines() if line.startswith("%Warning-")]
    by_rule = {}
    for line in messages:
        rule = re.match(r"%Warning-([A-Z0-9_]+)", line)[1]
        by_rule[rule] = by_rule.get(rule, 0) + 1
    return {"warnings": len(messages), "by_rule": dict(sorted(by_rule.items())), "messages": messages[:20]}
