"""Candidate pairs from MinHash signatures, with datasketch's MinHashLSH.

Two indexes are queried: one over whole-text signatures (copies that share
most of their text) and one over *lead* signatures, the first words of each
article (truncated copies and excerpts, whose whole-text similarity is low but
whose opening is the same).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from datasketch import MinHashLSH

from .config import Config
from .fingerprint import to_minhash


def lsh_index(threshold: float, config: Config) -> MinHashLSH:
    """An empty in-memory MinHashLSH with the config's permutations."""
    return MinHashLSH(threshold=threshold, num_perm=config.num_perm)


def candidate_pairs(full: Sequence[np.ndarray], lead: Sequence[np.ndarray], config: Config) -> set[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, of positions whose signatures collide in either index."""
    pairs: set[tuple[int, int]] = set()
    for sigs, threshold in ((full, config.lsh_threshold), (lead, config.lead_lsh_threshold)):
        lsh = lsh_index(threshold, config)
        hashes = [to_minhash(s, config.seed) for s in sigs]
        with lsh.insertion_session() as session:
            for i, mh in enumerate(hashes):
                session.insert(i, mh, check_duplication=False)
        for i, mh in enumerate(hashes):
            for j in lsh.query(mh):
                if j != i:
                    pairs.add((i, j) if i < j else (j, i))
    return pairs
