"""The layering of ``hw/`` (DESIGN.md): ``ir`` <- ``passes`` <- ``plan`` <- ``rtl``; the estimator reads
plans only; nothing under ``hw/`` imports ``bitfold``, ``bnn``, ``sim`` or torch. Every import of every
module (also those inside functions) is checked against what its part of ``hw`` may import."""

import ast
from pathlib import Path

HW = Path(__file__).resolve().parents[2] / "hw"

# part of hw -> the parts of hw it may import (besides itself); amaranth only where listed
LEAVES = {"hw.errors", "hw.io"}
ALLOWED = {
    "hw.errors": set(),
    "hw.io": set(),
    "hw.families": {"hw.errors"},
    "hw.ir": LEAVES,
    "hw.mst": LEAVES | {"hw.ir"},
    "hw.passes": LEAVES | {"hw.ir", "hw.mst"},
    "hw.plan": LEAVES | {"hw.ir", "hw.passes"},
    "hw.rtl": LEAVES | {"hw.plan", "amaranth"},
    "hw.estimate": LEAVES | {"hw.families", "hw.plan"},
    "hw.synthetic": LEAVES | {"hw.ir", "hw.passes"},
    "hw.compile": LEAVES | {"hw.ir", "hw.passes", "hw.plan", "hw.estimate"},
    "hw.analysis": LEAVES | {"hw.ir", "hw.plan"},
    "hw.verilog": LEAVES | {"amaranth"},
    "hw.verilog_cache": LEAVES | {"hw", "hw.verilog"},  # hw: the source as the process imported it
    "hw.emit": LEAVES | {"hw.ir", "hw.plan", "hw.rtl", "hw.verilog", "hw.verilog_cache", "amaranth"},
    "hw.synth": LEAVES | {"hw.families", "hw.ir", "hw.mst", "hw.plan", "hw.rtl", "hw.estimate", "hw.compile",
                          "hw.synthetic", "hw.verilog", "amaranth"},
}
FOREIGN_OK = {"numpy", "scipy", "onnx", "qonnx", "tqdm"}  # besides the standard library


def _part(module):
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def _imports(path):
    module = ".".join(path.relative_to(HW.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    if path.name == "__init__.py":
        module = package
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield module, [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                yield module, [".".join(base + ([node.module] if node.module else []))]
            else:
                yield module, [node.module]


def test_hw_imports_follow_the_layering():
    import sys

    stdlib = set(sys.stdlib_module_names)
    bad = []
    for path in sorted(HW.rglob("*.py")):
        for module, names in _imports(path):
            mine = _part(module).replace("/", ".")
            for name in names:
                top = name.split(".")[0]
                if top == "hw":
                    target = _part(name)
                    if target != mine and target not in ALLOWED[mine]:
                        bad.append(f"{module} imports {name}")
                elif top == "amaranth":
                    if "amaranth" not in ALLOWED[mine]:
                        bad.append(f"{module} imports {name}")
                elif top not in stdlib and top not in FOREIGN_OK:
                    bad.append(f"{module} imports {name}")
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_every_part_of_hw_is_in_the_table():
    parts = {_part(".".join(p.relative_to(HW.parent).with_suffix("").parts)) for p in HW.rglob("*.py")}
    assert parts - {"hw.__init__"} <= set(ALLOWED)
