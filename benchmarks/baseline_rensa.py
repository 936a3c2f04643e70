#!/usr/bin/env python3
r"""A second, faster peer: the same pipeline as ``baseline_datasketch.py`` with rensa.

rensa (https://github.com/beowolx/rensa) is a MinHash/LSH library written in
Rust. This script reads, lower-cases and shingles exactly as the datasketch
peer does (it imports that script's readers), then builds one
``rensa.RMinHash`` per article, queries and inserts it into an
``RMinHashLSH`` with datasketch's banding for threshold 0.5 (25 bands of 5
rows, so 125 permutations), and takes connected components. No verification.

rensa is not a dependency of dedup: install it to run this peer
(``pip install rensa``); ``speed.py --pipelines dedup,baseline,rensa`` runs it.

    python benchmarks/baseline_rensa.py /tmp/bench-dev/articles -o rensa.jsonl
    python benchmarks/baseline_rensa.py - < /tmp/bench-dev/corpus.jsonl > rensa.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from rensa import RMinHash, RMinHashLSH

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline_datasketch import read_inputs, shingles

BANDS, ROWS = 25, 5  # datasketch's MinHashLSH(threshold=0.5, num_perm=128) picks these
NUM_PERM = BANDS * ROWS
THRESHOLD = 0.5


def cluster(articles: Iterable[tuple[str, str]]) -> list[tuple[str, int]]:
    """(id, cluster number) per article, in input order."""
    lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=BANDS)
    ids: list[str] = []
    parent: list[int] = []

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for ident, text in articles:
        i = len(ids)
        ids.append(ident)
        parent.append(i)
        sh = shingles(text)
        if not sh:
            continue  # nothing to match on: a singleton
        m = RMinHash(num_perm=NUM_PERM, seed=42)
        m.update(list(sh))
        for j in lsh.query(m):
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
        lsh.insert(i, m)
    return [(ident, find(i)) for i, ident in enumerate(ids)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", metavar="PATH", help="folders, .jsonl files, or - for JSON Lines on stdin")
    ap.add_argument("-o", "--output", help="write here instead of standard output")
    args = ap.parse_args(argv)
    result = cluster(read_inputs(args.paths))
    lines = (json.dumps({"id": ident, "cluster": f"c{c}"}, ensure_ascii=False) + "\n" for ident, c in result)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.writelines(lines)
    else:
        sys.stdout.writelines(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
