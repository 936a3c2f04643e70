#!/usr/bin/env python3
"""Where a scan's time goes: seconds per stage, and CPU of the main process and of the workers.

Runs the batch engine (``scan_units``, what ``dedup scan`` runs) in this process on PATH
and prints the stage timings the result records (read, fingerprint, candidates,
verify_cluster), the wall time, the CPU seconds of this process and of its worker
processes, and the peak RSS of this process. With ``--verifications`` it runs in one
process and also counts the pairs verified in each round (candidates, linking).

    python benchmarks/stages.py /tmp/bench-scale/corpus.jsonl               # all cores
    python benchmarks/stages.py /tmp/bench-scale/corpus.jsonl --jobs 1      # one process
    python benchmarks/stages.py CORPUS --verifications                      # and the pair counts
    python -m cProfile -o prof benchmarks/stages.py CORPUS --jobs 1        # a profile of it all

Compare builds by running this alternately with ``PYTHONPATH`` pointing at each
checkout: this machine's speed drifts by a third within minutes.
"""

from __future__ import annotations

import argparse
import resource
import time
from typing import Any

import dedup.cluster
import dedup.pipeline as pipeline
from dedup.config import Config
from dedup.reading import read_units


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", help="a folder or a JSON Lines file of articles")
    ap.add_argument("--jobs", type=int, default=0, help="worker processes (default: all cores)")
    ap.add_argument("--verifications", action="store_true",
                    help="count the pairs verified per round (runs in one process)")
    args = ap.parse_args()

    rounds: dict[str, int] = {}
    if args.verifications:
        args.jobs = 1
        _count_verifications(rounds)
    start = time.perf_counter()
    result = pipeline.scan_units(read_units([args.path], lambda problem: None), Config(), jobs=args.jobs)
    wall = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    n = len(result.assignments)
    print(f"{n:,} articles in {wall:.2f} s ({n / wall:,.0f} articles/s)")
    for stage, seconds in result.timings.items():
        print(f"  {stage:15s} {seconds:8.2f} s  {seconds / n * 1e6:7.1f} us an article")
    print(f"CPU: main {own.ru_utime + own.ru_stime:.1f} s, workers {workers.ru_utime + workers.ru_stime:.1f} s; "
          f"peak RSS of the main process {own.ru_maxrss // 1024} MB")
    if rounds:
        verified = sum(count for label, count in rounds.items() if label != "screened out")
        print("pairs verified: " + ", ".join(f"{label} {count:,}" for label, count in rounds.items())
              + f" ({verified / n:.2f} verified an article)")


def _count_verifications(rounds: dict[str, int]) -> None:
    """Wrap the verification pass and clustering (one process) to count pairs per round."""
    verify_pass = pipeline._pass_verify
    current = {"label": ""}

    def counted(task: tuple[Any, int, bool]) -> list[tuple[bool, float] | None]:
        verdicts = verify_pass(task)
        screened = sum(v is None for v in verdicts)
        rounds[current["label"]] = rounds.get(current["label"], 0) + len(verdicts) - screened
        if screened:
            rounds["screened out"] = rounds.get("screened out", 0) + screened
        return verdicts

    clustering = dedup.cluster.cluster

    def labelled(n: int, candidates: Any, verify_many: Any, *rest: Any) -> Any:
        def verify_labelled(pairs: Any, label: str | None = None) -> None:
            current["label"] = label or "canonical"
            verify_many(pairs, label)

        *others, near = rest
        if near is not None:  # folding verifies through its own callable (cluster.collapse)
            agreement, alike = near

            def alike_labelled(a: Any, b: Any) -> Any:
                current["label"] = dedup.cluster.ALIASING
                return alike(a, b)

            near = (agreement, alike_labelled)
        groups = clustering(n, candidates, verify_labelled, *others, near)
        current["label"] = "canonical"  # pairs verified after clustering: each member with its canonical
        return groups

    vars(pipeline).update(_pass_verify=counted, cluster=labelled)  # the names run() looks up


if __name__ == "__main__":
    main()
