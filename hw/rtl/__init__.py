"""Amaranth components, one ``wiring.Component`` per file; every dataflow link is a stream.

Conventions shared by all components:

* ``i`` / ``o`` are :class:`amaranth.lib.stream.Signature` streams (payload / valid / ready); a beat
  moves when ``valid & ready`` at a clock edge. ``valid`` never waits for ``ready``.
* Element ``j`` of a payload holding several elements of ``b`` bits sits at bits ``[j*b, (j+1)*b)``
  (element 0 in the least significant bits). A pixel holds its channels in order; a window holds
  pixels in (row, column) order; signed values are two's complement.
* Binary values are bits (1 means +1).
"""
