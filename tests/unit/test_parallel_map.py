"""`parallel_map` and `concurrently` (store/dynamo.py): results in order, the first item in the
calling thread, the caller's context in every task, failures raised in the items' order."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest

from chalicelib.store.dynamo import concurrently, in_background, parallel_map

_seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="")


def test_results_come_back_in_the_items_order_whatever_finishes_first() -> None:
    def slow_first(n: int) -> int:
        time.sleep(0.02 if n == 0 else 0)
        return n * 10

    assert parallel_map(slow_first, range(5)) == [0, 10, 20, 30, 40]
    assert parallel_map(slow_first, []) == []
    assert parallel_map(slow_first, [3]) == [30]


def test_the_first_item_runs_in_the_calling_thread_and_the_others_on_the_pool() -> None:
    threads = parallel_map(lambda _: threading.current_thread().name, range(3))
    assert threads[0] == threading.current_thread().name
    assert all(name.startswith("dynamodb-read") for name in threads[1:])
    assert parallel_map(lambda _: threading.current_thread().name, [0]) == [threads[0]]


def test_every_task_sees_the_callers_context_and_cannot_change_it() -> None:
    _seen.set("correlation-42")

    def read_then_write(_: int) -> str:
        value = _seen.get()
        _seen.set("changed by a task")
        return value

    assert parallel_map(read_then_write, range(3)) == ["correlation-42"] * 3
    assert _seen.get() == "correlation-42"


def test_the_first_failure_in_the_items_order_is_raised() -> None:
    def fail_on_odd(n: int) -> int:
        if n % 2:
            raise ValueError(f"item {n}")
        return n

    with pytest.raises(ValueError, match="item 1"):
        parallel_map(fail_on_odd, range(4))


def test_concurrently_waits_for_every_call_then_raises_the_first_failure() -> None:
    finished: list[str] = []

    def slow() -> str:
        time.sleep(0.05)
        finished.append("slow")
        return "slow"

    def broken() -> str:
        raise RuntimeError("broken")

    with pytest.raises(RuntimeError, match="broken"):
        concurrently(broken, slow)
    assert finished == ["slow"]  # not left running behind the failure
    assert concurrently(slow, lambda: 2) == ("slow", 2)


def test_in_background_runs_every_item_on_the_pool_while_the_caller_works() -> None:
    """`in_background`: all items on the pool (none in the caller's thread), the caller's
    context in each, every outcome in order, a failure returned as the item's outcome."""
    caller = threading.current_thread().name
    _seen.set("correlation-7")
    started = threading.Event()

    def task(n: int) -> tuple[str, str, int]:
        started.set()
        if n == 2:
            raise ValueError("item 2")
        time.sleep(0.02 if n == 0 else 0)
        return threading.current_thread().name, _seen.get(), n

    join = in_background(task, range(4))
    assert started.wait(5)  # running before the caller asks for anything
    outcomes = join()
    assert [o[2] for o in outcomes if isinstance(o, tuple)] == [0, 1, 3]
    assert isinstance(outcomes[2], ValueError)
    assert all(o[0] != caller and o[1] == "correlation-7" for o in outcomes if isinstance(o, tuple))
    assert in_background(task, [])() == []


def test_the_pool_runs_tasks_at_once_up_to_its_size_and_never_more_threads() -> None:
    """`store/handover.Pool`: three tasks that each wait for the other two end (they ran at
    once); five on a pool of two all end, on two threads."""
    from chalicelib.store.handover import Pool

    together = threading.Barrier(3, timeout=5)
    pool = Pool(3, "test-pool")
    tasks = [pool.submit(lambda n: (together.wait(), n)[1], n) for n in range(3)]
    assert [task.result() for task in tasks] == [0, 1, 2]

    small = Pool(2, "small-pool")
    names = [small.submit(lambda _: threading.current_thread().name, n) for n in range(5)]
    used = {task.result() for task in names}
    assert used <= {"small-pool_0", "small-pool_1"}
    assert len(small._threads) <= 2


def test_a_task_cancelled_before_a_thread_takes_it_never_runs() -> None:
    from concurrent.futures import CancelledError

    from chalicelib.store.handover import Pool

    pool = Pool(1, "one-thread")
    release = threading.Event()
    ran: list[int] = []
    busy = pool.submit(lambda _: release.wait(5), None)
    waiting = pool.submit(ran.append, 1)
    waiting.cancel()
    release.set()
    assert busy.result() is True
    with pytest.raises(CancelledError):
        waiting.result()
    assert pool.submit(ran.append, 2).result() is None
    assert ran == [2]


def test_what_a_task_raises_is_raised_to_whoever_waits_on_it_and_the_thread_goes_on() -> None:
    from chalicelib.store.handover import Pool

    pool = Pool(1, "raising")

    def stop(_: None) -> None:
        raise SystemExit("stopped")  # not an Exception: still handed over, not lost

    with pytest.raises(SystemExit, match="stopped"):
        pool.submit(stop, None).result()
    assert pool.submit(lambda n: n + 1, 1).result() == 2
