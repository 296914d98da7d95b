"""Ray actors holding the per-document stage, for corpora that outgrow one process pool.

`RayStageWorkers` starts `workers` actors that each build the stage once (the
outlet registry, the spaCy pipeline, the linker's embedder) and then run one
of the stage's methods over whole batches of documents.  The batch job drives
them exactly as it drives a local process pool (`storyline.batch`): the driver
reads the inputs, the actors extract, the driver puts the documents in the
canonical order, the actors analyse/embed/fingerprint in that order while the
driver runs the global stage on the results.  Ray starts locally
(`ray.init(num_cpus=workers)`) with a small object store unless an `address`
names an existing cluster; a local Ray is shut down by `close`.

Plain actors rather than Ray Data: a batch job needs results in a fixed order
and a bounded number of documents in flight, which a few lines of bookkeeping
give; Ray Data's streaming executor, reading tasks and per-row blocks cost
several times the stage's own CPU on a small machine (docs/benchmarks.md,
section Scale).

Ray is an optional dependency (extra `scale`); importing this module does not
import it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Small on a shared 2-core machine: a batch of documents is a few MB at most.
DEFAULT_OBJECT_STORE_BYTES = 256 * 1024 * 1024


class RayUnavailable(RuntimeError):
    """Ray is not installed (pip install 'storyline[scale]')."""


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RayUnavailable(
            "Ray is not installed; install the 'scale' extra: pip install 'storyline[scale]'"
        ) from exc
    return ray


class _StageActor:
    """Builds the stage once, then applies one of its methods to whole batches."""

    def __init__(self, make_stage: Callable[[], Any]) -> None:
        self.stage = make_stage()

    def run(self, method: str, batch: list[Any]) -> list[Any]:
        apply = getattr(self.stage, method)
        return [apply(item) for item in batch]


@dataclass
class RayStageWorkers:
    """`workers` Ray actors, each holding the stage `make_stage()` builds.

    `submit(method, batch)` queues `[stage.method(x) for x in batch]` on the
    actor with the fewest batches queued and returns a handle; `result(handle)`
    waits for that batch.  `address` connects to a cluster instead of starting
    Ray locally.
    """

    make_stage: Callable[[], Any]
    workers: int = 2
    address: str | None = None
    object_store_bytes: int = DEFAULT_OBJECT_STORE_BYTES
    _actors: list[Any] = field(default_factory=list, init=False)
    _queued: list[int] = field(default_factory=list, init=False)
    _started: bool = field(default=False, init=False)

    def start(self) -> RayStageWorkers:
        if self._actors:
            return self
        ray = _ray()
        if not ray.is_initialized():
            if self.address:
                # Remote workers get the offline switches so no model is fetched at run time.
                env = {k: v for k, v in os.environ.items() if k.startswith(("HF_", "STORYLINE_"))}
                ray.init(
                    address=self.address,
                    log_to_driver=False,
                    runtime_env={"env_vars": env} if env else None,
                )
            else:
                # No runtime_env here: local workers inherit this process's environment
                # (offline switches included), and a runtime_env would make Ray start
                # new worker processes instead of using the ones it has prestarted.
                ray.init(
                    num_cpus=self.workers,  # the driver reads and links outside Ray's CPUs
                    object_store_memory=self.object_store_bytes,
                    include_dashboard=False,
                    log_to_driver=False,
                )
                self._started = True
        actor_class = ray.remote(num_cpus=1)(_StageActor)
        self._actors = [actor_class.remote(self.make_stage) for _ in range(max(1, self.workers))]
        self._queued = [0] * len(self._actors)
        return self

    def submit(self, method: str, batch: list[Any]) -> tuple[int, Any]:
        self.start()
        index = min(range(len(self._actors)), key=self._queued.__getitem__)
        self._queued[index] += 1
        return index, self._actors[index].run.remote(method, batch)

    def result(self, handle: tuple[int, Any]) -> list[Any]:
        index, ref = handle
        try:
            return list(_ray().get(ref))
        finally:
            self._queued[index] -= 1

    def close(self) -> None:
        if self._actors:
            ray = _ray()
            for actor in self._actors:
                ray.kill(actor)
            self._actors = []
        if self._started:
            _ray().shutdown()
            self._started = False
