#!/usr/bin/env python3
"""Quality benchmark: dedup against a peer pipeline on labelled synthetic corpora.

For each profile (the shared ``dev`` profile and every ``benchmarks/profiles/*.json``,
or those named) this script

1. builds the corpus with the shared benchmark's ``synth.py`` into a temporary
   folder (or ``--keep DIR``);
2. runs the installed ``dedup scan DIR/articles --format jsonl`` in a subprocess
   and times it (for ``dev`` also ``dedup scan -`` with ``corpus.jsonl`` on stdin);
3. runs, in this process and on the same corpus, the peer pipeline of the shared
   README's "resiliparse + datasketch" row: resiliparse main-content text for
   HTML, the record's title and text for JSON, the raw file text for txt;
   lower-cased ``\\w+`` words, 5-word shingles, datasketch MinHash with 128
   permutations, MinHashLSH at threshold 0.5, connected components (no
   verification). On dev this gives ARI 0.929, P 0.973, R 0.888, as published;
4. scores both with the shared ``score.py`` and prints one table.

    .venv/bin/python benchmarks/quality.py                       # every profile
    .venv/bin/python benchmarks/quality.py --profiles dev ocr    # some
    .venv/bin/python benchmarks/quality.py --keep /tmp/q --json  # keep corpora, JSON out
    .venv/bin/python benchmarks/quality.py --profiles benchmarks/profiles/scale/viral700.json

``profiles/scale/`` holds larger corpora with stories on hundreds of sites (35,000 articles
each; not run by default): ``viral300`` (up to 300 of 312 sites) and ``viral700`` (up to 700
of 780 sites).

The shared benchmark (synth.py, score.py, profiles/dev.json and the base
stories) is looked for in $DEDUP_BENCH, else /work/shared/bench.

"time" is wall-clock: for dedup the whole ``dedup scan`` subprocess (start-up and
reading included, its default --jobs unless --jobs is given), for the peer its
extraction, MinHash, LSH and components in this process. The last line names the
dedup measured; to measure a commit rather than a working tree shared with
others, export it and put it first on the path (from outside the checkout):

    git archive HEAD dedup | tar -x -C /tmp/src
    cd /tmp && PYTHONPATH=/tmp/src /work/main/.venv/bin/python /work/main/benchmarks/quality.py
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
PROFILES = HERE / "profiles"
BENCH = Path(os.environ.get("DEDUP_BENCH", "/work/shared/bench"))


def need_bench() -> tuple[Path, Path, ModuleType]:
    """(synth.py, dev.json, score module), or exit with a clear message."""
    synth, score, dev = BENCH / "synth.py", BENCH / "score.py", BENCH / "profiles" / "dev.json"
    base = BENCH.parent / "data" / "reuters21578.jsonl.gz"
    missing = [str(p) for p in (synth, score, dev, base) if not p.exists()]
    if missing:
        sys.exit("quality.py needs the shared syndication benchmark (synth.py, score.py, profiles/dev.json and "
                 f"../data/reuters21578.jsonl.gz) in {BENCH}; set DEDUP_BENCH to its folder.\n"
                 f"Missing: {', '.join(missing)}")
    spec = importlib.util.spec_from_file_location("bench_score", score)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return synth, dev, module


def find_profiles(names: list[str], dev: Path) -> list[tuple[str, Path]]:
    if not names:
        return [("dev", dev)] + [(p.stem, p) for p in sorted(PROFILES.glob("*.json"))]
    out = []
    for name in names:
        if name == "dev":
            out.append(("dev", dev))
        elif (PROFILES / f"{name}.json").exists():
            out.append((name, PROFILES / f"{name}.json"))
        elif Path(name).exists():
            out.append((Path(name).stem, Path(name)))
        else:
            sys.exit(f"unknown profile {name!r}: not dev, not in {PROFILES}, not a file")
    return out


def dedup_command() -> list[str]:
    beside = Path(sys.executable).parent / "dedup"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("dedup")
    if not found:
        sys.exit("the dedup command is not installed (pip install -e . in the project's virtualenv)")
    return [found]


def run_ours(args: list[str], out: Path, stdin: Path | None, jobs: int | None) -> float:
    cmd = [*dedup_command(), "scan", *args, "--format", "jsonl", "--output", str(out), "-q"]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    started = time.perf_counter()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as fh:
        proc = subprocess.run(cmd, stdin=fh, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return seconds


# ---------------------------------------------------------------- the peer pipeline

_WORD = re.compile(r"\w+")


def peer_text(rec: dict[str, Any]) -> str:
    from resiliparse.extract.html2text import extract_plain_text

    if rec.get("html"):
        return str(extract_plain_text(rec["html"], main_content=True))
    if str(rec["id"]).endswith(".json") and rec.get("title"):
        return f"{rec['title']}\n{rec['text']}"  # a JSON article's raw text: its title and body
    return str(rec["text"])  # a txt file as it is


def peer_cluster(corpus: Path, shingle: int = 5, num_perm: int = 128, threshold: float = 0.5) -> dict[str, str]:
    """resiliparse + datasketch MinHash/LSH + connected components, as in the shared README."""
    from datasketch import MinHash, MinHashLSH

    with open(corpus, encoding="utf-8") as fh:
        recs = [json.loads(line) for line in fh if line.strip()]
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    hashes = []
    for n, rec in enumerate(recs):
        words = _WORD.findall(peer_text(rec).lower())
        shingles = {" ".join(words[k:k + shingle]) for k in range(max(1, len(words) - shingle + 1))}
        mh = MinHash(num_perm=num_perm)
        mh.update_batch([s.encode("utf-8") for s in shingles])
        lsh.insert(n, mh)
        hashes.append(mh)
    parent = list(range(len(recs)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for n, mh in enumerate(hashes):
        for m in lsh.query(mh):
            a, b = find(n), find(m)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {rec["id"]: str(find(n)) for n, rec in enumerate(recs)}


# ---------------------------------------------------------------- one profile

def resolve_profile(profile: Path, work: Path) -> Path:
    """The profile synth.py reads. A profile with ``"outlets_from"`` (another profile's file
    name) and ``"clones"`` takes that profile's outlets, each repeated ``clones`` times under
    a numbered name and domain: stories can then run on hundreds of sites."""
    data = json.loads(profile.read_text("utf-8"))
    if "outlets_from" not in data:
        return profile
    base = json.loads((profile.parent / data.pop("outlets_from")).read_text("utf-8"))
    clones = int(data.pop("clones"))
    data["outlets"] = [{**o, "name": f"{o['name']} {k}", "domain": f"n{k}.{o['domain']}"}
                       for k in range(clones) for o in base["outlets"]]
    resolved = work / f"{profile.stem}.profile.json"
    resolved.write_text(json.dumps(data), "utf-8")
    return resolved


def run_profile(name: str, profile: Path, work: Path, synth: Path, score: ModuleType,
                jobs: int | None) -> list[dict[str, Any]]:
    out = work / name
    if out.exists():
        shutil.rmtree(out)
    started = time.perf_counter()
    resolved = resolve_profile(profile, work)
    proc = subprocess.run([sys.executable, str(synth), "--profile", str(resolved), "--out", str(out)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"synth.py failed on {profile}:\n{proc.stderr}")
    build = time.perf_counter() - started
    truth = score.read(str(out / "truth.jsonl"))

    started = time.perf_counter()
    peer = score.scores(truth, peer_cluster(out / "corpus.jsonl"))
    peer_seconds = time.perf_counter() - started

    runs = [(name, [str(out / "articles")], None, out / "predicted.jsonl")]
    if name == "dev":
        runs.append(("dev (stdin)", ["-"], out / "corpus.jsonl", out / "predicted-stdin.jsonl"))
    rows = []
    for label, args, stdin, pred in runs:
        seconds = run_ours(args, pred, stdin, jobs)
        ours = score.scores(truth, score.read(str(pred)))
        rows.append({"profile": label, "profile_file": str(profile), "articles": ours["articles"],
                     "build_seconds": round(build, 2),
                     "ours": {**ours, "seconds": round(seconds, 2)},
                     "peer": {**peer, "seconds": round(peer_seconds, 2)}})
    return rows


def code_version() -> str:
    """Which dedup the subprocesses run: the commit of this checkout and whether its sources differ from it,
    or the folder it is imported from when that is elsewhere (e.g. a PYTHONPATH export of another commit)."""
    root = HERE.parent
    spec = importlib.util.find_spec("dedup")
    where = Path(spec.origin).resolve().parent if spec and spec.origin else None
    if where != root / "dedup":
        return f"the package in {where}"
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "dedup"], capture_output=True,
                               text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    changed = [line[3:] for line in dirty if line.strip()]
    return commit + (f" + uncommitted changes in {', '.join(changed)}" if changed else "")


def table(rows: list[dict[str, Any]]) -> str:
    head = (f"{'profile':<13} {'articles':>8} | {'ARI':>6} {'P':>6} {'R':>6} {'F1':>6} {'time':>6} |"
            f" {'ARI':>6} {'P':>6} {'R':>6} {'F1':>6} {'time':>6}")
    title = f"{'':<13} {'':>8} | {'dedup':<34} | {'peer: resiliparse + datasketch':<34}"
    lines = [title, head, "-" * len(head)]
    for r in rows:
        cells = []
        for side in ("ours", "peer"):
            s = r[side]
            cells.append(f"{s['ari']:6.4f} {s['pair_precision']:6.4f} {s['pair_recall']:6.4f} {s['pair_f1']:6.4f}"
                         f" {s['seconds']:5.1f}s")
        lines.append(f"{r['profile']:<13} {r['articles']:>8} | {cells[0]} | {cells[1]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", metavar="PROFILE", help="profiles to run (same as --profiles)")
    ap.add_argument("--profiles", nargs="+", default=[], metavar="PROFILE",
                    help="dev, a name in benchmarks/profiles/ or a JSON file (default: all)")
    ap.add_argument("--keep", type=Path, default=None, metavar="DIR",
                    help="build corpora and predictions in DIR and keep them")
    ap.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    ap.add_argument("--jobs", type=int, default=None, help="passed to dedup scan --jobs (default: its own)")
    args = ap.parse_args(argv)

    synth, dev, score = need_bench()
    profiles = find_profiles(args.names + args.profiles, dev)
    rows: list[dict[str, Any]] = []
    version = code_version()
    with tempfile.TemporaryDirectory(prefix="dedup-quality-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name, path in profiles:
            print(f"{name}: building and scanning...", file=sys.stderr, flush=True)
            rows.extend(run_profile(name, path, work, synth, score, args.jobs))
    if args.json:
        print(json.dumps({"dedup_version": version, "results": rows}, indent=1))
    else:
        print(table(rows))
        print(f"dedup at {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
