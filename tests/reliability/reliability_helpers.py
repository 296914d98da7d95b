"""Shared helpers for the reliability tests: run the CLI as a measured subprocess,
snapshot a store, and make synthetic news corpora.

The CLI runs as a real process (not CliRunner) so that its peak memory and wall
time can be measured, and so that it can be killed with SIGKILL.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyline.service import Storyline

# Every table that holds stored content; `ingest_errors` is left out on purpose:
# recording a failure there is what a refused document is supposed to do.
CONTENT_TABLES = (
    "articles",
    "article_features",
    "stories",
    "story_articles",
    "story_redirects",
    "boilerplate_lines",
    "analysis",
)

# Memory bound of one `ingest` run: what a run that stores one good page costs (the
# baseline: Python, the extractors and the analysis models, ~400 MB measured) plus this
# headroom.  The per-document limits are 20 MB; a run that read a 200 MB document or a
# 1 GB decompression whole would exceed it several times over.
RSS_HEADROOM_MB = 150.0


def storyline_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "storyline.interfaces.cli", *args]


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYLINE_")}
    if "STORYLINE_DATA" in os.environ:
        env["STORYLINE_DATA"] = os.environ["STORYLINE_DATA"]
    env.update(
        {
            "COLUMNS": "250",  # Rich wraps at the terminal width: keep reasons on one line
            "TERM": "dumb",
            "NO_COLOR": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


@dataclass(slots=True)
class Run:
    """One finished CLI process and what it cost."""

    code: int | None  # None when it was killed by the timeout
    stdout: str
    stderr: str
    elapsed_s: float
    peak_rss_mb: float
    timed_out: bool

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


# Runs the command as a grandchild and reports its peak RSS.  Measuring the direct child
# of pytest would be wrong: Linux starts a forked child's high-water mark at its parent's
# RSS and keeps it across exec, so every child of a 300 MB pytest would "peak" at 300 MB.
# Forked from this small launcher instead, the command's own peak is what is measured.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_cli(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 120.0,
    stdin_path: Path | None = None,
) -> Run:
    """Run `storyline ARGS`; measure its peak RSS (wait4 on it) and wall time."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        open(Path(tmp) / "out", "w+b") as out,
        open(Path(tmp) / "err", "w+b") as errf,
    ):
        rss_file = Path(tmp) / "rss"
        stdin = stdin_path.open("rb") if stdin_path is not None else subprocess.DEVNULL
        timed_out = False
        try:
            started = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, "-c", _LAUNCHER, str(rss_file), *storyline_command(*args)],
                stdout=out,
                stderr=errf,
                stdin=stdin,
                env=cli_env(env),
                start_new_session=True,  # one process group: a timeout kills both
            )
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            elapsed = time.monotonic() - started
        finally:
            if stdin_path is not None:
                stdin.close()  # type: ignore[union-attr]
        out.seek(0)
        errf.seek(0)
        rss_kb = int(rss_file.read_text()) if rss_file.exists() else 0
        return Run(
            code=None if timed_out else proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=errf.read().decode("utf-8", "replace"),
            elapsed_s=elapsed,
            peak_rss_mb=rss_kb / 1024,  # kilobytes on Linux
            timed_out=timed_out,
        )


# --------------------------------------------------------------------------- store snapshots


def table_dump(db: Path, tables: Iterable[str] = CONTENT_TABLES) -> dict[str, list[tuple]]:
    """Every row of the content tables, sorted, read-only (the store is not touched)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        dump: dict[str, list[tuple]] = {}
        for table in tables:
            rows = conn.execute(f"SELECT * FROM {table}").fetchall()
            dump[table] = sorted(rows, key=repr)
        return dump
    finally:
        conn.close()


def export_json(db: Path) -> dict[str, Any]:
    """The store as `storyline export --format json` writes it."""
    buffer = io.StringIO()
    with Storyline(str(db)) as sl:
        sl.export(buffer, "json")
    return json.loads(buffer.getvalue())


def snapshot(db: Path) -> dict[str, Any]:
    """What is stored: the export JSON and every content row."""
    return {"export": export_json(db), "tables": table_dump(db)}


def stored_failures(db: Path) -> list[tuple[str, str, str]]:
    with Storyline(str(db)) as sl:
        return [(f.source, f.stage, f.reason) for f in sl.failures(limit=100_000)]


def story_partition(db: Path) -> dict[str, frozenset[str]]:
    """story id -> the ids of its articles."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        groups: dict[str, set[str]] = {}
        for article_id, story_id in conn.execute("SELECT article_id, story_id FROM story_articles"):
            groups.setdefault(story_id, set()).add(article_id)
        return {k: frozenset(v) for k, v in groups.items()}
    finally:
        conn.close()


def article_ids(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM articles ORDER BY id")]
    finally:
        conn.close()


def pair_disagreement(a: Iterable[frozenset[str]], b: Iterable[frozenset[str]]) -> float:
    """Share of article pairs whose co-membership (same story or not) differs between a and b.

    0.0 means the same partition; both must cover the same articles.
    """
    label_a = {x: i for i, group in enumerate(a) for x in group}
    label_b = {x: i for i, group in enumerate(b) for x in group}
    if set(label_a) != set(label_b):
        raise ValueError("the partitions cover different articles")
    items = sorted(label_a)
    n = len(items)
    if n < 2:
        return 0.0
    differ = 0
    for i in range(n):
        for j in range(i + 1, n):
            same_a = label_a[items[i]] == label_a[items[j]]
            same_b = label_b[items[i]] == label_b[items[j]]
            differ += same_a != same_b
    return differ / (n * (n - 1) / 2)


# --------------------------------------------------------------------------- synthetic news

_STORIES = [
    ("Harbourg", "bridge", "Marta Kessel", "ferry", "cables", "the transport ministry"),
    ("Velmora", "flood", "Joren Abbas", "river", "levees", "the civil protection agency"),
    ("Ostravik", "strike", "Lena Duarte", "dockworkers", "wages", "the port union"),
    ("Calderon", "wildfire", "Ibrahim Soto", "firefighters", "hectares", "the forestry service"),
    ("Nyberg", "election", "Petra Lindqvist", "ballots", "turnout", "the electoral commission"),
    ("Quillan", "vaccine", "Amara Okafor", "clinics", "doses", "the health ministry"),
    ("Tessaly", "earthquake", "Yusuf Demir", "rescuers", "aftershocks", "the seismic institute"),
    ("Brennick", "merger", "Claire Fontaine", "shareholders", "regulators", "the cartel office"),
    ("Korvath", "summit", "Dmitri Volkov", "delegations", "sanctions", "the foreign ministry"),
    ("Lismore", "drought", "Siobhan Reilly", "farmers", "reservoirs", "the water authority"),
    ("Mirandel", "trial", "Hugo Barrault", "jurors", "verdict", "the district court"),
    ("Pellworth", "cyberattack", "Nadia Rahman", "hospitals", "ransom", "the cyber centre"),
]
# Many outlets: templated reports repeated by one outlet would (rightly) teach the
# pipeline's per-outlet boilerplate memory that their lines are furniture.
_OUTLETS = [
    f"{city} {paper}"
    for city in (
        "Northport",
        "Eastvale",
        "Riverton",
        "Lakeside",
        "Hillcrest",
        "Bayview",
        "Westmoor",
        "Southgate",
    )
    for paper in ("Ledger", "Post", "Herald", "Courier", "Wire", "Gazette")
]
_FILLER = [
    "Officials said further details would be released in the coming days.",
    "The announcement was welcomed by several local groups.",
    "Critics argued that the measures came too late.",
    "Residents were advised to follow the instructions of the authorities.",
    "The government did not immediately respond to a request for comment.",
]


_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def synthetic_article(story: int, n: int, rng: random.Random) -> dict[str, Any]:
    """One JSON Lines record of a news report on synthetic story `story` (0..11).

    Reports of one story share their names and topic words but not their
    sentences (four of ten templates, shuffled, with their own numbers), so
    they link into one story without being near-copies of one another.
    """
    place, topic, person, group, thing, body = _STORIES[story % len(_STORIES)]
    day = 1 + story * 2 + rng.randrange(2)
    outlet = rng.choice(_OUTLETS)
    a, b, c = rng.randrange(12, 900), rng.randrange(2, 60), rng.randrange(100, 5000)
    when = rng.choice(_WEEKDAYS)
    templates = [
        f"{person} of {body} said on {when} that the {topic} in {place} had affected "
        f"{a} {group}, and that the {thing} would be reviewed within {b} days.",
        f"The {topic} in {place} is the largest such event in the region for {b} years, "
        f"according to {body}, which counted {c} {thing} at risk.",
        f'"We are working with the {group} around the clock," {person} told reporters in '
        f"{place} on {when}, adding that the {thing} remained the main difficulty.",
        f"By {when} evening {a} {group} had gathered near the town hall in {place}, where "
        f"{body} set up an office to answer questions about the {thing}.",
        f"Opposition politicians in {place} accused {person} of reacting {b} hours too late "
        f"to the {topic}, a charge {body} rejected.",
        f"Insurers estimate the cost of the {topic} at {c} million euros, with {a} claims "
        f"already filed by {group} over damaged {thing}.",
        f"{person} is expected to brief parliament on the {place} {topic} within {b} days, "
        f"aides said, after {a} {group} signed a petition.",
        f"Independent experts told the {outlet} that the {thing} in {place} had been "
        f"neglected for {b} years before the {topic}.",
        f"Neighbouring towns sent {a} volunteers to help the {group} of {place}, and "
        f"{body} thanked them in a statement on {when}.",
        f"A hotline run by {body} received {c} calls about the {topic} in its first "
        f"{b} hours, most of them from {group} asking about the {thing}.",
    ]
    paragraphs = [*rng.sample(templates, 4), rng.choice(_FILLER)]
    return {
        "url": f"https://news{story % 5}.example.org/{place.lower()}/{topic}-{n}",
        "title": f"{place} {topic}: {person} says {thing} under review ({n})",
        "text": "\n\n".join(paragraphs),
        "published": f"2024-03-{day:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00",
        "outlet": outlet,
    }


def synthetic_corpus(count: int, stories: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [synthetic_article(i % stories, i, rng) for i in range(count)]


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


# How much the final story partition may change with the order in which the same articles
# arrive (share of article pairs whose same-story grouping changes; measured in
# docs/reliability.md). A restart after a crash is not such a change: the linker's
# word-rarity statistics are stored with every article and restored, so the crash test
# asserts the very same stories.
ARRIVAL_ORDER_BOUND = 0.10
