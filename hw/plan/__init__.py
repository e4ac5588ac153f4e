"""The hardware plan: one typed, frozen description per hardware unit, between the folded IR and the RTL.

A unit's plan holds everything about it that is not logic: folding, widths, accumulator range,
weight words and memory style, cycles per vector, latency, register and memory bits, the adder
tree's shape. :func:`plan_graph` makes a design's :class:`Plan` from a folded IR graph (the one
place that dispatches on IR op types for hardware); the RTL (:mod:`hw.rtl`) builds each unit from
its plan, the estimator (:mod:`hw.estimate`) prices each unit from its plan, and the analyses
(:mod:`hw.analysis`) read cycles and latency from it. This package is numpy only.
"""

from .design import LayerPlan, Plan, Stage
from .fold import auto_folding, fastest
from .from_graph import builds_mst, hw_weights, plan_graph
from .jet import JetPlan
from .layout import InputLayout, OutputLayout, input_layout, output_layout
from .memory import MemoryStyle, memory_style
from .mst import MSTPlan
from .mvtu import MVTUPlan
from .outputs import ScoreOut, ThresholdOut, hw_thresholds
from .popcount import CompressorTreePlan, Popcount, PopcountStyle
from .stream import ArgMaxPlan, FifoPlan, GatherPlan, OrPoolPlan, QueueKind, SkidPlan, SplitPlan
from .tree import AdderTreePlan
from .units import UNIT_TYPES
from .window import WindowPlan

__all__ = [
    "Plan", "LayerPlan", "Stage", "plan_graph", "builds_mst", "hw_weights", "auto_folding", "fastest",
    "MVTUPlan", "MSTPlan", "JetPlan", "WindowPlan", "OrPoolPlan", "GatherPlan", "SplitPlan", "FifoPlan", "SkidPlan",
    "ArgMaxPlan", "AdderTreePlan", "ThresholdOut", "ScoreOut", "hw_thresholds", "QueueKind", "MemoryStyle",
    "memory_style", "InputLayout", "OutputLayout", "input_layout", "output_layout", "UNIT_TYPES", "Popcount",
    "PopcountStyle", "CompressorTreePlan",
]
