"""Driving a generator of progress steps to its result (no Qt).

Long engine work (encoding into a cache, a UMAP map, a neighbour index, preparing a corpus
to explore) is written as a generator that yields a step after each chunk and returns its
result; a worker can then report progress and stop between chunks. :func:`drive` is the
one loop that runs such a generator for callers that want a plain call.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

T = TypeVar("T")


def drive(gen: Generator[Any, None, T], on_step: Callable[[Any], None] | None = None,
          should_stop: Callable[[], bool] | None = None) -> T | None:
    """Run ``gen`` to its end: ``on_step(step)`` for each step it yields; ``should_stop()``
    is asked before each step, and a yes closes the generator and returns None.
    Otherwise the generator's return value."""
    while True:
        if should_stop is not None and should_stop():
            gen.close()
            return None
        try:
            step = next(gen)
        except StopIteration as e:
            return e.value
        if on_step is not None:
            on_step(step)


__all__ = ["drive"]
