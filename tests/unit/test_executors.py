from __future__ import annotations

from storyline.executors import InProcessExecutor, ProcessPoolExecutor, make_executor


def _square(x: int) -> int:
    return x * x


def test_pool_keeps_input_order_and_is_lazy() -> None:
    pool = ProcessPoolExecutor(2, prefetch=2)
    consumed = []

    def items():
        for i in range(50):
            consumed.append(i)
            yield i

    try:
        results = pool.map(_square, items())
        first = next(results)
        assert first == 0
        assert len(consumed) <= pool.window + 1  # bounded read-ahead
        assert [first, *results] == [i * i for i in range(50)]
    finally:
        pool.close()


def test_make_executor() -> None:
    assert isinstance(make_executor(1), InProcessExecutor)
    pool = make_executor(2)
    try:
        assert isinstance(pool, ProcessPoolExecutor)
    finally:
        pool.close()
