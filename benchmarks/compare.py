#!/usr/bin/env python3
"""Two builds of dedup on the same labelled corpora: which ARIs a change moves, and which way.

A change to matching is judged on corpora nobody tuned on: random profiles
(``random_profile.py``: invented outlets, chrome and noise), the profiles of
``quality.py`` and any synth.py output folder. For each corpus this script runs
``dedup scan DIR/articles --format jsonl`` with the package of ``--base`` (a git
revision, exported with ``git archive``) and with this checkout's package, scores
both with the shared ``score.py``, and prints one row per corpus: both ARIs, the
difference, both pairwise precisions and recalls, and whether the two reports are
byte-identical (for a change meant to keep behaviour). A last line counts the
corpora that went up, down and stayed.

    python benchmarks/compare.py --base HEAD~1 --seeds 701-704          # 4 new random corpora
    python benchmarks/compare.py --base main --profiles dev chains      # quality.py's profiles
    python benchmarks/compare.py --base 1d62fd1 --corpus /tmp/q/dev /tmp/rq/r603

Corpora are built once under ``--work`` and reused; both builds run one after the
other on each corpus, with the same ``--jobs``. Needs the shared benchmark (see
quality.py) and a git checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import quality  # noqa: E402 - the benchmark kit's helpers (synth.py, score.py, profiles)
import random_profile  # noqa: E402

DEFAULT_WORK = Path(tempfile.gettempdir()) / "dedup-compare"


def seeds(spec: str) -> list[int]:
    """``"701-704"`` or ``"5,9,12"`` as seeds.

    >>> seeds("701-703"), seeds("5,9")
    ([701, 702, 703], [5, 9])
    """
    out: list[int] = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def build_corpus(name: str, profile: Path, work: Path, synth: Path) -> Path:
    """synth.py's output for a profile under ``work/corpora/name`` (built once)."""
    out = work / "corpora" / name
    if (out / "truth.jsonl").exists() and (out / "articles").is_dir():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    resolved = quality.resolve_profile(profile, out.parent)
    proc = subprocess.run([sys.executable, str(synth), "--profile", str(resolved), "--out", str(out)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"synth.py failed on {profile}:\n{proc.stderr}")
    return out


def export(revision: str, work: Path) -> Path:
    """The ``dedup`` package of a git revision, in a folder of its own (for ``PYTHONPATH``)."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", revision], capture_output=True,
                            text=True)
    if commit.returncode != 0:
        sys.exit(f"not a git revision of {ROOT}: {revision}")
    target = work / "builds" / commit.stdout.strip()
    if not (target / "dedup" / "__init__.py").exists():
        data = subprocess.run(["git", "-C", str(ROOT), "archive", commit.stdout.strip(), "dedup"],
                              capture_output=True, check=True).stdout
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=BytesIO(data)) as tar:
            tar.extractall(target, filter="data")
    return target


def scan(package_parent: Path, corpus: Path, out: Path, jobs: int | None) -> None:
    """``dedup scan`` with the package found in ``package_parent``, run from outside the checkout."""
    cmd = [sys.executable, "-c", "from dedup.__main__ import main; main()", "scan", str(corpus / "articles"),
           "--format", "jsonl", "--output", str(out), "-q"]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    proc = subprocess.run(cmd, cwd=tempfile.gettempdir(), env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"dedup scan failed on {corpus} with {package_parent}:\n{proc.stderr}")


def compare(name: str, corpus: Path, builds: dict[str, Path], work: Path, score: ModuleType,
            jobs: int | None) -> dict[str, Any]:
    truth = score.read(str(corpus / "truth.jsonl"))
    row: dict[str, Any] = {"corpus": name, "articles": len(truth)}
    reports = {}
    for side, package in builds.items():
        out = work / "reports" / f"{name}.{side}.jsonl"
        out.parent.mkdir(parents=True, exist_ok=True)
        scan(package, corpus, out, jobs)
        reports[side] = out.read_bytes()
        row[side] = score.scores(truth, score.read(str(out)))
    row["identical"] = reports["base"] == reports["head"]
    return row


def table(rows: list[dict[str, Any]], base: str) -> str:
    lines = [f"{'corpus':<22} {'articles':>8} | {'ARI ' + base:>12} {'ARI now':>8} {'change':>8} | "
             f"{'P':>13} {'R':>13} | same report"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        b, h = r["base"], r["head"]
        lines.append(f"{r['corpus']:<22} {r['articles']:>8} | {b['ari']:12.4f} {h['ari']:8.4f} "
                     f"{h['ari'] - b['ari']:+8.4f} | {b['pair_precision']:.4f}>{h['pair_precision']:.4f} "
                     f"{b['pair_recall']:.4f}>{h['pair_recall']:.4f} | {'yes' if r['identical'] else 'no'}")
    up = sum(r["head"]["ari"] > r["base"]["ari"] for r in rows)
    down = sum(r["head"]["ari"] < r["base"]["ari"] for r in rows)
    lines.append(f"{len(rows)} corpora: {up} up, {down} down, {len(rows) - up - down} unchanged "
                 f"({sum(r['identical'] for r in rows)} with byte-identical reports)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="the git revision to compare this checkout's package with")
    ap.add_argument("--seeds", default="", help="random profiles by seed (random_profile.py): 701-704 or 5,9")
    ap.add_argument("--profiles", nargs="+", default=[], metavar="PROFILE",
                    help="quality.py's profiles: dev, a name in benchmarks/profiles/ or a JSON file")
    ap.add_argument("--corpus", nargs="+", default=[], type=Path, metavar="DIR",
                    help="synth.py output folders (articles/ and truth.jsonl)")
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK, help="corpora, builds and reports go here")
    ap.add_argument("--jobs", type=int, default=None, help="passed to dedup scan --jobs")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args(argv)

    synth, dev, score = quality.need_bench()
    corpora: list[tuple[str, Path]] = []
    for seed in seeds(args.seeds) if args.seeds else []:
        profile = args.work / "profiles" / f"r{seed}.json"
        profile.parent.mkdir(parents=True, exist_ok=True)
        profile.write_text(json.dumps(random_profile.profile(seed), indent=1, ensure_ascii=False) + "\n", "utf-8")
        corpora.append((f"r{seed}", build_corpus(f"r{seed}", profile, args.work, synth)))
    for name, profile in quality.find_profiles(args.profiles, dev) if args.profiles else []:
        corpora.append((name, build_corpus(name, profile, args.work, synth)))
    for folder in args.corpus:
        if not (folder / "truth.jsonl").exists() or not (folder / "articles").is_dir():
            sys.exit(f"{folder} is not a synth.py output folder (articles/ and truth.jsonl)")
        corpora.append((folder.name, folder))
    if not corpora:
        sys.exit("no corpus: give --seeds, --profiles or --corpus")

    builds = {"base": export(args.base, args.work), "head": ROOT}
    rows = [compare(name, corpus, builds, args.work, score, args.jobs) for name, corpus in corpora]
    print(json.dumps(rows, indent=1) if args.json else table(rows, args.base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
