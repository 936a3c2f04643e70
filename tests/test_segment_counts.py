"""The batch segment counter (numpy) against the plain one, and its bounded memory."""

from __future__ import annotations

from collections import Counter

import numpy as np

from dedup.boilerplate import SegmentCounts


def _batches(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.unique(rng.integers(0, 5000, size=40)) for _ in range(n)]


def test_counts_are_exact_below_the_forgetting_horizon() -> None:
    counts = SegmentCounts()
    counts.COMPACT_EVERY = 500  # compact often
    expected: Counter[int] = Counter()
    for article in _batches(1, 300):
        expected.update(article.tolist())
        counts.add(article, [7])
    counts._compact()
    assert dict(zip(counts.keys.tolist(), counts.counts.tolist(), strict=True)) == dict(expected)
    assert counts.docs == Counter({7: 300})


def test_old_singletons_are_forgotten_repeated_keys_are_not() -> None:
    counts = SegmentCounts()
    counts.COMPACT_EVERY = 100
    counts.FORGET_AFTER = 50
    chrome = np.array([1, 2, 3], dtype=np.int64)
    for n in range(400):
        counts.add(np.concatenate([chrome, np.array([10_000 + n], dtype=np.int64)]), [0])
    counts._compact()
    kept = dict(zip(counts.keys.tolist(), counts.counts.tolist(), strict=True))
    assert kept[1] == kept[2] == kept[3] == 400  # chrome: every article, counted exactly
    singletons = [k for k in kept if k >= 10_000]
    assert singletons and min(singletons) >= 10_000 + 400 - 50 - 100  # only recent ones remain
