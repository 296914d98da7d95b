"""Run every atheris harness in fuzz/ for a bounded time: no crash, no hang.

Each harness runs as a subprocess for STORYLINE_FUZZ_SECONDS (default 30 s)
from its seeds in fuzz/seeds/<name>/, with libFuzzer's per-input timeout (a
hang) and RSS limit.  A Storyline-declared error (ExtractionError, ReadError)
is a clear refusal, not a finding; anything else fails the test and prints
the traceback and the crashing input's path.  `scripts/fuzz.sh SECONDS` runs
the same harnesses by hand for longer.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_helpers import cli_env

ROOT = Path(__file__).resolve().parents[2]
FUZZ = ROOT / "fuzz"
HARNESSES = ["html", "text", "feed", "warc", "document"]
SECONDS = int(os.environ.get("STORYLINE_FUZZ_SECONDS", "30"))
INPUT_TIMEOUT_S = 60  # one input running this long is a hang (generous: shared CI cores)


@pytest.mark.slow
@pytest.mark.parametrize("name", HARNESSES)
def test_fuzz_harness_finds_no_crash_or_hang(name: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris (dev dependency) is not installed")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    command = [
        sys.executable,
        str(FUZZ / f"fuzz_{name}.py"),
        f"-max_total_time={SECONDS}",
        f"-timeout={INPUT_TIMEOUT_S}",
        "-rss_limit_mb=2048",
        "-max_len=65536",
        f"-artifact_prefix={tmp_path}/",
        "-print_final_stats=1",
        str(corpus),
        str(FUZZ / "seeds" / name),
    ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=SECONDS + INPUT_TIMEOUT_S + 120,
            env=cli_env(),
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"fuzz_{name} did not stop within its time budget: {exc}")
    log = done.stdout + done.stderr
    executions = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    print(f"fuzz_{name}: {executions.group(1) if executions else '?'} inputs in {SECONDS} s")
    artifacts = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert done.returncode == 0, f"fuzz_{name} found a problem {artifacts}:\n{log[-6000:]}"
    assert executions and int(executions.group(1)) >= 20, log[-3000:]
