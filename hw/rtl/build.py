"""From plans to components: each unit plan type has one component that builds it."""

from ..plan import (
    UNIT_TYPES,
    ArgMaxPlan,
    FifoPlan,
    GatherPlan,
    JetPlan,
    MSTPlan,
    MVTUPlan,
    OrPoolPlan,
    Plan,
    SkidPlan,
    SplitPlan,
    WindowPlan,
)
from ..plan.interface import Interface, axis_plan
from .argmax import ArgMax
from .axis import AxisTop
from .dataflow import Dataflow
from .gather import Gather
from .jet_unit import JetUnit
from .mst_unit import MSTUnit
from .mvtu import MVTU
from .or_reduce import OrReduce
from .skid import SkidBuffer
from .sliding_window import SlidingWindow
from .split import Split
from .stream_fifo import StreamFIFO

__all__ = ["component", "dataflow", "top", "COMPONENTS"]

COMPONENTS = {MVTUPlan: MVTU, MSTPlan: MSTUnit, JetPlan: JetUnit, WindowPlan: SlidingWindow, OrPoolPlan: OrReduce,
              GatherPlan: Gather, SplitPlan: Split, FifoPlan: StreamFIFO, SkidPlan: SkidBuffer, ArgMaxPlan: ArgMax}
assert set(COMPONENTS) == set(UNIT_TYPES), "every unit plan has a component"


def component(unit):
    """The component that builds one unit plan."""
    return COMPONENTS[type(unit)](unit)


def dataflow(stages) -> Dataflow:
    """The top-level component of a :class:`~hw.plan.Plan` (or of a sequence of its stages)."""
    if isinstance(stages, Plan):
        stages = stages.stages
    return Dataflow([(s.name, component(s.unit)) for s in stages])


def top(plan: Plan, interface=Interface.STREAM):
    """The top-level component of a plan with the given interface: the :class:`Dataflow` itself
    (``stream``) or the :class:`AxisTop` around it (``axis``)."""
    core = dataflow(plan)
    if Interface(interface) == Interface.AXIS:
        return AxisTop(core, axis_plan(plan))
    return core
