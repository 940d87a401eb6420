"""The threads that make a request's independent AWS calls at once: a pool of at most 8, one
per process, each task's outcome behind a lock of its own.

Not `concurrent.futures.ThreadPoolExecutor`: its `Future` is built on a `threading.Condition`
(an `RLock` and pure-Python waiters), and handing a task over runs that code on both sides.
After an AWS call's wait that code runs cold, and on this machine it was the largest share of a
filing's own time (docs/performance.md, stop 25: about 0.2 ms less on a filing's two
hand-overs, measured alternately). Here a task is a C lock, taken when the task is made and
released when its outcome is known, and the threads wait on `queue.SimpleQueue` (C as well).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Task(Generic[R]):
    """One call handed to the pool: `result()` waits for it and gives its value, or raises what
    it raised. `cancel()` before a thread takes it means it never runs (its result raises
    `CancelledError`); a task already running ends as it would have."""

    __slots__ = ("_call", "_cancelled", "_done", "_failed", "_value")

    def __init__(self, call: Callable[[], R]) -> None:
        self._call = call
        self._cancelled = False
        self._value: Any = CancelledError()
        self._failed = True
        self._done = threading.Lock()  # the C lock itself (`_thread.allocate_lock`)
        self._done.acquire()

    def run(self) -> None:
        """On a pool thread: the call, unless cancelled; then the outcome is released."""
        try:
            if not self._cancelled:
                self._value, self._failed = self._call(), False
        except BaseException as error:  # handed to whoever waits on the result
            self._value = error
        finally:
            self._done.release()

    def cancel(self) -> None:
        self._cancelled = True

    def result(self) -> R:
        with self._done:  # held until `run` ends
            pass
        if self._failed:
            raise self._value
        value: R = self._value
        return value


class Pool:
    """At most `size` threads, started as tasks find none free, each taking tasks in turn from
    one queue. Daemon threads: a process ends without waiting on them (Lambda freezes the
    environment between calls; nothing is left running when a request answers, since every
    caller waits on its tasks)."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._queue: queue.SimpleQueue[Task[Any]] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._starting = threading.Lock()

    def submit(self, function: Callable[[T], R], item: T) -> Task[R]:
        task: Task[R] = Task(lambda: function(item))
        self._queue.put(task)
        # A task still waiting right after being queued found no thread free yet (or one is
        # waking up for it): another thread, up to `size`, as ThreadPoolExecutor grows.
        if len(self._threads) < self._size and self._queue.qsize():
            self._start_thread()
        return task

    def _start_thread(self) -> None:
        with self._starting:
            if len(self._threads) >= self._size:
                return
            thread = threading.Thread(
                target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _work(self) -> None:
        take = self._queue.get
        while True:
            take().run()
