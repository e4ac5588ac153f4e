"""IR -> IR passes: pure functions over frozen graphs, one per file, run in :data:`PIPELINE` order.

With ``BITFOLD_DEBUG=1`` :func:`run_pipeline` checks the graph with :func:`hw.ir.verify.verify`
after every pass and dumps it as ``<n>-<pass>.json`` into ``debug_dir`` (default: ``debug/`` in the
user cache, :func:`hw.io.user_cache`; ``bitfold compile`` passes ``RUN/debug``).
"""

import os
from pathlib import Path

from ..io import atomic_write_text, user_cache
from ..ir.verify import verify
from .fold import apply_folding
from .fold_scores import fold_scores
from .fold_thresholds import fold_thresholds
from .to_hwc import to_hwc

__all__ = ["PIPELINE", "STREAMLINE", "run_pipeline", "streamline", "hardware_pipeline", "fold_thresholds",
           "fold_scores", "to_hwc", "apply_folding"]

# Streamlining: what every consumer of the IR (reference, hardware plan) expects.
STREAMLINE = (fold_thresholds, fold_scores)
# Then, for hardware: stream order and the folding (parameterized: see hardware_pipeline). Widths,
# memory shapes and timing follow from the folded graph in its hardware plan (hw.plan).
PIPELINE = STREAMLINE + (to_hwc, apply_folding)


def hardware_pipeline(folding: dict):
    """:data:`PIPELINE` with the folding bound: the passes `bitfold compile` runs."""
    def fold(graph):
        return apply_folding(graph, folding)

    fold.__name__ = "apply_folding"
    return tuple(fold if p is apply_folding else p for p in PIPELINE)


def run_pipeline(graph, passes=PIPELINE, debug=None, debug_dir=None):
    """Apply ``passes`` in order; verify (and dump) between passes when debugging."""
    debug = os.environ.get("BITFOLD_DEBUG", "") not in ("", "0") if debug is None else debug
    debug_dir = Path(debug_dir) if debug_dir else user_cache() / "debug"
    if debug:
        verify(graph, "the frontend")
        atomic_write_text(debug_dir / "0-frontend.json", graph.to_json())
    for i, p in enumerate(passes, 1):
        graph = p(graph)
        if debug:
            verify(graph, p.__name__)
            atomic_write_text(debug_dir / f"{i}-{p.__name__}.json", graph.to_json())
    return graph


def streamline(graph, **kwargs):
    """The streamlining passes only: BatchNorm + sign -> thresholds, last layer -> scores."""
    return run_pipeline(graph, STREAMLINE, **kwargs)
