#!/usr/bin/env python3
"""The persistent index: ``add`` latency on a big index, and one-at-a-time clusters against a batch scan.

    python benchmarks/index_speed.py                       # SQLite: fill to 100,000 articles, then the ARI run
    python benchmarks/index_speed.py --articles 20000      # a smaller fill
    python benchmarks/index_speed.py --redis               # the same through a redis-server started for the run
    python benchmarks/index_speed.py --skip-speed          # only the ARI run (about a minute)

Speed: the first ``--articles`` articles of a synthetic scale corpus (built
once with the benchmark kit's ``synth.py --scale``, cached under ``--work``)
are added one by one to a fresh index; the time of each ``Index.add`` call
(article in, match out: normalising, boilerplate counts, MinHash, LSH lookup,
verification, the write transaction) is recorded, and the median and 95th
percentile of the last ``--window`` adds, on an index that already holds
nearly all of them, are printed.

ARI: the dev corpus (``synth.py --profile dev``) is fed one article at a time
into a fresh index by two ``dedup index add`` processes one after the other,
half the corpus each, in corpus order; the index's clusters are scored against
a batch ``find_duplicates`` over the same articles (and both against the
truth) with the kit's ``score.py``.

Times are wall-clock on whatever else the machine is doing: figures, not assertions.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import ModuleType

from dedup import Index, find_duplicates, read_articles
from dedup.reading import Problem

DEFAULT_BENCH = Path(os.environ.get("DEDUP_BENCH", "/work/shared/bench"))
DEFAULT_WORK = Path(tempfile.gettempdir()) / "dedup-index-bench"
ARTICLES_PER_UNIT = 0.85  # synth.py --scale N gives about 0.85 N articles


def synth(bench: Path, out: Path, *args: str) -> Path:
    """Build a corpus once (cached by its folder); returns its corpus.jsonl."""
    if (out / "corpus.jsonl").exists() and (out / "truth.jsonl").exists():
        return out / "corpus.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    profile = bench / "profiles" / "dev.json"  # a path: a folder named "dev" in the cwd would shadow the name
    print(f"building {out} with synth.py {' '.join(args)} ...", file=sys.stderr)
    subprocess.run([sys.executable, str(bench / "synth.py"), "--profile", str(profile), "--out", str(out), *args],
                   check=True, cwd=out.parent, stdout=subprocess.DEVNULL)
    return out / "corpus.jsonl"


def load_score(bench: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_score", bench / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A redis-server of our own on a free loopback port (no persistence)."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("no redis-server on PATH (apt-get install redis-server)")
    import redis

    port = _free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait()


def fresh(location: str) -> str:
    """A new index location: a unique Redis prefix, or a removed SQLite file."""
    if location.startswith("redis://"):
        return f"{location}?prefix=bench-{uuid.uuid4().hex[:8]}"
    path = Path(location.removeprefix("sqlite:///") if location.startswith("sqlite:///") else location)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return str(path)


def speed(corpus: Path, location: str, articles: int, window: int) -> dict[str, float]:
    problems: list[Problem] = []
    latencies: list[float] = []
    started = time.perf_counter()
    with Index.open(location) as index:
        for n, article in enumerate(read_articles([corpus], problems.append)):
            if n >= articles:
                break
            t0 = time.perf_counter()
            index.add(article)
            latencies.append(time.perf_counter() - t0)
            if (n + 1) % 10000 == 0:
                recent = sorted(latencies[-1000:])
                print(f"  {n + 1:>7} articles, median add of the last 1000: {recent[len(recent) // 2] * 1000:.2f} ms",
                      file=sys.stderr)
        held = len(index)
    last = sorted(latencies[-window:])
    return {"articles": held, "fill_seconds": time.perf_counter() - started,
            "median_ms": statistics.median(last) * 1000, "p95_ms": last[int(0.95 * (len(last) - 1))] * 1000,
            "median_all_ms": statistics.median(latencies) * 1000}


def ari(corpus: Path, truth_path: Path, location: str, score: ModuleType, work: Path) -> dict[str, float]:
    lines = corpus.read_text("utf-8").splitlines(keepends=True)
    half = len(lines) // 2
    parts = [work / "first-half.jsonl", work / "second-half.jsonl"]
    parts[0].write_text("".join(lines[:half]), "utf-8")
    parts[1].write_text("".join(lines[half:]), "utf-8")
    for part in parts:  # two processes, one after the other
        subprocess.run([sys.executable, "-c", "from dedup.cli import cli; cli()", "index", "add", location,
                        str(part), "-q"], check=True, stdout=subprocess.DEVNULL)
    with Index.open(location) as index:
        ours = {a.id: str(a.cluster) for a in index.result().assignments.values()}
    batch = find_duplicates(read_articles([corpus], lambda p: None), jobs=os.cpu_count() or 1)
    theirs = {a.id: str(a.cluster) for a in batch.assignments.values()}
    truth = score.read(str(truth_path))
    return {"articles": len(ours), "ari_vs_batch": score.scores(theirs, ours)["ari"],
            "ari_index_vs_truth": score.scores(truth, ours)["ari"],
            "ari_batch_vs_truth": score.scores(truth, theirs)["ari"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000, help="fill the index to this many articles")
    parser.add_argument("--window", type=int, default=1000, help="latency of the last this many adds")
    parser.add_argument("--redis", action="store_true", help="use a redis-server started for the run")
    parser.add_argument("--redis-url", default=None, help="use this Redis (a fresh prefix per index)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-ari", action="store_true")
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH, help="the benchmark kit (synth.py, score.py)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="corpora and indexes go here")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    score = load_score(args.bench)
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(dir=args.work) as tmp, \
            redis_server(Path(tmp)) if args.redis else nullcontext(args.redis_url) as url:
        backend = "redis" if url else "sqlite"
        base = url or str(Path(tmp) / "index.db")
        if not args.skip_speed:
            scale = int(args.articles / ARTICLES_PER_UNIT) + 1
            corpus = synth(args.bench, args.work / f"scale-{scale}", "--scale", str(scale), "--no-files")
            figures["speed"] = speed(corpus, fresh(base), args.articles, args.window)
        if not args.skip_ari:
            corpus = synth(args.bench, args.work / "dev")
            figures["ari"] = ari(corpus, corpus.parent / "truth.jsonl", fresh(base), score, Path(tmp))
    figures["backend"] = backend
    if args.json:
        print(json.dumps(figures, indent=1))
        return 0
    print(f"backend: {backend}")
    if "speed" in figures:
        s = figures["speed"]
        assert isinstance(s, dict)
        print(f"add latency with {s['articles']:,} articles in the index (last {args.window} adds): "
              f"median {s['median_ms']:.2f} ms, p95 {s['p95_ms']:.2f} ms "
              f"(median over the whole fill {s['median_all_ms']:.2f} ms; fill took {s['fill_seconds']:.0f} s)")
    if "ari" in figures:
        a = figures["ari"]
        assert isinstance(a, dict)
        print(f"one at a time, two processes, {a['articles']:,} dev articles: ARI vs batch scan "
              f"{a['ari_vs_batch']:.4f} (index vs truth {a['ari_index_vs_truth']:.4f}, "
              f"batch vs truth {a['ari_batch_vs_truth']:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
