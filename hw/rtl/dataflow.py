from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Dataflow"]


class Dataflow(wiring.Component):
    """The top level: a chain of stream components, each one's ``o`` feeding the next one's ``i``.

    Parameters
    ----------
    stages : list of (str, wiring.Component)
        Named stages in dataflow order; neighbouring payload widths must match.

    Members
    -------
    i : ``In(stream.Signature(first stage's input width))``
    o : ``Out(stream.Signature(last stage's output width))``
    """

    def __init__(self, stages):
        self.stages = list(stages)
        for (na, a), (nb, b) in zip(self.stages, self.stages[1:], strict=False):
            wa, wb = a.o.payload.shape().width, b.i.payload.shape().width
            if wa != wb:
                raise ValueError(f"stage {na} emits {wa}-bit beats but {nb} takes {wb}-bit beats")
        first, last = self.stages[0][1], self.stages[-1][1]
        super().__init__({
            "i": In(stream.Signature(first.i.payload.shape().width)),
            "o": Out(stream.Signature(last.o.payload.shape().width)),
        })

    def elaborate(self, platform):
        m = Module()
        for name, stage in self.stages:
            m.submodules[name] = stage
        wiring.connect(m, wiring.flipped(self.i), self.stages[0][1].i)
        for (_, a), (_, b) in zip(self.stages, self.stages[1:], strict=False):
            wiring.connect(m, a.o, b.i)
        wiring.connect(m, self.stages[-1][1].o, wiring.flipped(self.o))
        return m
