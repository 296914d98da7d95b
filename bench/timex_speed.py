"""Throughput of the temporal tagger on the TimeBank+AQUAINT and MEANTIME texts (one core).

    .venv/bin/python bench/timex_speed.py [--passes 5] [--profile 20]

Prints documents per second (best pass) over each data set; needs the
evaluation data (see storyline.eval).  `--profile N` then runs one more pass
under cProfile and prints the N functions with the most own time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from storyline.analyse.timex import tag_times
from storyline.eval import DataUnavailable
from storyline.eval.timex import load_documents


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    profiled: list[tuple[str, str | None]] = []
    for dataset in ("tbaq", "meantime"):
        try:
            documents = [(d.text, d.dct) for d in load_documents(dataset)]
        except DataUnavailable as missing:
            print(f"skipped {dataset}: {missing}")
            continue
        characters = sum(len(text) for text, _ in documents)
        best_wall = best_cpu = float("inf")
        for _ in range(args.passes):
            wall, cpu = time.perf_counter(), time.process_time()
            for text, dct in documents:
                tag_times(text, dct)
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        # CPU time is what one core spends; wall time also counts waiting for a shared core.
        print(
            f"{dataset}: {len(documents)} documents of {characters / len(documents):.0f} chars: "
            f"{len(documents) / best_cpu:.0f} docs per CPU second "
            f"({characters / best_cpu / 1e6:.2f} MB/s), "
            f"{len(documents) / best_wall:.0f} docs/s wall "
            f"(best of {args.passes})"
        )
        profiled.extend(documents)
    if args.profile and profiled:
        profiler = cProfile.Profile()
        profiler.enable()
        for text, dct in profiled:
            tag_times(text, dct)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
