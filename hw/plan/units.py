"""Every unit plan type, for dispatch by type (the RTL builder, the estimator)."""

from .jet import JetPlan
from .mst import MSTPlan
from .mvtu import MVTUPlan
from .stream import ArgMaxPlan, FifoPlan, GatherPlan, OrPoolPlan, SkidPlan, SplitPlan
from .window import WindowPlan

__all__ = ["UNIT_TYPES"]

UNIT_TYPES = (MVTUPlan, MSTPlan, JetPlan, WindowPlan, OrPoolPlan, GatherPlan, SplitPlan, FifoPlan, SkidPlan,
              ArgMaxPlan)
