#!/usr/bin/env python3
"""Run dedup on the whole real Reuters-21578 corpus and print clusters to read.

The corpus (../shared/data/reuters21578.jsonl.gz, 19,043 stories) has real
refiles, corrections and repeats, and many template items (dividend notices,
earnings tables, weekly reports) that must stay apart. This script converts it
to JSON Lines (id, title, text, published, source "Reuters"), runs
``dedup scan`` on it, prints how many multi-member clusters it finds by size,
and prints a random sample of them (title, date and opening of each member)
for a person to judge.

    python benchmarks/reuters.py                 # 50 clusters, seed 99
    python benchmarks/reuters.py --sample 20 --seed 1
    python benchmarks/reuters.py --pairs 20709,20721 475,1078   # are these together?
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT = Path(os.environ.get("DEDUP_BENCH", HERE.parent.parent / "shared" / "bench")).parent / "data"


def convert(src: Path, out: Path) -> dict[str, dict[str, str]]:
    docs = {}
    with gzip.open(src, "rt", encoding="utf-8") as fh, out.open("w", encoding="utf-8") as w:
        for line in fh:
            d = json.loads(line)
            try:
                published = dt.datetime.strptime(d["date"].split(".")[0].strip(), "%d-%b-%Y %H:%M:%S").isoformat()
            except (KeyError, ValueError):
                published = None
            rec = {"id": str(d["id"]), "title": d.get("title"), "text": d["text"], "published": published,
                   "source": "Reuters"}
            docs[rec["id"]] = {**rec, "date": d.get("date", "")}
            w.write(json.dumps(rec) + "\n")
    return docs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT / "reuters21578.jsonl.gz")
    ap.add_argument("--dedup", default=str(Path(sys.executable).with_name("dedup")))
    ap.add_argument("--sample", type=int, default=50)
    ap.add_argument("--seed", type=int, default=99)
    ap.add_argument("--pairs", nargs="*", default=[], help="id pairs A,B: report whether they share a cluster")
    args = ap.parse_args(argv)
    if not args.data.exists():
        sys.exit(f"error: {args.data} not found (set DEDUP_BENCH to the benchmark kit's bench/ folder)")
    with tempfile.TemporaryDirectory() as tmp:
        corpus, report = Path(tmp) / "reuters.jsonl", Path(tmp) / "report.json"
        docs = convert(args.data, corpus)
        subprocess.run([args.dedup, "scan", str(corpus), "--format", "json", "-o", str(report), "-q"], check=True)
        result = json.loads(report.read_text(encoding="utf-8"))
    multi = [c for c in result["clusters"] if c["size"] > 1]
    sizes = Counter(c["size"] for c in multi)
    print(f"{len(docs)} stories, {len(result['clusters'])} clusters, {len(multi)} with more than one member "
          f"({', '.join(f'{n} of {s}' for s, n in sorted(sizes.items()))}), "
          f"{sum(c['size'] - 1 for c in multi)} duplicates")
    where = {m["id"]: c["cluster"] for c in result["clusters"] for m in c["members"]}
    for pair in args.pairs:
        a, b = pair.split(",")
        print(f"{a} {b}: {'together' if where[a] == where[b] else 'apart'}")
    random.seed(args.seed)
    for k, c in enumerate(random.sample(multi, min(args.sample, len(multi)))):
        print(f"\n=== sample {k}: {c['size']} members, weakest link {c['weakest_link']}")
        for m in c["members"]:
            d = docs[m["id"]]
            text = " ".join(d["text"].split())
            print(f"  {m['id']:>6} {m['similarity']:.2f} {d['date'][:11]:<11} {d['title'][:60]}")
            print(f"         {text[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
