"""Candidate pairs from MinHash signatures: locality-sensitive hashing.

Two indexes are searched: one over whole-text signatures (copies that share
most of their text) and one over *lead* signatures, the first words of each
article (truncated copies and excerpts, whose whole-text similarity is low but
whose opening is the same).

The banding is datasketch's ``MinHashLSH``: the same ``(bands, rows)`` chosen
by its ``_optimal_param`` for the threshold, and the same rule (two signatures
are candidates when all rows of at least one band agree). For a whole batch
it is done at once with numpy (sort each band's keys, pair up equal runs),
which is ~50x faster than inserting and querying one key at a time; the
persistent index uses ``MinHashLSH`` itself, with its storage backends.

LSH at a low threshold proposes many pairs that merely share a lead or a few
phrases. Before verification, the batch run *screens* them: from the number of
whole-text signature values two texts share, an upper confidence bound of the
share of the shorter text's shingles that are in the longer
(:func:`containment_bounds`); pairs far below what a copy shares
(:func:`screen_floor`) are dropped unverified.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from .config import Config
from .fingerprint import present

SCREEN_CONFIDENCE = 0.999  # one-sided: a pair sharing more is screened out at most once in 1,000
SKETCH_DTYPE = np.dtype("<u2")  # signature values kept for screening: their low 16 bits
MAX_BUCKET = 500  # a band bucket larger than this pairs its members along a chain, not all with all


@lru_cache(maxsize=16)
def bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(b, r)``: the bands and rows per band datasketch's ``MinHashLSH`` picks for a threshold.

    Its rule (``datasketch.lsh._optimal_param`` with equal weights): of all ``b * r <=
    num_perm``, in the order ``b``, then ``r``, the first that minimises the
    false-positive area (the chance two signatures become candidates, integrated
    over similarities below the threshold) plus the false-negative area (the chance
    they do not, above it). Computed here with numpy: importing datasketch costs
    ~0.3 s (it imports scipy's integrators), more than a small scan's work. The
    integrands are polynomials of degree ``b * r``, which Gauss-Legendre quadrature
    with ``num_perm // 2 + 1`` nodes integrates exactly; a test checks the choice
    against datasketch's over a grid of thresholds and sizes.

    >>> bands(0.3, 128), bands(0.5, 128)
    ((37, 3), (25, 5))
    """
    if not 0.0 <= threshold <= 1.0 or num_perm < 2:
        raise ValueError(f"an LSH threshold in [0, 1] and at least 2 permutations are needed, "
                         f"not {threshold} and {num_perm}")
    pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    b_, r_ = np.array(pairs, dtype=np.float64).T[:, :, None]
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)

    def area(lo: float, hi: float, negative: bool) -> np.ndarray:
        s = (hi - lo) / 2 * nodes + (hi + lo) / 2
        missed = (1 - s[None, :] ** r_) ** b_  # the chance that no band agrees
        values: np.ndarray = (missed if negative else 1 - missed) @ weights * ((hi - lo) / 2)
        return values

    error = area(0.0, threshold, False) * 0.5 + area(threshold, 1.0, True) * 0.5
    b, r = pairs[int(np.argmin(error))]
    if b < 2:  # as MinHashLSH: one band is no index
        raise ValueError(f"{num_perm} permutations give one LSH band at threshold {threshold}: use more")
    return b, r


def band_keys(signatures: np.ndarray, threshold: float, num_perm: int) -> np.ndarray:
    """One 32-bit key per (signature, band): an ``n x b`` uint32 array.

    Equal bands give equal keys. Unequal bands collide with probability
    ~2^-32; such a pair is only a spurious candidate, rejected by verification.
    """
    b, r = bands(threshold, num_perm)
    sig = np.asarray(signatures)[:, : b * r].astype(np.uint64).reshape(len(signatures), b, r)
    key = np.zeros((len(signatures), b), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(r):
            key = (key * np.uint64(0x100000001B3)) ^ (sig[:, :, j] + np.uint64(0x9E3779B97F4A7C15))
    folded: np.ndarray = (key ^ (key >> np.uint64(32))).astype(np.uint32)
    return folded


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, sorted: ``np.unique`` by sorting.

    numpy 2.3 and later find distinct values with a hash table, which on millions of
    mostly distinct values (encoded pairs) is ~10x slower than sorting (5 s against
    0.5 s for 5 million here).

    >>> distinct(np.array([5, 1, 5, 3, 1])).tolist()
    [1, 3, 5]
    """
    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    found: np.ndarray = ordered[keep]
    return found


@lru_cache(maxsize=MAX_BUCKET)
def _pairs_of(size: int) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(size, k=1)
    return i, j


def pairs_from_keys(keys: np.ndarray | list[np.ndarray], *, chain_equal: bool = False) -> np.ndarray:
    """Encoded pairs ``i * n + j`` (``i < j``) of rows that share a key in some band (column).

    ``keys`` is an ``n x bands`` array, or a list of such arrays (row blocks), which
    are then never joined whole: one column at a time is. A bucket holds all rows
    with its key in one band; its rows are paired all with all, or along a chain
    (sorted) when it holds more than :data:`MAX_BUCKET` rows.

    Rows with the same keys in every band (copies with the same text) are banded
    once, as one row: their pairs are the same in every band, and generating them
    band after band (then sorting the repeats away) was most of the work. With
    ``chain_equal``, such rows are paired along a chain (sorted), not all with all, and a
    bucket pairs one row of each set of equal rows (the first), not all their rows: the
    pairs join the same rows into the same components, and their number grows with the
    rows, not with the square of the copies (the passage index, where every copy of a
    story has the same passages).
    """
    blocks = [k for k in keys if len(k)] if isinstance(keys, list) else [keys]
    n = sum(len(k) for k in blocks)
    if n < 2:
        return np.zeros(0, dtype=np.int64)
    # Rows with equal keys everywhere, by a 64-bit digest of the row.
    digest = np.concatenate([_row_digests(k) for k in blocks])
    _, first, group = np.unique(digest, return_index=True, return_inverse=True)
    del digest
    by_group = np.argsort(group, kind="stable")  # rows, grouped, each group in row order
    group_start = np.concatenate(([0], np.cumsum(np.bincount(group))))
    group_size = np.diff(group_start)
    reps = np.sort(first)  # one row per group, in row order
    rep_group = group[reps]
    found: list[np.ndarray] = []  # pairs of representatives
    unique = np.zeros(0, dtype=np.int64)
    pending = 0

    def members(g: int) -> np.ndarray:
        m: np.ndarray = by_group[group_start[g]:group_start[g + 1]]
        return m

    def bucket_pairs(rows: np.ndarray) -> np.ndarray:
        rows = np.sort(rows).astype(np.int64)
        if len(rows) > MAX_BUCKET:
            chained: np.ndarray = rows[:-1] * n + rows[1:]
            return chained
        i, j = _pairs_of(len(rows))
        every: np.ndarray = rows[i] * n + rows[j]
        return every

    # The pairs inside each group of equal rows (they share every bucket), one group size at a
    # time: by_group lists each group's rows in row order, so a (groups x size) array of them
    # gives all their pairs at once.
    rows_found: list[np.ndarray] = []
    if chain_equal:
        linked = group[by_group[1:]] == group[by_group[:-1]]  # consecutive rows of one group
        rows_found.append(by_group[:-1][linked].astype(np.int64) * n + by_group[1:][linked])
        group_size = np.ones_like(group_size)  # below: each group one row, its first
    for size in distinct(group_size[group_size > 1]).tolist():
        if size > MAX_BUCKET:
            rows_found.extend(bucket_pairs(members(g)) for g in np.flatnonzero(group_size == size).tolist())
            continue
        at = group_start[:-1][group_size == size]
        rows = by_group[at[:, None] + np.arange(size)].astype(np.int64)
        i, j = _pairs_of(size)
        rows_found.append((rows[:, i] * n + rows[:, j]).ravel())
    weight = group_size[rep_group]  # rows each representative stands for
    for band in range(blocks[0].shape[1]):
        if pending > max(len(unique), 1_000_000):
            # A copy collides in many bands: fold the repeats away as we go, so memory
            # stays near the number of distinct pairs rather than pairs x bands.
            unique = distinct(np.concatenate([unique, *found]))
            found, pending = [], 0
        column = _column(blocks, band)[reps]
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        sizes = np.diff(np.r_[starts, len(reps)])
        rows_in = np.add.reduceat(weight[order], starts)  # rows in each bucket, groups expanded
        # Buckets of at most MAX_BUCKET rows, one size at a time: a (buckets x size) array
        # of representatives, all their pairs at once (expanded to the groups' rows at the end).
        normal = (sizes >= 2) & (rows_in <= MAX_BUCKET)
        for size in np.unique(sizes[normal]).tolist():
            at = starts[normal & (sizes == size)]
            rows = np.sort(reps[order[at[:, None] + np.arange(size)]], axis=1).astype(np.int64)
            i, j = _pairs_of(size)
            found.append((rows[:, i] * n + rows[:, j]).ravel())
            pending += len(found[-1])
        # Crowded buckets: a chain through all their rows.
        crowded = (sizes >= 2) & (rows_in > MAX_BUCKET)
        for start, size in zip(starts[crowded].tolist(), sizes[crowded].tolist()):
            rows_found.append(bucket_pairs(np.concatenate([members(g) for g in
                                                           rep_group[order[start:start + size]].tolist()])))
    pairs = distinct(np.concatenate([unique, *found]))
    # Pairs of representatives stand for all pairs of their groups' rows.
    a, b = np.divmod(pairs, n)
    single = (group_size[group[a]] == 1) & (group_size[group[b]] == 1)
    rows_found.append(_expand(group[a[~single]], group[b[~single]], by_group, group_start, n))
    return distinct(np.concatenate([pairs[single], *rows_found]))


def _expand(ga: np.ndarray, gb: np.ndarray, by_group: np.ndarray, group_start: np.ndarray, n: int) -> np.ndarray:
    """Encoded pairs of every row of group ``ga[k]`` with every row of group ``gb[k]``, for all ``k``
    at once (``by_group[group_start[g]:group_start[g + 1]]`` are the rows of group ``g``)."""
    size_a, size_b = np.diff(group_start)[ga], np.diff(group_start)[gb]
    counts = size_a * size_b
    which = np.repeat(np.arange(len(ga)), counts)  # the group pair of each row pair
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    rows_a = by_group[group_start[ga[which]] + within // size_b[which]].astype(np.int64)
    rows_b = by_group[group_start[gb[which]] + within % size_b[which]].astype(np.int64)
    encoded: np.ndarray = np.minimum(rows_a, rows_b) * n + np.maximum(rows_a, rows_b)
    return encoded


def _row_digests(block: np.ndarray) -> np.ndarray:
    """A 64-bit digest of each row of band keys."""
    digest = np.zeros(len(block), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for band in range(block.shape[1]):
            digest = (digest * np.uint64(0x100000001B3)) ^ block[:, band].astype(np.uint64)
    return digest


def _column(blocks: list[np.ndarray], band: int) -> np.ndarray:
    return blocks[0][:, band] if len(blocks) == 1 else np.concatenate([k[:, band] for k in blocks])


def decode_pairs(encoded: np.ndarray, n: int) -> list[tuple[int, int]]:
    return list(zip((encoded // n).tolist(), (encoded % n).tolist()))


def passage_keys(passages: np.ndarray, config: Config, first: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Band keys of the passage signatures a batch of texts has (``n x passages x width``,
    :class:`~dedup.fingerprint.Signatures`), and the text each row of keys is of (numbered
    from ``first``): the rows of the passage index."""
    passages = np.asarray(passages)
    have = present(passages)
    owner = np.nonzero(have)[0].astype(np.int64) + first
    keys = band_keys(passages[have], config.passage_lsh_threshold, passages.shape[-1])
    return keys, owner


def passage_pairs(keys: list[np.ndarray], owners: list[np.ndarray], n: int) -> np.ndarray:
    """Encoded pairs ``i * n + j`` (``i < j``) of the ``n`` texts two of whose passages share a band
    (rows of :func:`passage_keys`, in blocks)."""
    owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    if len(owner) < 2:
        return np.zeros(0, dtype=np.int64)
    rows = pairs_from_keys(keys, chain_equal=True)
    # owner is sorted (a text's rows are together, texts in order): a pair of rows (r < s) is
    # a pair of texts (owner[r] <= owner[s]); mapped a million row pairs at a time, for memory
    found = []
    for start in range(0, len(rows), 1 << 20):
        a, b = np.divmod(rows[start:start + (1 << 20)], len(owner))
        a, b = owner[a], owner[b]
        other = a != b  # not two passages of one text
        found.append(a[other] * n + b[other])
    del rows
    return distinct(np.concatenate([np.zeros(0, dtype=np.int64), *found]))


def candidate_pairs(full: Sequence[np.ndarray], lead: Sequence[np.ndarray], config: Config,
                    passages: np.ndarray | None = None) -> set[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, of positions whose signatures collide in any index (whole
    text, lead, and passages when given)."""
    n = len(full)
    if n < 2:
        return set()
    keys = np.hstack([band_keys(np.asarray(full), config.lsh_threshold, config.num_perm),
                      band_keys(np.asarray(lead), config.lead_lsh_threshold, config.num_perm)])
    found = pairs_from_keys(keys)
    if passages is not None and config.passages:
        rows, owner = passage_keys(passages, config)
        found = distinct(np.concatenate([found, passage_pairs([rows], [owner], n)]))
    return set(decode_pairs(found, n))


def sketches(signatures: np.ndarray) -> np.ndarray:
    """The screening sketch of each signature (row): its values' low 16 bits, ``2 * num_perm``
    bytes. Unequal values agree by chance once in 65,536, which only makes the bound from
    :func:`containment_bounds` looser."""
    sketch: np.ndarray = (np.asarray(signatures) & np.uint32(0xFFFF)).astype(SKETCH_DTYPE)
    return sketch


def sketch_agreement(sketches_a: np.ndarray, sketches_b: np.ndarray) -> np.ndarray:
    """How many values of each pair of sketches (rows) are equal: of ``num_perm``, about the
    Jaccard similarity of the two texts' shingles times ``num_perm``."""
    agree: np.ndarray = np.count_nonzero(np.asarray(sketches_a) == np.asarray(sketches_b), axis=-1)
    return agree


def screening_bounds(sketches_a: np.ndarray, sketches_b: np.ndarray, words_a: np.ndarray, words_b: np.ndarray,
                     config: Config) -> np.ndarray:
    """:func:`containment_bounds` of pairs of texts given their sketches (rows of
    ``sketches_a``/``sketches_b``) and word counts; a pair is screened out when its bound is
    below :func:`screen_floor`."""
    return containment_bounds(sketch_agreement(sketches_a, sketches_b), shingle_counts(words_a, config.shingle_size),
                              shingle_counts(words_b, config.shingle_size), config.num_perm)


@lru_cache(maxsize=8)
def jaccard_upper_bounds(num_perm: int) -> np.ndarray:
    """``bounds[k]``: the upper :data:`SCREEN_CONFIDENCE` bound of the Jaccard similarity of
    two sets whose signatures agree in ``k`` of ``num_perm`` values (Clopper-Pearson)."""
    from scipy.special import betaincinv  # scipy comes with datasketch; imported when first needed

    agree = np.arange(num_perm + 1, dtype=np.float64)
    bounds: np.ndarray = np.ones(num_perm + 1)
    bounds[:-1] = betaincinv(agree[:-1] + 1, num_perm - agree[:-1], SCREEN_CONFIDENCE)
    return bounds


def containment_bounds(agree: np.ndarray, sizes_a: np.ndarray, sizes_b: np.ndarray, num_perm: int) -> np.ndarray:
    """Upper confidence bounds of the share of the smaller shingle set found in the larger,
    for pairs of sets of ``sizes_a``/``sizes_b`` shingles whose signatures agree in ``agree``
    of ``num_perm`` values: ``|A & B| = J * (|A| + |B|) / (1 + J)``, at the bound of ``J``.

    >>> containment_bounds(np.array([128, 0, 40]), np.array([100, 100, 20]), np.array([100, 100, 600]), 128).round(2)
    array([1. , 0.1, 1. ])
    """
    j = jaccard_upper_bounds(num_perm)[agree]
    a, b = np.asarray(sizes_a, dtype=np.float64), np.asarray(sizes_b, dtype=np.float64)
    shared = j * (a + b) / (1.0 + j)
    bound: np.ndarray = np.minimum(shared / np.maximum(np.minimum(a, b), 1.0), 1.0)
    return bound


def screen_floor(config: Config) -> float:
    """The containment bound below which a candidate pair is dropped unverified (0: none is).

    A copy shares at least ``min(containment_threshold, overlap_threshold)`` of the shorter
    text's words; of its shingles it shares less (a changed word breaks ``shingle_size`` of
    them), hence the ``screen_fraction`` of it, lowered further for shingles over 3 words.
    """
    share = min(config.containment_threshold, config.overlap_threshold)
    return config.screen_fraction * share * min(1.0, 3.0 / config.shingle_size)


def shingle_counts(words: np.ndarray, shingle_size: int) -> np.ndarray:
    """Shingles of texts of ``words`` words (a text shorter than a shingle is one; an empty text none)."""
    words = np.asarray(words, dtype=np.int64)
    counts: np.ndarray = np.where(words > 0, np.maximum(words - shingle_size + 1, 1), 0)
    return counts
