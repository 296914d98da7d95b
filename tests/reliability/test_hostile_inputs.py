"""Hostile and broken files through `storyline ingest`, end to end, measured.

Each case runs the real CLI as a subprocess against a copy of a populated
store and checks that: the bad document gets a clear reason, printed by
`ingest` and stored (`storyline failures`); the good documents around it go
in; the process stays within a memory and time bound (peak RSS of that one
child via wait4, wall clock with a kill timeout); what was stored before is
unchanged (export JSON and every content row); and the store passes `check()`.

The readers' and extractor's own unit tests cover the same kinds of input
one function at a time; these prove the whole path holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hostile_inputs import (
    GOOD_PARAGRAPHS,
    MB,
    broken_jsonl,
    deep_html,
    feed_with_items,
    good_html,
    mojibake_text,
    repeated_file,
    sparse_file,
    warc_with_bomb,
)
from reliability_helpers import (
    Run,
    run_cli,
    snapshot,
    stored_failures,
)

from storyline.records import RawDocument
from storyline.service import Storyline

MAX_SECONDS = 90.0  # per case, start-up (~2 s) included; generous for a shared CI machine


@dataclass
class Case:
    """Inputs made under a folder, and what `ingest` must say about them."""

    make: Callable[[Path], list[str]]  # -> ingest arguments
    failures: list[tuple[str, str]]  # (source suffix, reason regex)
    new: int = 0  # documents it stores (reported new, or duplicate of an earlier one)
    env: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None  # file name under the folder to pipe to `ingest -`


def _write(name: str, data: bytes | str) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        path = folder / name
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        return [str(path)]

    return make


def _huge_sparse_html(folder: Path) -> list[str]:
    return [str(sparse_file(folder / "huge.html", 200 * MB))]


def _huge_jsonl_line(folder: Path) -> list[str]:
    block = b"The harbour bridge reopened after repairs. "
    path = repeated_file(folder / "huge.jsonl", block, 200 * MB, prefix=b'{"text": "')
    return [str(path)]


def _huge_text_no_suffix(folder: Path) -> list[str]:
    block = b"The harbour bridge reopened after repairs.\n\n"
    return [str(repeated_file(folder / "huge-dump", block, 200 * MB))]


def _huge_stdin(folder: Path) -> list[str]:
    repeated_file(folder / "stdin.txt", b"The harbour bridge reopened after repairs.\n", 200 * MB)
    return ["-"]


def _bomb(folder: Path) -> list[str]:
    return [str(warc_with_bomb(folder / "crawl.warc"))]


def _feed(folder: Path) -> list[str]:
    # Entries carry their full text (above the teaser threshold), so no link is followed.
    path = folder / "feed.xml"
    path.write_text(feed_with_items(10_000), encoding="utf-8")
    return [str(path)]


def _broken_jsonl(folder: Path) -> list[str]:
    data, _ = broken_jsonl()
    return _write("broken.jsonl", data)(folder)


CASES: dict[str, Case] = {
    "empty file": Case(_write("empty.txt", b""), [("empty.txt", "^empty file$")]),
    "whitespace only": Case(
        _write("blank.html", b" \n\t\r\n" * 100), [("blank.html", "holds only whitespace")]
    ),
    "binary disguised as html": Case(
        _write("photo.html", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40),
        [("photo.html", r"binary content \(looks like")],
    ),
    "random bytes as text": Case(
        _write("noise.txt", bytes((i * 7919 + 13) % 256 for i in range(50_000))),
        [("noise.txt", r"binary content|no article text|decode")],
    ),
    "html cut inside the head": Case(
        _write("cut.html", good_html()[:120]), [("cut.html", "no article text")]
    ),
    "invalid html soup": Case(
        _write("soup.html", "<html><<<>>><p <div>>>&&&;;<</p></i></b><table><td>x" * 50),
        [("soup.html", "no article text")],
    ),
    "html nested 100k levels": Case(
        _write("deep.html", deep_html(100_000)),
        [("deep.html", r"nests deeper than 2000 levels .*refused")],
    ),
    "gzip bomb inside a WARC": Case(
        _bomb,
        [("crawl.warc#0", r"larger than the 20\.0 MB limit once decompressed")],
        new=1,  # the good record after the bomb is read
    ),
    "200 MB html (sparse)": Case(
        _huge_sparse_html, [("huge.html", r"file is 200\.0 MB, above the 20\.0 MB limit")]
    ),
    "200 MB single JSON line": Case(
        _huge_jsonl_line, [("huge.jsonl:1", r"line is longer than the 20\.0 MB limit")]
    ),
    "200 MB text without suffix": Case(
        _huge_text_no_suffix, [("huge-dump", r"file is 200\.0 MB, above the 20\.0 MB limit")]
    ),
    "200 MB on stdin": Case(
        _huge_stdin,
        [("<stdin>", r"standard input is larger than the 20\.0 MB limit")],
        stdin="stdin.txt",
    ),
    "feed with 10k items": Case(
        _feed,
        [("feed.xml", r"feed has 10000 entries; read the first 40 and skipped 9960")],
        new=40,
        env={"STORYLINE_MAX_FEED_ITEMS": "40"},
    ),
    "json lines with broken lines": Case(
        _broken_jsonl,
        [
            ("broken.jsonl:2", "invalid JSON at column 50: Unterminated string starting$"),
            ("broken.jsonl:3", "expected a JSON object, found an array"),
            ("broken.jsonl:4", "neither text nor html"),
            ("broken.jsonl:5", "neither text nor html"),
            ("broken.jsonl:6", "invalid JSON at column 1: Expecting value"),
        ],
        new=2,
    ),
    "mixed encodings and mojibake": Case(_write("moji.txt", mojibake_text()), [], new=1),
    "html cut mid-article": Case(_write("partial.html", good_html()[:330]), [], new=1),
}


def _flat(text: str) -> str:
    return " ".join(text.split())  # Rich may wrap a long reason over lines


def _assert_bounded(run: Run, max_rss_mb: float) -> None:
    assert not run.timed_out, f"ingest hung (killed after its timeout)\n{run.output}"
    assert run.elapsed_s < MAX_SECONDS
    assert 0 < run.peak_rss_mb < max_rss_mb, f"peak RSS {run.peak_rss_mb:.0f} MB"
    assert "Traceback" not in run.output, run.output


def _assert_nothing_stored_changed(before: dict, after: dict, new: int) -> None:
    if new == 0:
        assert after == before
        return
    # New documents may join stored stories (their counts move); stored rows stay.
    before_articles = set(before["tables"]["articles"])
    assert before_articles <= set(after["tables"]["articles"])
    assert len(after["tables"]["articles"]) == len(before_articles) + new
    # Earlier articles may gain analyses from the new ones (shared passages), but every
    # stored article row is byte-identical and still in its story.
    after_stories = {s["id"]: s for s in after["export"]["stories"]}
    for story in before["export"]["stories"]:
        kept = {a["id"] for a in after_stories[story["id"]]["articles"]}
        assert {a["id"] for a in story["articles"]} <= kept


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_fails_alone_and_bounded(
    name: str, populated_store: Path, tmp_path: Path, max_rss_mb: float
) -> None:
    case = CASES[name]
    folder = tmp_path / "inputs"
    folder.mkdir()
    db = populated_store
    before = snapshot(db)
    failures_before = len(stored_failures(db))
    try:
        inputs = case.make(folder)
        run = run_cli(
            ["ingest", "--db", str(db), "-q", *inputs],
            env=case.env,
            stdin_path=folder / case.stdin if case.stdin else None,
            timeout_s=MAX_SECONDS * 2,
        )
    finally:
        for big in folder.iterdir():  # 200 MB files must not outlive the test
            if big.stat().st_size > 50 * MB:
                big.unlink()
    print(f"{name}: {run.elapsed_s:.1f} s, peak RSS {run.peak_rss_mb:.0f} MB")
    _assert_bounded(run, max_rss_mb)
    summary = _flat(run.stdout)
    counts = {k: int(v) for k, v in re.findall(r"(new|duplicate|failed): (\d+)", summary)}
    # Stored as new, or as a near-copy of an earlier one (kept outside stories): both rows.
    assert counts["new"] + counts["duplicate"] == case.new, run.output
    assert counts["failed"] == len(case.failures), run.output
    assert run.code == (0 if case.new else 1)  # non-zero only when nothing could be read

    stored = stored_failures(db)[: len(case.failures)]  # most recent first
    assert len(stored_failures(db)) == failures_before + len(case.failures)
    for suffix, pattern in case.failures:
        matches = [f for f in stored if f[0].endswith(suffix) and re.search(pattern, f[2])]
        assert matches, f"no stored failure for {suffix} matching {pattern!r}: {stored}"
        source, _stage, reason = matches[0]
        assert _flat(reason) in summary  # printed by `ingest` with its source
        assert _flat(source) in summary

    _assert_nothing_stored_changed(before, snapshot(db), case.new)
    with Storyline(str(db)) as sl:
        assert sl.check() == []


def test_decoded_text_survives_mixed_encodings(tmp_path: Path) -> None:
    """The latin-1 paragraph and the double-encoded one both come out as proper text."""
    (tmp_path / "moji.txt").write_bytes(mojibake_text())
    with Storyline(str(tmp_path / "s.db")) as sl:
        report = sl.ingest([str(tmp_path / "moji.txt")])
        assert report.count("new") == 1
        article = sl.article(report.outcomes[0].article_id or "")
    assert article is not None
    assert "Le maire a déclaré que la taxe était « nécessaire »" in article.body
    assert "Les cafés ferment à 22 heures" in article.body
    assert "\ufffd" not in article.body and "Ã" not in article.body


def test_truncated_page_keeps_only_what_was_there(tmp_path: Path) -> None:
    cut = good_html()[:330]
    (tmp_path / "partial.html").write_text(cut, encoding="utf-8")
    with Storyline(str(tmp_path / "s.db")) as sl:
        report = sl.ingest([str(tmp_path / "partial.html")])
        article = sl.article(report.outcomes[0].article_id or "")
    assert article is not None
    assert GOOD_PARAGRAPHS[0].startswith(article.body.rstrip("<").strip())
    assert len(article.body) < len(GOOD_PARAGRAPHS[0])


def test_one_batch_of_everything_goes_on_and_failures_are_listed(
    populated_store: Path, tmp_path: Path, max_rss_mb: float
) -> None:
    """All the small hostile files in one `ingest`, good pages between them; then `failures`."""
    folder = tmp_path / "batch"
    folder.mkdir()
    small = [n for n, c in CASES.items() if "200 MB" not in n and c.stdin is None]
    expected_failures = 0
    expected_new = 0
    inputs: list[str] = []
    for i, name in enumerate(small):
        case = CASES[name]
        sub = folder / f"{i:02d}"
        sub.mkdir()
        inputs += case.make(sub)
        good = sub / "good.html"
        good.write_text(good_html(f"Harbour bridge reopens, report {i}"), encoding="utf-8")
        inputs.append(str(good))
        expected_failures += len(case.failures)
        expected_new += case.new + 1
    run = run_cli(
        ["ingest", "--db", str(populated_store), "-q", *inputs],
        env={"STORYLINE_MAX_FEED_ITEMS": "40"},
        timeout_s=300,
    )
    assert not run.timed_out, run.output  # the batch as a whole has its own, larger budget
    assert run.peak_rss_mb < max_rss_mb
    assert "Traceback" not in run.output, run.output
    summary = _flat(run.stdout)
    # Good pages that repeat one another's text are reported as duplicates, not lost.
    counts = {k: int(v) for k, v in re.findall(r"(new|duplicate|failed): (\d+)", summary)}
    assert counts["failed"] == expected_failures, run.output
    assert counts["new"] + counts["duplicate"] == expected_new, run.output
    assert run.code == 0

    listed = run_cli(["failures", "--db", str(populated_store), "--limit", "1000"])
    assert listed.code == 0
    flat = _flat(listed.stdout)
    for name in small:
        for suffix, _pattern in CASES[name].failures:
            assert suffix in flat, f"{name}: {suffix} not listed by `storyline failures`"
    assert "nests deeper than 2000 levels" in flat
    check = run_cli(["check", "--db", str(populated_store)])
    assert check.code == 0, check.output


def test_an_article_made_only_of_outlet_boilerplate_fails_as_extraction(tmp_path: Path) -> None:
    repeated = [
        "Markets in Harbourg closed 3 points higher on Tuesday, traders said.",
        "The harbour index rose 12 percent over the week, its best run since 2019.",
    ]
    documents = [
        RawDocument(
            source=f"brief{n}",
            kind="text",
            outlet="Harbourg Ledger",
            url=f"https://ledger.example.org/brief/{n}",
            content="\n\n".join([*repeated, GOOD_PARAGRAPHS[n % 3] + f" Report number {n}."]),
        )
        for n in range(4)
    ]
    documents.append(
        RawDocument(
            source="only-repeats",
            kind="text",
            outlet="Harbourg Ledger",
            url="https://ledger.example.org/brief/only",
            content="\n\n".join(repeated),
        )
    )
    with Storyline(str(tmp_path / "s.db")) as sl:
        report = sl.ingest_documents(documents)
    last = report.outcomes[-1]
    assert last.status == "failed", last
    assert last.reason is not None
    assert last.reason.startswith("extract: no article text found"), last.reason
