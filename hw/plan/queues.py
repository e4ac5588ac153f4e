"""How deep each layer's queue must be: from the producer's and the consumer's schedules.

A queue decouples two layers whose rates differ within an image (a convolution emits its pixels
row by row, after its first rows; the next one takes them as its own walk allows). Both run at the
pipeline's rate on average, so the queue's occupancy is bounded; this module runs the item-level
schedule of every stage (the same timing rules as :mod:`hw.plan.timing`) over a few images in
steady state, with the input offered at the pipeline's rate and no queue ever full, and returns
per layer the most beats that wait between its output and its consumer's intake. Given queues
that deep, no layer waits for room, so the schedule holds; ``bitfold sim`` checks the resulting
cycles per image.
"""

from .mvtu import InputMode, MVTUPlan
from .stream import GatherPlan, SplitPlan
from .window import WindowPlan

__all__ = ["layer_schedules", "queue_needs"]

IMAGES = 4  # images simulated; the last ones are in steady state


def _paced(times, period, latency):
    """A unit that takes an item at most every ``period`` cycles: ``(intake, output)`` times."""
    intake, out = [], []
    for t in times:
        t = t if not intake else max(t, intake[-1] + period)
        intake.append(t)
        out.append(t + latency)
    return intake, out


def _window(arrive, window, per_vector, done_after, images):
    """The window walk over ``images`` images (words offered at ``arrive``): ``(intake times of
    the input words, ready times of the output groups)``; see :func:`hw.plan.timing.window_times`."""
    p = window.in_pixels
    h, words = window.height, window.width // p
    t, l = window.pads[0], window.pads[1] // p
    ends = set(window.ends)
    per_image = h * words
    time, take, intake, out = -1, None, [], []
    for n in range(images):
        for step in range(window.steps):
            y, x = divmod(step, window.words_per_row)
            inside = t <= y < t + h and l <= x < l + words
            time = max(time + 1, arrive[n * per_image + (y - t) * words + (x - l)] if inside else 0)
            if inside:
                intake.append(time)
            if step in ends:
                if take is not None:
                    time = max(time, take)
                take = time + 1 if take is None else max(take + per_vector, time + 1)
                out.append(take + done_after)
    return intake, out


def _stage(units, i, arrive, images, tail):
    """Schedule of stage ``units[i]`` (with its consumer, for a window): ``(intake, output, next i)``."""
    u = units[i]
    if isinstance(u, GatherPlan):
        intake, _ = _paced(arrive, 1, 0)
        _, out = _paced([intake[j + u.count - 1] for j in range(0, len(intake), u.count)], 1, u.latency)
        return intake, out, i + 1
    if isinstance(u, SplitPlan):
        intake, out, last = [], [], -1
        for a in arrive:
            t = max(a, last)
            intake.append(t)
            for k in range(u.count):
                out.append(t + u.latency + k)
            last = out[-1]
        return intake, out, i + 1
    if isinstance(u, WindowPlan):
        consumer = units[i + 1]
        intake, out = _window(arrive, u, consumer.cycles_per_vector, consumer.latency + tail, images)
        return intake, out, i + 2
    if isinstance(u, MVTUPlan) and u.input == InputMode.CHUNK:
        if not u.buffered:
            intake, _ = _paced(arrive, 1, 0)
            _, out = _paced([intake[j + u.sf - 1] for j in range(0, len(intake), u.sf)], u.depth,
                            u.latency + tail)
            return intake, out, i + 1
        intake, first, out = [], [], []  # two banks: vector v waits for v - 2 to be issued
        for v in range(len(arrive) // u.sf):
            free = first[v - 2] + u.depth if v >= 2 else 0
            for j in range(u.sf):
                intake.append(max(arrive[v * u.sf + j], free, intake[-1] + 1 if intake else 0))
            f = max(intake[-1] + 2, first[-1] + u.depth if first else 0)
            first.append(f)
            out.append(f + u.latency - 2 + tail)
        return intake, out, i + 1
    intake, out = _paced(arrive, u.cycles_per_vector, u.latency + tail)
    return intake, out, i + 1


def layer_schedules(plan, images=IMAGES) -> list:
    """Per layer ``(intake times of its input beats, ready times of its output beats)`` over
    ``images`` images, the input's beats offered one per cycle from cycle ``n * period`` for image
    ``n`` (``period``: the plan's cycles per image), no queue ever full."""
    period = plan.cycles_per_image
    arrive = [n * period + j for n in range(images) for j in range(plan.input.beats)]
    out = []
    for layer in plan.layers:
        units = [s.unit for s in layer.compute]
        tail = layer.queue_latency
        i, times, intake = 0, arrive, None
        while i < len(units):
            last = i == len(units) - 1 or (isinstance(units[i], WindowPlan) and i + 2 == len(units))
            got, times, i = _stage(units, i, times, images, tail if last else 0)
            intake = got if intake is None else intake
        out.append((intake, times))
        arrive = times
    return out


def queue_needs(plan, images=IMAGES) -> dict:
    """Per layer (but the last): the most output beats that wait for the next layer's intake."""
    sched = layer_schedules(plan, images)
    needs = {}
    for layer, (_, emitted), (taken, _) in zip(plan.layers, sched, sched[1:], strict=False):
        need, j = 0, 0
        for k, c in enumerate(taken):
            while j < len(emitted) and emitted[j] <= c:
                j += 1
            need = max(need, j - k)
        needs[layer.name] = need
    return needs
