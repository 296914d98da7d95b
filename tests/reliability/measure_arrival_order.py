"""Measure how much arrival order changes the final stories (figures for docs/reliability.md).

    .venv/bin/python tests/reliability/measure_arrival_order.py [ORDERS] [SEED]

For the synthetic corpus, 4 ECB+ topics and NewsWCL50: ingest in date order and
in ORDERS random orders (default 10), and print the share of article pairs whose
co-membership differs from the date-order run (min / mean / max).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest
import test_properties as props

from storyline.eval import DataUnavailable


def main(orders: int = 10, seed: int = 1) -> None:
    props.ORDERS = orders
    corpora = {"synthetic": props._synthetic_documents}
    for name in ("ecbplus", "newswcl50"):
        corpora[name] = lambda name=name: props._dataset_documents(name)
    for name, make in corpora.items():
        try:
            documents = make()
        except (DataUnavailable, pytest.skip.Exception) as exc:
            print(f"{name}: skipped ({exc})")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            spread, stories = props._order_spread(documents, Path(tmp), seed)
        print(
            f"{name}: {len(documents)} documents, {stories} stories in date order; "
            f"{orders} random orders: pair disagreement min {min(spread):.4f} "
            f"mean {statistics.mean(spread):.4f} max {max(spread):.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
