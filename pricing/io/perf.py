"""Keeping bulk work fast."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar, TypeVarTuple

if TYPE_CHECKING:
    from concurrent.futures import Future

_R = TypeVar("_R")
_Args = TypeVarTuple("_Args")


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector around bulk work on large sheets.

    A 100,000-row sheet is close to a million live objects; every full collection walks
    them all, which costs more than the import itself. Bulk reading and storing create no
    reference cycles. On the way out the objects made meanwhile are frozen (moved out of the
    collector's view; reference counting still frees them), so re-enabling does not start
    the deferred full collection over all of them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def frugal_arrow_memory() -> None:
    """Let Arrow give freed memory back to the system as it goes.

    Arrow's default allocator (mimalloc) keeps what a big file's columns freed for reuse, so a
    million-line import peaked 100 MB higher than it ever held at once; jemalloc returns it
    after 200 ms. (At once, every new column faulted its pages in afresh: 0.2 s more for a
    million lines; after 500 ms, the peak came within a few MB of 600.) Where a build has no
    jemalloc, the default stays.
    """
    import pyarrow as pa

    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
        pa.jemalloc_set_decay_ms(200)
    except (NotImplementedError, pa.ArrowNotImplementedError):
        pass


def preload(*modules: str) -> None:
    """Start importing ``modules`` on another thread: while this one waits on a file or on
    Arrow (which release the GIL), the imports a command needs next get done."""
    import importlib

    in_background(lambda: [importlib.import_module(name) for name in modules])


def in_background(work: Callable[[*_Args], _R], *args: *_Args) -> Future[_R]:
    """``work(*args)`` started on another thread; its future."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(work, *args)
    finally:
        pool.shutdown(wait=False)  # the thread ends when the work does
