"""The per-document stage on Ray Data, for corpora that outgrow one process pool.

Input files are read in Ray tasks (one task per file), documents flow in
small batches to a pool of actors that each build the stage once (the outlet
registry, the spaCy pipeline, the linker's embedder), and results stream back
to the driver, which runs the order-dependent global stage.  Ray starts
locally (`ray.init(num_cpus=...)`) with a small object store unless an
`address` names an existing cluster; a local Ray is shut down when the job
ends.

Ray is an optional dependency (extra `scale`); importing this module does not
import it.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# Small on a shared 2-core machine: documents are a few kB and stream through.
DEFAULT_OBJECT_STORE_BYTES = 256 * 1024 * 1024
DEFAULT_BATCH_SIZE = 8
DEFAULT_BLOCK_BYTES = 64 * 1024


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
    """Ray Data class UDF: builds the stage once per actor, maps batches of pickled items."""

    def __init__(self, make_stage: Callable[[], Callable[[Any], Any]]) -> None:
        self.stage = make_stage()

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[bytes]]:
        return {
            "payload": [
                pickle.dumps(self.stage(pickle.loads(item)), protocol=pickle.HIGHEST_PROTOCOL)
                for item in batch["payload"]
            ]
        }


@dataclass
class RayRunner:
    """Runs read -> per-document stage over input files on Ray; see the module docstring.

    `workers` actors each hold one copy of the stage; `address` connects to a
    cluster instead of starting Ray locally.
    """

    workers: int = 2
    address: str | None = None
    object_store_bytes: int = DEFAULT_OBJECT_STORE_BYTES
    batch_size: int = DEFAULT_BATCH_SIZE
    block_bytes: int = DEFAULT_BLOCK_BYTES

    def __post_init__(self) -> None:
        self._started = False

    def start(self) -> None:
        ray = _ray()
        if ray.is_initialized():
            return
        if self.address:
            ray.init(address=self.address, log_to_driver=False)
        else:
            # Workers inherit the offline switches so no model is fetched at run time.
            env = {k: v for k, v in os.environ.items() if k.startswith(("HF_", "STORYLINE_"))}
            ray.init(
                # One extra logical CPU for the reading tasks beside the stage actors.
                num_cpus=self.workers + 1,
                object_store_memory=self.object_store_bytes,
                include_dashboard=False,
                log_to_driver=False,
                runtime_env={"env_vars": env} if env else None,
            )
            self._started = True
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        # Small blocks: one large input file must still feed every actor.
        context.target_max_block_size = self.block_bytes

    def run(
        self,
        files: list[str],
        read_file: Callable[[str], Iterator[Any]],
        make_stage: Callable[[], Callable[[Any], Any]],
    ) -> Iterator[Any]:
        """`make_stage()(item)` for every item `read_file(f)` yields, in no fixed order."""
        ray = _ray()
        self.start()

        def read_rows(row: dict[str, Any]) -> list[dict[str, bytes]]:
            return [
                {"payload": pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)}
                for item in read_file(row["path"])
            ]

        dataset = (
            ray.data.from_items([{"path": f} for f in files])
            .flat_map(read_rows, num_cpus=0.5)
            .map_batches(
                _StageActor,
                fn_constructor_kwargs={"make_stage": make_stage},
                compute=ray.data.ActorPoolStrategy(size=self.workers),
                batch_size=self.batch_size,
                num_cpus=1,
                batch_format="numpy",
            )
        )
        for row in dataset.iter_rows():
            yield pickle.loads(row["payload"])

    def close(self) -> None:
        if self._started:
            _ray().shutdown()
            self._started = False
