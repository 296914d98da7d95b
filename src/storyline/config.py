"""Settings: where the store lives and the limits that keep hostile input bounded.

Values come from keyword arguments, then `STORYLINE_*` environment variables,
then the defaults below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import platformdirs

DB_ENV = "STORYLINE_DB"
DATA_ENV = "STORYLINE_DATA"  # evaluation data sets, default ../shared/data


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir("storyline")) / "storyline.db"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one input document may cost. All configurable."""

    max_document_bytes: int = 20_000_000  # larger documents are refused, not truncated
    max_warc_record_bytes: int = 20_000_000  # decompressed payload of one record
    max_feed_items: int = 5_000
    max_jsonl_line_bytes: int = 20_000_000
    http_timeout_s: float = 20.0
    http_max_redirects: int = 5
    http_max_bytes: int = 20_000_000
    http_max_header_bytes: int = 64_000
    html_max_depth: int = 2_000  # deeper nesting is refused before parsing


@dataclass(frozen=True, slots=True)
class Settings:
    db: str = field(default_factory=lambda: os.environ.get(DB_ENV) or str(default_db_path()))
    limits: Limits = field(default_factory=Limits)
    outlet_registry_paths: tuple[str, ...] = ()  # user files merged over the bundled registry
    user_agent: str = "Storyline/0.1 (+news analysis; respects robots by operator choice)"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env_limits = {}
        for f in fields(Limits):
            raw = os.environ.get(f"STORYLINE_{f.name.upper()}")
            if raw is not None:
                env_limits[f.name] = type(f.default)(raw)  # type: ignore[operator,misc]
        limits = Limits(**env_limits)  # type: ignore[arg-type]
        registry_env = os.environ.get("STORYLINE_OUTLETS")
        kwargs: dict[str, object] = {"limits": limits}
        if registry_env:
            kwargs["outlet_registry_paths"] = tuple(p for p in registry_env.split(os.pathsep) if p)
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**kwargs)  # type: ignore[arg-type]
