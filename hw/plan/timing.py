"""Timing models of a sliding window feeding a unit: cycles per image and item-level arrival times.

Both read the window's walk (:class:`~hw.plan.window.WindowPlan`) and the consumer's cycles per
window and latency from their plans; ``bitfold sim`` measures what they predict.
"""

__all__ = ["conv_cycles", "window_times"]


def conv_cycles(steps, ends, per_vector, images=4):
    """Steady-state cycles per image of a sliding window feeding a unit that needs ``per_vector``
    cycles per window (input pixels always available).

    The window unit walks one step per cycle but holds a single finished window: it may walk on
    through steps that complete no window, yet window ``j + 1`` cannot be emitted before the unit
    has taken window ``j``. The unit takes a window ``per_vector`` cycles after the previous one,
    and at the earliest the cycle after it was emitted. So the unit idles where the walk between
    two windows is longer than ``per_vector`` steps: at row ends when the kernel is wider than
    ``per_vector``, and at each image's start (the first ``kh - 1`` rows). This recurrence over a
    few images gives the exact period.
    """
    emit, take, starts = -1, None, []
    prev_end = None
    for k in range(images):
        for j, e in enumerate(ends):
            pos = k * steps + e
            emit = pos if prev_end is None else max(take, emit + (pos - prev_end))
            take = emit + 1 if take is None else max(take + per_vector, emit + 1)
            prev_end = pos
            if j == 0:
                starts.append(take)
    return max(steps, starts[-1] - starts[-2]) if len(starts) > 1 else steps


def window_times(arrive, window, per_vector, done_after):
    """Item-level timing of a sliding window + consumer for one image through an empty pipeline.

    ``arrive[p]``: cycle input word ``p`` (``in_pixels`` pixels, raster order) becomes available.
    The walk takes one word per cycle, waits for each input word, and emits group ``j`` only once
    group ``j - 1`` was taken; the consumer takes a group every ``per_vector`` cycles and its
    result is ready ``done_after`` cycles after it took the group. Returns the ready cycle of each
    output group.
    """
    p = window.in_pixels
    h, words = window.height, window.width // p
    t, l = window.pads[0], window.pads[1] // p
    ends = set(window.ends)
    time, take, out = -1, None, []
    for step in range(window.steps):
        y, x = divmod(step, window.words_per_row)
        inside = t <= y < t + h and l <= x < l + words
        time = max(time + 1, arrive[(y - t) * words + (x - l)] if inside else 0)
        if step in ends:
            if take is not None:
                time = max(time, take)
            take = time + 1 if take is None else max(take + per_vector, time + 1)
            out.append(take + done_after)
    return out
