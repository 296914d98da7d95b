"""Peak memory of a command and all its child processes (worker pools, Ray workers).

    .venv/bin/python bench/peak_rss.py [--interval 0.5] [--json OUT] [--trace CSV] \
        -- storyline batch DIR

Samples the resident set size of the process tree every `--interval` seconds and
prints the peak of the sum over the tree (what the machine must hold), the peak of
the largest single process, wall time, CPU seconds of the tree and the load average
before and after.  Sampling can miss a spike shorter than the interval.  `--trace`
also writes the RSS over time (every `--trace-every` seconds: elapsed seconds, tree
RSS, the root process's RSS, its children's largest, in MB), to see which process grows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import psutil


def tree_rss(root: psutil.Process) -> tuple[int, int, float]:
    """(sum of RSS, largest RSS, CPU seconds) over `root` and its live descendants."""
    total = largest = 0
    cpu = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            rss = p.memory_info().rss
            times = p.cpu_times()
        except psutil.Error:  # ended between listing and reading
            continue
        total += rss
        largest = max(largest, rss)
        cpu += times.user + times.system
    return total, largest, cpu


def _rss_mb(process: psutil.Process) -> int:
    try:
        return round(process.memory_info().rss / 2**20)
    except psutil.Error:
        return 0


def _largest_child_mb(root: psutil.Process) -> int:
    try:
        children = root.children(recursive=True)
    except psutil.Error:
        return 0
    return max((_rss_mb(c) for c in children), default=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--trace", help="also write the RSS over time to this CSV file")
    parser.add_argument("--trace-every", type=float, default=60.0, help="seconds (--trace)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given (put it after --)")
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    child = subprocess.Popen(command)
    root = psutil.Process(child.pid)
    peak_total = peak_single = 0
    cpu_seen: dict[int, float] = {}
    trace = open(args.trace, "w", encoding="utf-8") if args.trace else None  # noqa: SIM115
    if trace is not None:
        trace.write("elapsed_s,tree_mb,root_mb,largest_child_mb\n")
    traced_at = -float("inf")
    while child.poll() is None:
        total, largest, _ = tree_rss(root)
        peak_total, peak_single = max(peak_total, total), max(peak_single, largest)
        elapsed = time.monotonic() - started
        if trace is not None and elapsed - traced_at >= args.trace_every:
            traced_at = elapsed
            root_mb, child_mb = _rss_mb(root), _largest_child_mb(root)
            trace.write(f"{elapsed:.0f},{total / 2**20:.0f},{root_mb},{child_mb}\n")
            trace.flush()
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                cpu_seen[p.pid] = t.user + t.system
            except psutil.Error:
                pass
        time.sleep(args.interval)
    wall = time.monotonic() - started
    if trace is not None:
        trace.close()
    figures = {
        "command": command,
        "exit_code": child.returncode,
        "wall_s": round(wall, 1),
        # CPU of processes seen while sampling (a process that lived less than one
        # interval is not counted).
        "cpu_s_sampled": round(sum(cpu_seen.values()), 1),
        "peak_rss_tree_mb": round(peak_total / 2**20),
        "peak_rss_single_mb": round(peak_single / 2**20),
        "load_avg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(figures), file=sys.stderr)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=1)
    return child.returncode


if __name__ == "__main__":
    raise SystemExit(main())
