"""Evaluation on the public development sets (read from a path, never shipped).

The data directory is `$STORYLINE_DATA`, else the first `shared/data` found
beside the current directory or the installed package (the layout of a
checkout with `../shared` next to it).  Evaluations that need a data set which
is absent raise `DataUnavailable` with the path they looked for, and callers
(CLI, tests) turn that into a clear skip message.
"""

from __future__ import annotations

import os
from pathlib import Path

from storyline.config import DATA_ENV


class DataUnavailable(Exception):
    """An evaluation data set is not present where it was looked for."""


def data_dir() -> Path:
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    starts = [Path.cwd(), Path(__file__).resolve()]
    for start in starts:
        for parent in [start, *start.parents]:
            candidate = parent.parent / "shared" / "data"
            if (candidate / "README.md").exists():
                return candidate
    return Path("../shared/data")


def dataset_path(name: str) -> Path:
    """Path of one data set folder (e.g. "ecbplus"); raises DataUnavailable if missing."""
    path = data_dir() / name
    if not path.exists():
        raise DataUnavailable(
            f"evaluation data set {name!r} not found at {path}; "
            f"set {DATA_ENV} to the folder that holds it"
        )
    return path
