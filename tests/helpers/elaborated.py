"""What an elaborated component holds, counted from Amaranth's own netlist: flip-flop bits (every
signal a ``sync`` statement assigns) and memory bits (depth x width of every memory). Tests compare
these with the unit plans' ``register_bits`` and ``memory_bits``."""

from amaranth.hdl import Fragment, Shape
from amaranth.hdl._mem import MemoryInstance

__all__ = ["counts"]


def counts(component) -> dict:
    """``{"register_bits", "memory_bits"}`` of an elaboratable, summed over its whole hierarchy."""
    regs, mem = 0, 0
    stack = [Fragment.get(component, None)]
    while stack:
        frag = stack.pop()
        if isinstance(frag, MemoryInstance):
            mem += frag._data.depth * Shape.cast(frag._data.shape).width
        for domain, stmts in frag.statements.items():
            if domain == "comb":
                continue
            seen = set()
            for stmt in stmts:
                for sig in stmt._lhs_signals():
                    if id(sig) not in seen:
                        seen.add(id(sig))
                        regs += len(sig)
        stack.extend(sub for sub, _, _ in frag.subfragments)
    return {"register_bits": regs, "memory_bits": mem}
