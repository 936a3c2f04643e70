#!/usr/bin/env python3
r"""A second, faster peer: the same pipeline as ``baseline_datasketch.py`` with rensa.

rensa (https://github.com/beowolx/rensa) is a MinHash/LSH library written in
Rust. This script is the datasketch peer (it runs that script's reading,
shingling, components and output) with one ``rensa.RMinHash`` per article,
queried and inserted into an ``RMinHashLSH`` with datasketch's banding for
threshold 0.5 (25 bands of 5 rows, so 125 permutations). No verification.

rensa is not a dependency of dedup: install it to run this peer
(``pip install rensa``); ``speed.py --pipelines dedup,baseline,rensa`` runs it.

    python benchmarks/baseline_rensa.py /tmp/bench-dev/articles -o rensa.jsonl
    python benchmarks/baseline_rensa.py - < /tmp/bench-dev/corpus.jsonl > rensa.jsonl
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from rensa import RMinHash, RMinHashLSH

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline_datasketch import cluster, main  # the datasketch peer's reading, shingles and components

BANDS, ROWS = 25, 5  # datasketch's MinHashLSH(threshold=0.5, num_perm=128) picks these
NUM_PERM = BANDS * ROWS
THRESHOLD = 0.5


def rensa_minhash(sh: set[str]) -> RMinHash:
    m = RMinHash(num_perm=NUM_PERM, seed=42)
    m.update(list(sh))
    return m


def rensa_cluster(articles: Iterable[tuple[str, str]]) -> list[tuple[str, int]]:
    """(id, cluster number) per article, in input order, with rensa's sketches and LSH."""
    return cluster(articles, RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=BANDS), rensa_minhash)


if __name__ == "__main__":
    sys.exit(main(clusters=rensa_cluster, description=__doc__))
