"""Progress of work done in parts that run side by side: one 0..1 reporter per part, one
overall figure weighted by each part's expected cost."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from mixdown.planning.plan import OutputPlan, Render

#: Receives the fraction done, 0..1.
Progress = Callable[[float], None]
#: Audio's cost, as if it were a picture of this many pixels.
_AUDIO_PIXELS = 50_000
#: A splice or remux mostly copies: it costs about as little as audio.
_COPY_PIXELS = 20_000


def render_weight(render: Render) -> float:
    """Relative cost of a render: encoded pixels times duration."""
    return float(render.duration) * sum(_pixels(o) for o in render.outputs)


def _pixels(output: OutputPlan) -> int:
    if output.copy is not None or output.splice:
        return _COPY_PIXELS
    return output.video.width * output.video.height if output.video else _AUDIO_PIXELS


class WeightedProgress:
    """Overall progress from each part's fraction: thread-safe and never decreasing.

    ``ceiling`` holds back the last step for work that follows the parts (a join)."""

    def __init__(
        self, weights: Sequence[float], report: Progress | None, ceiling: float = 1.0
    ) -> None:
        self._weights = list(weights)
        self._total = sum(self._weights) or 1.0
        self._done = [0.0] * len(self._weights)
        self._report = report
        self._ceiling = ceiling
        self._lock = threading.Lock()
        self._last = 0.0

    def part(self, index: int) -> Progress:
        return lambda fraction: self._update(index, fraction)

    def _update(self, index: int, fraction: float) -> None:
        if self._report is None:
            return
        with self._lock:
            self._done[index] = max(self._done[index], min(1.0, fraction))
            pairs = zip(self._weights, self._done, strict=True)
            value = min(self._ceiling, sum(w * d for w, d in pairs) / self._total)
            if value > self._last:
                self._last = value
                self._report(value)
