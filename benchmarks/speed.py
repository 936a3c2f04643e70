#!/usr/bin/env python3
"""Speed and memory benchmark: ``dedup scan`` against the datasketch peer baseline.

Generates (or reuses) a synthetic scale corpus with the benchmark kit's
``synth.py``, runs ``dedup scan`` and ``baseline_datasketch.py`` on it, each as
a subprocess, measures wall time and peak memory, scores both clusterings
against the corpus's truth.jsonl with the kit's ``score.py`` and prints a table.

    python benchmarks/speed.py --smoke                 # ~2,500 articles, a quick check
    python benchmarks/speed.py                         # ~51,000 articles (synth --scale 60000)
    python benchmarks/speed.py --input both --jobs 2   # folder and JSON Lines on stdin
    python benchmarks/speed.py --million --input jsonl # 1,000,000 articles, JSON Lines only
    python benchmarks/speed.py --json                  # machine-readable
    python benchmarks/speed.py --pipelines dedup,baseline,rensa   # and a Rust peer (pip install rensa)

Corpora are cached under ``--work`` (default: a folder in the temp directory)
and reused when complete.  The million corpus (JSON Lines only, about 4 GB)
is built from parallel synth.py runs (``--scale 60000 --no-files --seed K``,
ids prefixed ``partKK/``) and cut to exactly 1,000,000 articles, because one
synth.py run that large takes hours (see ``build_in_chunks``); the chunks
take 5 to 25 minutes on two cores, depending on the machine's other load.
The kit is looked for in ``--bench`` (default ``$DEDUP_BENCH`` or
/work/shared/bench).

Memory is measured two ways:

* *peak RSS*: ``ru_maxrss`` of the command, from ``/usr/bin/time -v`` when it
  exists, else from ``resource.getrusage(RUSAGE_CHILDREN)`` in a fresh wrapper
  process.  The kernel reports the largest *single* process of the tree (a
  parent or one of its workers), not their sum.
* *tree RSS*: the sum of VmRSS over the command's process tree, sampled from
  /proc every ``--sample-ms`` (50 ms).  It counts pages shared between a
  parent and forked workers once per process, so it is an upper bound, and a
  sample can miss a peak shorter than the interval.

Times are wall-clock seconds on whatever else the machine is doing: they are
figures to compare, not to assert on.  Run with ``--repeat`` to keep the
fastest of several runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "baseline_datasketch.py"
PEERS = {"baseline": BASELINE, "rensa": HERE / "baseline_rensa.py"}  # rensa: optional, pip install rensa
DEFAULT_BENCH = Path(os.environ.get("DEDUP_BENCH", "/work/shared/bench"))
DEFAULT_WORK = Path(tempfile.gettempdir()) / "dedup-speed"
GNU_TIME = Path("/usr/bin/time")

SCALE = 60000  # synth.py --scale for the standard run: ~51,000 articles
SMOKE_SCALE = 3000  # ~2,500 articles
MILLION = 1_000_000
# synth.py --scale N makes N // 3 stories of 2.58 copies on average (the dev
# profile's "copies" distribution): 0.86 articles per unit expected, 0.851
# measured (51,087 articles at --scale 60000).  The million corpus asks for 2%
# more than needed and is cut to exactly MILLION articles.
ARTICLES_PER_UNIT = 0.85
CHUNK_SCALE = SCALE  # --million is built from synth.py runs of this --scale (see build_in_chunks)
COMPLETE = ".complete.json"


class BenchError(Exception):
    """A problem that ends the benchmark with a one-line message."""


# ---------------------------------------------------------------- the kit


def check_kit(bench: Path, need_synth: bool) -> None:
    missing = [name for name in (["synth.py"] if need_synth else []) + ["score.py"] if not (bench / name).is_file()]
    if missing:
        raise BenchError(
            f"the benchmark kit is not at {bench} (missing {', '.join(missing)}). It lives in /work/shared/bench "
            "next to its data in /work/shared/data; pass --bench DIR or set DEDUP_BENCH to where it is.")


def load_score(bench: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_score", bench / "score.py")
    if spec is None or spec.loader is None:
        raise BenchError(f"cannot load {bench / 'score.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- corpora


@dataclass
class Corpus:
    name: str
    path: Path
    synth_args: list[str]  # for --million: the arguments of each chunk, which adds its own --seed
    articles: int = 0
    target: int | None = None  # for --million: the exact number of articles wanted

    @property
    def folder(self) -> Path:
        return self.path / "articles"

    @property
    def jsonl(self) -> Path:
        return self.path / "corpus.jsonl"

    @property
    def truth(self) -> Path:
        return self.path / "truth.jsonl"


def corpus_spec(args: argparse.Namespace) -> Corpus:
    if args.million:
        name = f"{args.profile}-million"
        return Corpus(name, args.work / name, ["--profile", args.profile, "--scale", str(args.chunk_scale),
                                               "--no-files"], target=MILLION)
    scale = SMOKE_SCALE if args.smoke else (args.scale or SCALE)
    name = f"{args.profile}-scale{scale}"
    return Corpus(name, args.work / name, ["--profile", args.profile, "--scale", str(scale)])


def count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            n += block.count(b"\n")
    return n


def cached(path: Path, meta: dict[str, Any]) -> int | None:
    """The article count of a complete corpus made with ``meta``, else None."""
    marker = path / COMPLETE
    if not marker.is_file():
        return None
    done = json.loads(marker.read_text())
    return int(done["articles"]) if all(done.get(k) == v for k, v in meta.items()) else None


def synth(bench: Path, synth_args: list[str], out: Path) -> int:
    """Run synth.py into ``out`` (unless already done there) and return the number of articles."""
    meta = {"synth_args": synth_args}
    n = cached(out, meta)
    if n is not None:
        return n
    out.mkdir(parents=True, exist_ok=True)
    (out / COMPLETE).unlink(missing_ok=True)
    cmd = [sys.executable, str(bench / "synth.py"), *synth_args, "--out", str(out)]
    t0 = time.perf_counter()
    # synth.py looks for --profile NAME as a path first: run it where no "dev" file can shadow the profile.
    done = subprocess.run(cmd, cwd=bench, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise BenchError(f"synth.py {' '.join(synth_args)} failed (exit {done.returncode}):\n"
                         f"{done.stderr.strip()[-2000:]}")
    n = count_lines(out / "truth.jsonl")
    if count_lines(out / "corpus.jsonl") != n:
        raise BenchError(f"{out}: corpus.jsonl and truth.jsonl differ in length; delete {out} and rerun")
    (out / COMPLETE).write_text(json.dumps({**meta, "articles": n,
                                            "seconds": round(time.perf_counter() - t0, 1)}) + "\n")
    return n


def ensure_corpus(corpus: Corpus, bench: Path, gen_jobs: int, log: Any) -> None:
    """Generate the corpus unless a complete one is cached; fill in its size."""
    meta = {"synth_args": corpus.synth_args, "target": corpus.target}
    n = cached(corpus.path, meta)
    if n is not None:
        corpus.articles = n
        print(f"using cached corpus {corpus.path} ({n:,} articles)", file=log)
        return
    check_kit(bench, need_synth=True)
    t0 = time.perf_counter()
    if corpus.target is None:
        print(f"generating {corpus.path}: synth.py {' '.join(corpus.synth_args)}", file=log)
        corpus.articles = synth(bench, corpus.synth_args, corpus.path)
    else:
        corpus.articles = build_in_chunks(corpus, bench, gen_jobs, log)
    # Rewrite the marker with the corpus's own metadata (target included).
    (corpus.path / COMPLETE).write_text(json.dumps({**meta, "articles": corpus.articles,
                                                    "seconds": round(time.perf_counter() - t0, 1)}) + "\n")
    print(f"generated {corpus.articles:,} articles in {time.perf_counter() - t0:.0f} s", file=log)


def build_in_chunks(corpus: Corpus, bench: Path, gen_jobs: int, log: Any) -> int:
    """Make the --million corpus from synth.py runs with seeds 1, 2, ..., cut to exactly ``corpus.target``.

    One synth.py run at --scale 1,200,000 would take hours: for each story it
    scans the whole story pool for write-thru donors, which is quadratic in the
    number of stories (15 s at --scale 30,000, 37 s at 60,000).  Chunks of
    ``--chunk-scale`` run in parallel instead.  Seeds differ, so the stories
    do; ids and cluster labels get a ``partNN`` prefix so chunks cannot collide.
    """
    assert corpus.target is not None
    corpus.path.mkdir(parents=True, exist_ok=True)
    (corpus.path / COMPLETE).unlink(missing_ok=True)
    scale = int(corpus.synth_args[corpus.synth_args.index("--scale") + 1])
    chunks: dict[int, int] = {}  # seed -> articles
    print(f"generating {corpus.path} from synth.py {' '.join(corpus.synth_args)} --seed 1, 2, ... "
          f"({gen_jobs} at a time)", file=log)
    while sum(chunks.values()) < corpus.target:
        need = math.ceil((corpus.target - sum(chunks.values())) / (ARTICLES_PER_UNIT * scale) * 1.02)
        seeds = range(len(chunks) + 1, len(chunks) + 1 + need)
        with ThreadPoolExecutor(max_workers=gen_jobs) as pool:
            futures = {seed: pool.submit(synth, bench, [*corpus.synth_args, "--seed", str(seed)],
                                         corpus.path / "chunks" / f"part{seed:02d}") for seed in seeds}
            for seed, fut in futures.items():
                chunks[seed] = fut.result()
                print(f"  chunk {seed}: {chunks[seed]:,} articles", file=log)
    written = 0
    with open(corpus.jsonl, "w", encoding="utf-8") as cj, open(corpus.truth, "w", encoding="utf-8") as tj:
        for seed in sorted(chunks):
            part = f"part{seed:02d}"
            src = corpus.path / "chunks" / part
            with open(src / "corpus.jsonl", encoding="utf-8") as ci, open(src / "truth.jsonl", encoding="utf-8") as ti:
                for line, tline in zip(ci, ti, strict=True):
                    if written == corpus.target:
                        break
                    rec = json.loads(tline)
                    tj.write(json.dumps({"id": f"{part}/{rec['id']}", "cluster": f"{part}-{rec['cluster']}"}) + "\n")
                    head = '{"id": "'  # synth.py writes the id first: prefix it without parsing the text
                    if line.startswith(head + rec["id"]):
                        cj.write(head + part + "/" + line[len(head):])
                    else:
                        art = json.loads(line)
                        cj.write(json.dumps({**art, "id": f"{part}/{art['id']}"}, ensure_ascii=False) + "\n")
                    written += 1
    shutil.rmtree(corpus.path / "chunks")
    return written


# ---------------------------------------------------------------- measuring one command

# Used when /usr/bin/time is missing: a fresh process whose only child is the
# command, so RUSAGE_CHILDREN holds the command's figures and nothing else.
WRAPPER = """\
import json, resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as fh:
    json.dump({"max_rss_kb": ru.ru_maxrss, "user_s": ru.ru_utime, "sys_s": ru.ru_stime, "exit": rc}, fh)
sys.exit(rc if rc >= 0 else 128 - rc)
"""


def read_time_v(path: Path) -> dict[str, Any]:
    """The figures wanted from ``/usr/bin/time -v -o FILE`` output."""
    text = path.read_text(errors="replace") if path.exists() else ""

    def grab(label: str) -> str | None:
        m = re.search(rf"^\s*{re.escape(label)}:\s*(\S+)\s*$", text, re.M)
        return m.group(1) if m else None

    rss = grab("Maximum resident set size (kbytes)")
    user, sys_s = grab("User time (seconds)"), grab("System time (seconds)")
    return {"max_rss_kb": int(rss) if rss else None, "user_s": float(user) if user else None,
            "sys_s": float(sys_s) if sys_s else None}


class TreeSampler(threading.Thread):
    """Samples the summed VmRSS of the descendants of one process."""

    def __init__(self, root: int, interval: float):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.stop = threading.Event()
        self.peak_kb = 0
        self.peak_single_kb = 0
        self.peak_processes = 0
        self.seen: set[int] = set()
        self.samples = 0

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.sample()

    def descendants(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    stat = fh.read()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(b")") + 2:].split(None, 2)[1])
            children.setdefault(ppid, []).append(int(entry.name))
        out, todo = [], list(children.get(self.root, []))
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo += children.get(pid, [])
        return out

    def sample(self) -> None:
        total, biggest, n = 0, 0, 0
        for pid in self.descendants():
            try:
                with open(f"/proc/{pid}/status", "rb") as fh:
                    status = fh.read()
            except OSError:
                continue
            m = re.search(rb"^VmRSS:\s+(\d+) kB", status, re.M)
            if m:  # kernel threads and zombies have no VmRSS
                kb = int(m.group(1))
                total, biggest, n = total + kb, max(biggest, kb), n + 1
                self.seen.add(pid)
        self.samples += 1
        self.peak_kb = max(self.peak_kb, total)
        self.peak_single_kb = max(self.peak_single_kb, biggest)
        self.peak_processes = max(self.peak_processes, n)


@dataclass
class Measurement:
    seconds: float
    exit: int
    max_rss_kb: int | None
    user_s: float | None
    sys_s: float | None
    tree_rss_kb: int | None
    sampled_single_kb: int | None
    processes: int
    samples: int
    method: str
    timed_out: bool = False
    load_before: list[float] = field(default_factory=list)


def measure(cmd: list[str], stdin: Path | None, log_path: Path, timeout: float | None,
            sample_ms: float) -> Measurement:
    """Run ``cmd`` once and return its wall time, CPU time and memory figures."""
    with tempfile.TemporaryDirectory(prefix="dedup-speed-") as tmp:
        figures = Path(tmp) / "figures"
        if GNU_TIME.exists():
            full, method = [str(GNU_TIME), "-v", "-o", str(figures), *cmd], "/usr/bin/time -v"
        else:
            full, method = [sys.executable, "-c", WRAPPER, str(figures), *cmd], "getrusage(RUSAGE_CHILDREN)"
        load = [round(x, 2) for x in os.getloadavg()]
        timed_out = False
        with open(log_path, "wb") as log, open(stdin, "rb") if stdin else open(os.devnull, "rb") as inp:
            t0 = time.perf_counter()
            proc = subprocess.Popen(full, stdin=inp, stdout=log, stderr=log, start_new_session=True)
            sampler = TreeSampler(proc.pid, sample_ms / 1000) if sample_ms > 0 else None
            if sampler:
                sampler.start()
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)  # the session started for this command only
                rc = proc.wait()
            seconds = time.perf_counter() - t0
            if sampler:
                sampler.stop.set()
                sampler.join()
        if method.startswith("/usr/bin/time"):
            got = read_time_v(figures)
        else:
            got = json.loads(figures.read_text()) if figures.exists() else {}
            got.pop("exit", None)
    return Measurement(
        seconds=round(seconds, 3), exit=rc, max_rss_kb=got.get("max_rss_kb"), user_s=got.get("user_s"),
        sys_s=got.get("sys_s"), tree_rss_kb=sampler.peak_kb if sampler else None,
        sampled_single_kb=sampler.peak_single_kb if sampler else None,
        processes=len(sampler.seen) if sampler else 0, samples=sampler.samples if sampler else 0,
        method=method, timed_out=timed_out, load_before=load)


# ---------------------------------------------------------------- pipelines


def dedup_command(args: argparse.Namespace) -> list[str]:
    if args.dedup:
        return [args.dedup]
    beside = Path(sys.executable).parent / "dedup"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("dedup")
    if found:
        return [found]
    raise BenchError("no dedup command found: install the package (pip install -e .) or pass --dedup PATH")


def check_jobs(dedup: list[str]) -> None:
    helptext = subprocess.run([*dedup, "scan", "--help"], capture_output=True, text=True).stdout
    if "--jobs" not in helptext:
        raise BenchError("this dedup's scan has no --jobs option; run without --jobs")


def commands(pipeline: str, source: str, corpus: Corpus, out: Path,
             args: argparse.Namespace, dedup: list[str]) -> tuple[list[str], Path | None]:
    """The command line and stdin file of one pipeline on one input."""
    where, stdin = (str(corpus.folder), None) if source == "folder" else ("-", corpus.jsonl)
    if pipeline == "dedup":
        cmd = [*dedup, "scan", where, "--format", "jsonl", "--output", str(out), "--quiet"]
        if args.jobs:
            cmd += ["--jobs", str(args.jobs)]
        return cmd, stdin
    return [sys.executable, str(PEERS[pipeline]), where, "--output", str(out)], stdin


def run_all(args: argparse.Namespace, corpus: Corpus, score: ModuleType, log: Any) -> list[dict[str, Any]]:
    dedup = dedup_command(args) if "dedup" in args.pipelines else []
    if args.jobs and dedup:
        check_jobs(dedup)
    runs_dir = args.work / "runs" / corpus.name
    runs_dir.mkdir(parents=True, exist_ok=True)
    truth: dict[str, str] = {}  # read after the first run, not in memory while it runs
    rows = []
    for source in args.sources:
        for pipeline in args.pipelines:
            out = runs_dir / f"{pipeline}-{source}.jsonl"
            cmd, stdin = commands(pipeline, source, corpus, out, args, dedup)
            tries = []
            for i in range(args.repeat):
                print(f"running {pipeline} on {source} ({i + 1}/{args.repeat}): {' '.join(cmd)}"
                      + (f" < {stdin}" if stdin else ""), file=log)
                out.unlink(missing_ok=True)
                m = measure(cmd, stdin, runs_dir / f"{pipeline}-{source}.log", args.timeout, args.sample_ms)
                tries.append(m)
                print(f"  {m.seconds:.1f} s, exit {m.exit}" + (" (timed out)" if m.timed_out else ""), file=log)
                if m.exit != 0:
                    break
            best = min((t for t in tries if t.exit == 0), key=lambda t: t.seconds, default=tries[-1])
            row: dict[str, Any] = {"pipeline": pipeline, "input": source, "articles": corpus.articles,
                                   "command": cmd, "stdin": str(stdin) if stdin else None, "output": str(out),
                                   **asdict(best), "all_seconds": [t.seconds for t in tries]}
            row["articles_per_s"] = round(corpus.articles / best.seconds, 1) if best.seconds else None
            if best.exit == 0 and out.exists():
                truth = truth or score.read(str(corpus.truth))
                s = score.scores(truth, score.read(str(out)))
                row["score"] = {k: s[k] for k in ("ari", "pair_precision", "pair_recall", "pair_f1", "bcubed_f1",
                                                  "predicted_clusters", "true_clusters", "missing", "extra")}
            else:
                tail = (runs_dir / f"{pipeline}-{source}.log").read_text(errors="replace").strip()[-1500:]
                row["error"] = "timed out" if best.timed_out else f"exit {best.exit}: {tail}"
                print(f"  {pipeline} on {source} failed: {row['error']}", file=log)
            rows.append(row)
    return rows


# ---------------------------------------------------------------- report


def mb(kb: int | None) -> str:
    return f"{kb / 1024:,.0f}" if kb else "-"


def cpu_seconds(row: dict[str, Any]) -> float | None:
    return row["user_s"] + row["sys_s"] if row["user_s"] is not None and row["sys_s"] is not None else None


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for source in dict.fromkeys(r["input"] for r in rows):
        by = {r["pipeline"]: r for r in rows if r["input"] == source and "error" not in r}
        for peer in PEERS:
            if "dedup" in by and peer in by:
                d, b = by["dedup"], by[peer]
                rss = round(d["max_rss_kb"] / b["max_rss_kb"], 3) if d["max_rss_kb"] and b["max_rss_kb"] else None
                cpu_d, cpu_b = cpu_seconds(d), cpu_seconds(b)
                out.append({"input": source, "peer": peer,
                            "throughput_dedup_over_baseline": round(b["seconds"] / d["seconds"], 3),
                            "cpu_dedup_over_baseline": round(cpu_d / cpu_b, 3) if cpu_d and cpu_b else None,
                            "peak_rss_dedup_over_baseline": rss})
    return out


def table(rows: list[dict[str, Any]]) -> str:
    head = ["pipeline", "input", "articles", "seconds", "articles/s", "peak RSS MB", "tree RSS MB", "CPU s",
            "ARI", "pairwise P", "pairwise R"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        s = r.get("score")
        cpu = cpu_seconds(r)
        cells = [r["pipeline"], "folder" if r["input"] == "folder" else "jsonl (stdin)", f"{r['articles']:,}",
                 f"{r['seconds']:.1f}", f"{r['articles_per_s']:,.0f}" if r["articles_per_s"] else "-",
                 mb(r["max_rss_kb"]), mb(r["tree_rss_kb"]), f"{cpu:.1f}" if cpu is not None else "-"]
        if s:
            cells += [f"{s['ari']:.3f}", f"{s['pair_precision']:.3f}", f"{s['pair_recall']:.3f}"]
        else:
            cells += ["failed" if r.get("error") != "timed out" else "timed out", "-", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report_text(result: dict[str, Any]) -> str:
    c = result["corpus"]
    how = " --seed 1, 2, ... (chunks, cut to size)" if c["target"] else ""
    parts = [f"corpus: {c['path']} ({c['articles']:,} articles; synth.py {' '.join(c['synth_args'])}{how})",
             f"machine: {result['machine']['cpus']} CPUs, load {result['machine']['load_before']} before the runs; "
             f"memory by {result['memory_method']}; dedup at {result.get('dedup_revision') or 'unknown revision'}",
             "", table(result["runs"]), ""]
    for q in result["ratios"]:
        peer = q["peer"]
        line = f"throughput dedup/{peer} ({q['input']}): {q['throughput_dedup_over_baseline']:.2f}x"
        if q["cpu_dedup_over_baseline"]:
            line += f"   CPU time dedup/{peer}: {q['cpu_dedup_over_baseline']:.2f}x"
        if q["peak_rss_dedup_over_baseline"]:
            line += f"   peak RSS dedup/{peer}: {q['peak_rss_dedup_over_baseline']:.2f}x"
        parts.append(line)
    parts += ["", "peak RSS: largest single process (ru_maxrss); tree RSS: summed VmRSS of the process tree, "
              f"sampled every {result['sample_ms']:g} ms (shared pages counted per process); CPU s: user + system "
              "of the whole tree. Wall times depend on the machine's other load."]
    return "\n".join(parts)


def dedup_revision() -> str | None:
    """The repo's commit, with "+dirty" when dedup/ has uncommitted changes (an editable install runs them)."""
    repo = HERE.parent
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "dedup"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--smoke", action="store_true", help=f"small corpus (synth --scale {SMOKE_SCALE})")
    size.add_argument("--million", action="store_true",
                      help=f"{MILLION:,}-article JSON Lines corpus (synth --scale ... --no-files, cut to size)")
    size.add_argument("--scale", type=int, default=None, help=f"synth --scale for the corpus (default {SCALE})")
    ap.add_argument("--chunk-scale", type=int, default=CHUNK_SCALE,
                    help=f"--million: synth --scale of each chunk (default {CHUNK_SCALE})")
    ap.add_argument("--gen-jobs", type=int, default=os.cpu_count() or 1,
                    help="--million: synth.py runs at a time (default: all cores)")
    ap.add_argument("--profile", default="dev", help="synth.py profile (default dev)")
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK,
                    help=f"where corpora are cached and outputs written (default {DEFAULT_WORK})")
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH,
                    help=f"the benchmark kit with synth.py and score.py (default {DEFAULT_BENCH})")
    ap.add_argument("--input", choices=["folder", "jsonl", "both"], default=None,
                    help="dedup and the baseline read the folder of files, corpus.jsonl on stdin, or each in turn "
                         "(default folder; jsonl for --million, which has no files)")
    ap.add_argument("--pipelines", default="dedup,baseline",
                    help="comma-separated: dedup, baseline (datasketch), rensa (needs pip install rensa)")
    ap.add_argument("--jobs", type=int, default=None, help="passed to dedup scan --jobs")
    ap.add_argument("--dedup", default=None, metavar="PATH", help="the dedup command (default: the one beside python)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per pipeline; the fastest is reported")
    ap.add_argument("--timeout", type=float, default=None, help="kill a run after this many seconds")
    ap.add_argument("--sample-ms", type=float, default=50, help="/proc sampling interval for tree RSS (0: off)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)
    args.pipelines = [p.strip() for p in args.pipelines.split(",") if p.strip()]
    if not args.pipelines or set(args.pipelines) - {"dedup", *PEERS}:
        ap.error("--pipelines takes dedup, baseline and rensa, comma-separated")
    if "rensa" in args.pipelines and importlib.util.find_spec("rensa") is None:
        ap.error("the rensa peer needs rensa: pip install rensa")
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    if args.million and args.input in ("folder", "both"):
        ap.error("the --million corpus has no folder of files (synth --no-files); use --input jsonl")
    chosen = args.input or ("jsonl" if args.million else "folder")
    args.sources = ["folder", "jsonl"] if chosen == "both" else [chosen]
    args.work = args.work.resolve()
    args.bench = args.bench.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = sys.stderr
    try:
        check_kit(args.bench, need_synth=False)
        score = load_score(args.bench)
        corpus = corpus_spec(args)
        ensure_corpus(corpus, args.bench, args.gen_jobs, log)
        load = [round(x, 2) for x in os.getloadavg()]
        rows = run_all(args, corpus, score, log)
    except BenchError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    result = {
        "corpus": {"name": corpus.name, "path": str(corpus.path), "articles": corpus.articles,
                   "synth_args": corpus.synth_args, "target": corpus.target},
        "machine": {"cpus": os.cpu_count(), "load_before": load, "python": platform.python_version(),
                    "platform": platform.platform()},
        "memory_method": rows[0]["method"] if rows else None,
        "sample_ms": args.sample_ms,
        "jobs": args.jobs,
        "dedup_revision": dedup_revision(),
        "runs": rows,
        "ratios": ratios(rows),
    }
    print(json.dumps(result, indent=1) if args.json else report_text(result))
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
