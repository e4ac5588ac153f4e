"""A design's plan: its layers in dataflow order, each a few stages, each stage one unit's plan."""

from dataclasses import dataclass, field
from functools import cached_property

from .layout import InputLayout, OutputLayout
from .mvtu import InputMode, MVTUPlan
from .popcount import Popcount
from .stream import ArgMaxPlan, GatherPlan, QueueKind, SplitPlan
from .timing import conv_cycles, window_times
from .units import UNIT_TYPES
from .window import WindowPlan

__all__ = ["Stage", "LayerPlan", "Plan"]


@dataclass(frozen=True)
class Stage:
    """One unit of the design: its instance name (Verilog-friendly, unique) and its plan."""

    name: str
    unit: UNIT_TYPES

    def __post_init__(self):
        if not isinstance(self.unit, UNIT_TYPES):
            raise TypeError(f"stage {self.name}: {type(self.unit).__name__} is not a unit plan")


@dataclass(frozen=True, eq=False)
class LayerPlan:
    """The hardware of one IR layer (or the class unit at the end): the stages that compute it, in
    order (width converters, then a window generator for convolutions and pooling, then the unit),
    and the queue after them (units with an output queue of their own have none).

    ``name`` is the IR layer's name (``argmax`` for the class unit), ``op`` its IR op (``ArgMax``
    for the class unit); ``in_beats``: beats per image on its input; ``note`` says why a layer
    was not built as asked (an MST schedule left unused)."""

    name: str
    op: str
    compute: tuple
    queue: Stage | None = None
    note: str | None = None
    source: object = field(default=None, repr=False)  # the IR node, when there is one
    in_beats: int = 1

    @property
    def stages(self) -> tuple:
        return self.compute + ((self.queue,) if self.queue else ())

    @property
    def unit(self):
        """The unit whose output is the layer's result (before the queue)."""
        return self.compute[-1].unit

    @property
    def window(self) -> WindowPlan | None:
        return next((s.unit for s in self.compute if isinstance(s.unit, WindowPlan)), None)

    @property
    def out_beats(self) -> int:
        """Beats per image on the layer's output."""
        return self._walk()[1]

    @property
    def queue_latency(self) -> int:
        return self.queue.unit.latency if self.queue else 0

    @property
    def latency(self) -> int:
        """Sum of the stages' latencies (each from an item offered on its input to its result
        offered on its output, when nothing stalls)."""
        return sum(s.unit.latency for s in self.stages)

    @property
    def cycles_per_image(self) -> int:
        """Cycles per image this layer needs: the most any of its stages needs (a window walk
        feeding its unit: :func:`conv_cycles`; a unit: its cycles per item times its items; a
        width converter: the beats on its wider-counted side)."""
        return self._walk()[0]

    def _walk(self):
        """``(cycles per image, output beats per image)``, stage by stage."""
        units = [s.unit for s in self.compute]
        cycles, beats, i = 0, self.in_beats, 0
        while i < len(units):
            u = units[i]
            if isinstance(u, GatherPlan):
                cycles, beats = max(cycles, beats), beats // u.count
            elif isinstance(u, SplitPlan):
                beats *= u.count
                cycles = max(cycles, beats)
            elif isinstance(u, WindowPlan):
                consumer = units[i + 1]
                cycles = max(cycles, conv_cycles(u.steps, u.ends, consumer.cycles_per_vector))
                beats = u.groups
                i += 1
            elif isinstance(u, MVTUPlan) and u.input == InputMode.CHUNK:
                cycles, beats = max(cycles, beats, beats // u.sf * u.cycles_per_vector), beats // u.sf
            else:
                cycles = max(cycles, beats * u.cycles_per_vector)
            i += 1
        return cycles, beats

    def arrivals(self, arrive: list) -> list:
        """Ready cycles of this layer's output beats, given the ready cycles of its input beats,
        through an empty pipeline without stalls."""
        units = [s.unit for s in self.compute]
        queue = self.queue_latency
        i = 0
        while i < len(units):
            u = units[i]
            last = i == len(units) - 1 or (isinstance(u, WindowPlan) and i + 1 == len(units) - 1)
            tail = queue if last else 0
            if isinstance(u, GatherPlan):
                arrive = _paced([arrive[j + u.count - 1] + u.latency for j in range(0, len(arrive), u.count)], 1)
            elif isinstance(u, SplitPlan):
                out, t = [], -1
                for a in arrive:
                    for _ in range(u.count):
                        t = max(t + 1, a + u.latency)
                        out.append(t)
                arrive = out
            elif isinstance(u, WindowPlan):
                consumer = units[i + 1]
                arrive = window_times(arrive, u, consumer.cycles_per_vector, consumer.latency + tail)
                i += 1
                tail = 0
            elif isinstance(u, MVTUPlan) and u.input == InputMode.CHUNK:
                arrive = _paced([arrive[j + u.sf - 1] + u.latency for j in range(0, len(arrive), u.sf)],
                                u.cycles_per_vector)
            else:
                arrive = _paced([a + u.latency for a in arrive], u.cycles_per_vector)
            arrive = [a + tail for a in arrive]
            i += 1
        return arrive

    @property
    def register_bits(self) -> int:
        return int(sum(s.unit.register_bits for s in self.stages))

    @property
    def memory_bits(self) -> int:
        return int(sum(s.unit.memory_bits for s in self.stages))


@dataclass(frozen=True, eq=False)
class Plan:
    """A whole design: layers in dataflow order, the top-level stream layouts, the queue kind and
    how its binary units count bits.

    Every timing and storage figure of the design is computed here from the units' plans:
    :attr:`layer_cycles`, :attr:`cycles_per_image`, :attr:`latency`, per-layer register and memory
    bits."""

    layers: tuple
    input: InputLayout
    output: OutputLayout
    queues: QueueKind = QueueKind.IMAGE
    popcount: Popcount = Popcount()

    def __post_init__(self):
        object.__setattr__(self, "layers", tuple(self.layers))
        stages = self.stages
        names = [s.name for s in stages]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"stage names must be unique; repeated: {', '.join(dup)}")
        for a, b in zip(stages, stages[1:], strict=False):
            if a.unit.o_width != b.unit.i_width:
                raise ValueError(f"stage {a.name} emits {a.unit.o_width}-bit beats but {b.name} takes "
                                 f"{b.unit.i_width}-bit beats")

    @property
    def stages(self) -> tuple:
        return tuple(s for layer in self.layers for s in layer.stages)

    def __getitem__(self, name) -> LayerPlan:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer named {name!r}")

    @cached_property
    def layer_cycles(self) -> dict:
        """Cycles per image of the input stream and of each layer (the slowest sets the rate)."""
        return {"input": self.input.beats} | {layer.name: layer.cycles_per_image for layer in self.layers}

    @property
    def cycles_per_image(self) -> int:
        """The pipeline's initiation interval: its slowest stage."""
        return max(self.layer_cycles.values())

    @property
    def bottleneck(self) -> str:
        cycles = self.layer_cycles
        return max(cycles, key=cycles.get)

    @cached_property
    def latency(self) -> int:
        """Cycles from the first input beat of an image to its result through an empty pipeline
        without stalls (an item-level model of every layer; ``bitfold sim`` measures it)."""
        arrive = list(range(self.input.beats))
        for layer in self.layers:
            arrive = layer.arrivals(arrive)
        return int(arrive[-1])

    @property
    def class_unit(self) -> ArgMaxPlan:
        return self.layers[-1].unit


def _paced(times, period):
    """Ready cycles of items that leave a unit at most one per ``period`` cycles."""
    out = []
    for t in times:
        out.append(t if not out else max(t, out[-1] + period))
    return out
