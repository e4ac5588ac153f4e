"""Compiling: a streamlined IR graph -> its folded hardware IR and its :class:`~hw.plan.Plan`.

The one library entry point for compiling (the ``bitfold compile`` command, the estimator's
regression set and the benchmarks all call :func:`compile_graph`). Its choices are typed:

* the folding: :class:`FoldAuto` (the least area that meets a target of cycles per image; with no
  target, the default design point: the fastest design whose estimated size fits a mid-size board,
  :data:`DEFAULT_LUT_BUDGET` LUT6 and :data:`DEFAULT_BRAM_BUDGET` block RAMs on xc7),
  :class:`FoldParallel` (every layer fully unrolled with hard-wired weights) or
  :class:`FoldExplicit` (a PE x SIMD, weight mode and windows per layer, and the input's pixels
  per beat);
* the MST schedules: :class:`MstKeep` (the graph's own, as trained), :class:`MstOff` (none) or
  :class:`MstDepth` (fresh minimum spanning trees within a depth bound);
* the queue after each layer (:class:`~hw.plan.QueueKind`);
* the popcount (:class:`~hw.plan.Popcount`): compressor trees scheduled for a family's LUTs (the
  default, for xc7) or adder trees.

With automatic folding a scheduled convolution is made fully parallel with hard-wired weights,
where its schedule saves logic at every output position; a scheduled dense layer (one vector per
image) stays folded, where full unrolling would cost far more area than its schedule saves;
an explicit or parallel folding can unroll it.
"""

from dataclasses import dataclass, field

from .errors import BitfoldError
from .ir.graph import Conv, Graph
from .passes import hardware_pipeline, run_pipeline, to_hwc
from .passes.fold import parallel_folding, unroll
from .passes.mst import attach_mst
from .plan import Plan, Popcount, QueueKind, auto_folding, fastest, plan_graph

__all__ = ["FoldAuto", "FoldParallel", "FoldExplicit", "MstKeep", "MstOff", "MstDepth", "Compiled", "compile_graph",
           "folding_for", "default_target", "DEFAULT_LUT_BUDGET", "DEFAULT_BRAM_BUDGET"]

# The default design point fits a mid-size board: about half the LUTs of a Zynq-7020 (PYNQ-Z1/Z2,
# 53,200 LUT6), or of an Artix-7 50T, by the estimate (an ECP5 needs about 1.4 times as many LUT4:
# an 85F holds it).
DEFAULT_LUT_BUDGET = 25_000
# ... and its block RAM: 18-Kbit blocks (RAMB18 on xc7), within an ECP5-85F's 208 DP16KD (the same
# 18 Kbit) and 71% of a Zynq-7020's 280 RAMB18, so the design places on either
DEFAULT_BRAM_BUDGET = 200


@dataclass(frozen=True)
class FoldAuto:
    """The least area meeting ``target_cycles`` per image (None: the default design point, see
    :func:`default_target`)."""

    target_cycles: int | None = None


@dataclass(frozen=True)
class FoldParallel:
    """Every layer fully unrolled with hard-wired weights: one vector per cycle."""


@dataclass(frozen=True)
class FoldExplicit:
    """``layers``: ``{layer name: Folding or {"pe", "simd", "mode"?}}``, checked when applied."""

    layers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MstKeep:
    """The MST schedules the graph carries (a trained MST model has them)."""


@dataclass(frozen=True)
class MstOff:
    """No MST schedules: every binary layer computed directly."""


@dataclass(frozen=True)
class MstDepth:
    """Fresh schedules: minimum spanning trees within depth ``bound``."""

    bound: int

    def __post_init__(self):
        if isinstance(self.bound, bool) or not isinstance(self.bound, int) or self.bound < 0:
            raise BitfoldError(f"MST depth bound must be a non-negative integer, not {self.bound!r}")


@dataclass(frozen=True, eq=False)
class Compiled:
    """A compiled design: the folding applied (``{layer: {"pe", "simd", "mode"}}``, as a fold file
    holds it), the folded hardware IR, and its plan."""

    folding: dict
    graph: Graph
    plan: Plan


def with_mst(graph: Graph, mst) -> Graph:
    """``graph`` with its MST schedules kept, dropped or recomputed."""
    if isinstance(mst, MstKeep):
        return graph
    if isinstance(mst, MstOff):
        return graph.replace([n.replace(schedule=None) if hasattr(n, "schedule") else n for n in graph.nodes])
    if isinstance(mst, MstDepth):
        return attach_mst(graph, mst.bound)
    raise TypeError(f"mst must be MstKeep, MstOff or MstDepth, not {mst!r}")


def _auto(graph: Graph, target: int) -> dict:
    folding = auto_folding(to_hwc(graph), target)
    scheduled = [n.name for n in graph.nodes if isinstance(n, Conv) and n.schedule is not None]
    return unroll(folding, graph, scheduled)


def default_target(graph: Graph, budget: int = DEFAULT_LUT_BUDGET, family: str = "xc7",
                   popcount: Popcount = Popcount(), bram_budget: int = DEFAULT_BRAM_BUDGET) -> int:
    """The default design point's cycles per image: the fewest, among targets from the fastest the
    design allows up in steps of about 1.4x, whose design (with ``popcount``'s style, scheduled for
    ``family``) the estimator puts within ``budget`` LUTs and ``bram_budget`` block RAMs of
    ``family`` (the most folded one tried when none is)."""
    from .estimate import estimate

    hwc = to_hwc(graph)
    target = fastest(hwc)
    for _ in range(40):
        try:
            folding = _auto(graph, target)
        except BitfoldError:
            target = target * 7 // 5 + 1
            continue
        plan = plan_graph(run_pipeline(graph, hardware_pipeline(folding)), QueueKind.SKID,
                          Popcount(popcount.style, family))
        total = estimate(plan, family)["total"]
        if total["lut"] <= budget and total["bram"] <= bram_budget:
            return target
        target = max(target + 1, max(target, plan.cycles_per_image) * 7 // 5)
    return target


def folding_for(graph: Graph, fold, popcount: Popcount = Popcount()) -> dict:
    """The folding (``{"input": {"pixels"}, layer: {"pe", "simd", "mode", "windows"}}``) a fold
    choice gives for ``graph`` (with its MST schedules already chosen); the default design point is
    sized with ``popcount``'s style (on xc7)."""
    if isinstance(fold, FoldAuto):
        if fold.target_cycles is None:
            return _auto(graph, default_target(graph, popcount=popcount))
        return _auto(graph, fold.target_cycles)
    if isinstance(fold, FoldParallel):
        return parallel_folding(graph)
    if isinstance(fold, FoldExplicit):
        return dict(fold.layers)
    raise TypeError(f"fold must be FoldAuto, FoldParallel or FoldExplicit, not {fold!r}")


def compile_graph(graph: Graph, fold=FoldAuto(), mst=MstKeep(), queues=QueueKind.SIZED, popcount=Popcount(),
                  debug_dir=None) -> Compiled:
    """Streamlined IR -> folded hardware IR -> plan. Raises :class:`BitfoldError` naming the layer
    when a folding does not fit it."""
    graph = with_mst(graph, mst)
    hwg = run_pipeline(graph, hardware_pipeline(folding_for(graph, fold, popcount)), debug_dir=debug_dir)
    applied = {"input": {"pixels": hwg.nodes[0].pixels}} | {
        n.name: n.folding.to_dict() for n in hwg.nodes if getattr(n, "folding", None) is not None}
    return Compiled(applied, hwg, plan_graph(hwg, queues, popcount))
