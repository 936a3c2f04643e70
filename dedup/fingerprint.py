"""Shingles and MinHash signatures, vectorised with numpy.

Signatures are exactly those of ``datasketch.MinHash`` with the default
``"affine32"`` scheme, the same ``num_perm`` and ``seed``, and
:func:`shingle_hashes` as its hash function: build one with
:func:`to_minhash` and use any datasketch index or storage backend with it.
The work is done for all shingles of a batch of articles at once (prefix
sums over their bytes for the shingle hashes, one ``shingles x permutations``
array for the signatures, cut into pieces from which the whole-text, lead and
passage signatures are taken), not one word or shingle at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .normalise import OCR_LETTERS

if TYPE_CHECKING:
    from datasketch import LeanMinHash

# datasketch (and the scipy it imports, ~0.5 s) is imported only where a MinHash object is built, so that
# `dedup --help` and commands that do not fingerprint start at once.

HASH_SCHEME = "affine32"
_MAX32 = np.uint32(0xFFFFFFFF)


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters ``(a, b)`` for a seed.

    Drawn as ``MinHash(num_perm, seed, scheme="affine32")`` draws them (numpy's
    ``RandomState``, whose stream numpy keeps fixed): odd multipliers, then offsets.
    Not taken from a ``MinHash``, as importing datasketch costs ~0.3 s; a test
    checks them against datasketch's.
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


_P = 0x01000193  # odd, so invertible modulo 2**32
_KEY_P = (0x5BD1E995, 0x2545F491)  # the two halves of a segment key
_SPACE, _NEWLINE = 32, 10
_CACHED_POWERS = 1 << 20  # longest power tables kept between calls (4 MB each)
_MAX_SHINGLES = 1 << 12  # shingles per block of the (permutations x shingles) array: 2 MB at 128, cache-sized


def _power_tables(p: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``p**k`` and ``p**-k`` modulo 2**32 for ``k < n``."""
    with np.errstate(over="ignore"):
        up = np.cumprod(np.full(n, p, dtype=np.uint32), dtype=np.uint32)
        down = np.cumprod(np.full(n, pow(p, -1, 1 << 32), dtype=np.uint32), dtype=np.uint32)
    return np.concatenate(([np.uint32(1)], up[:-1])), np.concatenate(([np.uint32(1)], down[:-1]))


_cached_power_tables = lru_cache(maxsize=4)(_power_tables)


def span_hashes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, p: int = _P) -> np.ndarray:
    """32-bit polynomial hashes (base ``p``, odd) of the byte spans ``data[starts[k]:ends[k]]``.

    All spans at once from one prefix sum: ``sum((byte + 1) * p**offset)``
    modulo 2**32, so a span hashes the same wherever it occurs.
    """
    n = len(data)
    size = 1 << max(16, n.bit_length())  # tables grow by doubling: few distinct sizes, cached
    # up to 8 MB; a longer text's (one huge document) are made for it and freed after
    up, down = (_cached_power_tables if size <= _CACHED_POWERS else _power_tables)(p, size)
    with np.errstate(over="ignore"):
        prefix = np.zeros(n + 1, dtype=np.uint32)
        np.cumsum((data.astype(np.uint32) + np.uint32(1)) * up[:n], dtype=np.uint32, out=prefix[1:])
        hashes: np.ndarray = (prefix[ends] - prefix[starts]) * down[starts]
    return hashes


_FOLD = bytes.maketrans(*(letters.encode("ascii") for letters in OCR_LETTERS))  # normalise.OCR_LETTERS, on bytes


def _folded(text: str) -> np.ndarray:
    """The UTF-8 bytes of lower-cased text with the single letters OCR confuses folded
    together (:data:`~dedup.normalise.OCR_LETTERS`), so that a word misread by OCR letter
    for letter hashes as the word. (The letter pairs of :func:`~dedup.normalise.ocr_fold`,
    "rn" for "m", are left out: replacing them took ~20 us an article, ``bytes.translate``
    takes ~1.5.)"""
    return np.frombuffer(text.encode("utf-8").translate(_FOLD), dtype=np.uint8)


def segment_keys(texts: Sequence[str]) -> np.ndarray:
    """A stable signed 64-bit key of each segment's lower-cased text, with the letters OCR
    confuses folded together (:func:`_folded`): an int64 array.

    Segments are words joined by single spaces (no newlines). Two 32-bit
    polynomial hashes of the UTF-8 bytes, all segments at once; collisions only
    matter if a story sentence collides with a frequent chrome line of the same source.

    >>> a, b, c, d = segment_keys(["Sign up", "sign UP", "sign in", "Sigu np"])
    >>> bool(a == b), bool(a == c), bool(a == d)
    (True, False, True)
    """
    if not texts:
        return np.zeros(0, dtype=np.int64)
    data = _folded("\n".join(texts).lower())
    breaks = np.flatnonzero(data == _NEWLINE)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(data)]))
    high = span_hashes(data, starts, ends, _KEY_P[0]).astype(np.uint64)
    low = span_hashes(data, starts, ends, _KEY_P[1]).astype(np.uint64)
    keys: np.ndarray = ((high << np.uint64(32)) | low).view(np.int64)
    return keys


def _shingles(texts: Sequence[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every run of ``size`` words of each text, and which text each is from.

    Texts are lower-cased words separated by spaces (no newlines). A shingle's
    hash is a polynomial hash of its UTF-8 bytes (the letters OCR confuses folded
    together, :func:`_folded`) modulo 2**32, computed for all
    shingles of all texts at once from prefix sums: no per-word Python work. A
    text shorter than ``size`` words is one shingle of all its words; an empty
    text has none. Shingles come out grouped by text, in text order.
    """
    data = _folded("\n".join(texts))
    n = len(data)
    if n == 0:
        return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.int64)
    sep = (data == _SPACE) | (data == _NEWLINE)
    word = ~sep
    starts = np.flatnonzero(word & np.concatenate(([True], sep[:-1])))
    ends = np.flatnonzero(word & np.concatenate((sep[1:], [True]))) + 1
    owner = np.searchsorted(np.flatnonzero(data == _NEWLINE), starts)  # the text each word is in
    if len(starts) >= size:
        valid = owner[: len(starts) - size + 1] == owner[size - 1 :]
        first = np.flatnonzero(valid)
        last = first + (size - 1)
    else:
        first = last = np.zeros(0, dtype=np.int64)
    # Texts shorter than a shingle: one shingle of all their words.
    counts = np.bincount(owner, minlength=len(texts))
    short = np.flatnonzero((counts > 0) & (counts < size))
    if len(short):
        bounds = np.concatenate(([0], np.cumsum(counts)))
        first = np.concatenate((first, bounds[short]))
        last = np.concatenate((last, bounds[short + 1] - 1))
        order = np.argsort(owner[first], kind="stable")
        first, last = first[order], last[order]
    return span_hashes(data, starts[first], ends[last]), owner[first]


def shingle_hashes(text: str, size: int) -> np.ndarray:
    """32-bit hashes of every run of ``size`` consecutive words of ``text``
    (lower-cased words separated by single spaces).

    A text shorter than ``size`` words is one shingle of all its words; an
    empty text has none. These are the values a datasketch ``MinHash`` with
    ``hashfunc=int`` is fed to get this module's signatures.
    """
    return _shingles([text], size)[0]


def _fmix32(h: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint32(16))
        h = h * np.uint32(0x85EBCA6B)
        h = h ^ (h >> np.uint32(13))
        h = h * np.uint32(0xC2B2AE35)
        out: np.ndarray = h ^ (h >> np.uint32(16))
        return out


def minhash(shingles: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signature (uint32, ``num_perm`` values) of a set of shingle hashes."""
    whole = Layout(lead=1, count=0, width=1, step=1)  # no passages; the lead is not used
    sigs = _signatures(shingles, np.zeros(len(shingles), dtype=np.int64), 1, num_perm, seed, whole)
    signature: np.ndarray = sigs.full[0]
    return signature


class Signatures(NamedTuple):
    """MinHash signatures of a batch of texts (one row each, uint32).

    ``full`` (``n x num_perm``) covers every shingle, ``lead`` (``n x num_perm``) the
    shingles of the first ``lead_tokens`` words, and ``passages`` (``n x passages x
    num_perm // 2``) short overlapping passages of the opening: passage ``k`` covers the
    shingles starting at positions ``[k * step, k * step + width)`` (:class:`Layout`).
    A passage the text is too short for is all ``0xFFFFFFFF`` (:func:`present`).
    """

    full: np.ndarray
    lead: np.ndarray
    passages: np.ndarray


@dataclass(frozen=True)
class Layout:
    """Where the lead and the passages are, in shingles from the start of a text.

    ``width`` shingles a passage, a new one every ``step``; a passage after the first is
    kept only when the text has more than half of it.
    """

    lead: int
    count: int
    width: int
    step: int

    @classmethod
    def of(cls, shingle_size: int, lead_tokens: int, passages: int, passage_tokens: int) -> Layout:
        width = max(1, passage_tokens - shingle_size + 1)
        return cls(max(1, lead_tokens - shingle_size + 1), passages, width, max(1, width * 3 // 4))

    def cuts(self) -> np.ndarray:
        """The shingle offsets at which the texts are cut into pieces: every piece lies wholly
        inside or outside the lead and each passage."""
        bounds = {0, self.lead}
        for k in range(self.count):
            bounds.update((k * self.step, k * self.step + self.width))
        return np.array(sorted(bounds), dtype=np.int64)

    def kept(self, shingles: np.ndarray) -> np.ndarray:
        """Which passages (columns) texts of ``shingles`` shingles have: ``n x count`` bool."""
        starts = np.arange(self.count) * self.step
        need = np.where(starts == 0, 0, starts + self.width // 2)
        kept: np.ndarray = np.asarray(shingles)[:, None] > need[None, :]
        return kept


def present(passages: np.ndarray) -> np.ndarray:
    """Which passage signatures (rows along the last axis) stand for a passage the text has."""
    found: np.ndarray = (passages != _MAX32).any(axis=-1)
    return found


def _signatures(hashes: np.ndarray, owner: np.ndarray, count: int, num_perm: int, seed: int,
                layout: Layout) -> Signatures:
    """Signatures of ``count`` texts from their shingles (grouped by ``owner``, in order).

    Each text's shingles are cut at :meth:`Layout.cuts` into pieces; the minimum of every
    piece under every permutation is taken at once (``np.minimum.reduceat``), and the whole
    text, the lead and each passage are the minimum over their pieces.
    """
    a, b = permutations(num_perm, seed)
    cuts = layout.cuts()
    pieces = len(cuts)
    mins = np.full((count, pieces, num_perm), _MAX32, dtype=np.uint32)
    if len(hashes):
        mixed = _fmix32(hashes)
        texts, begin = np.unique(owner, return_index=True)  # owner is sorted: where each text's shingles begin
        stop = np.concatenate((begin[1:], [len(owner)]))
        edges = np.minimum(begin[:, None] + cuts[None, :], stop[:, None])  # texts x pieces
        empty = edges >= stop[:, None]
        # Blocks of whole texts, at most _MAX_SHINGLES rows each; a longer text a block at a time.
        lo = 0
        while lo < len(texts):
            if stop[lo] - begin[lo] > _MAX_SHINGLES:
                ends = np.append(edges[lo, 1:], stop[lo])
                for k in range(pieces):
                    if not empty[lo, k]:
                        mins[texts[lo], k] = _min_over(mixed[edges[lo, k]:ends[k]], a, b)
                lo += 1
                continue
            hi = int(np.searchsorted(stop, begin[lo] + _MAX_SHINGLES, side="right"))
            rows = slice(int(begin[lo]), int(stop[hi - 1]))
            # permutations x shingles, plus a sentinel column: reduceat runs along contiguous rows.
            values = np.empty((num_perm, rows.stop - rows.start + 1), dtype=np.uint32)
            with np.errstate(over="ignore"):
                np.multiply.outer(a, mixed[rows], out=values[:, :-1])
                values[:, :-1] += b[:, None]
            values[:, -1] = _MAX32
            found = np.minimum.reduceat(values, (edges[lo:hi] - rows.start).ravel(), axis=1).T
            found = found.reshape(hi - lo, pieces, num_perm)
            found[empty[lo:hi]] = _MAX32  # an empty piece: reduceat gave one value of the next
            mins[texts[lo:hi]] = found
            lo = hi
    full = mins.min(axis=1)
    lead = mins[:, :int(np.searchsorted(cuts, layout.lead))].min(axis=1)
    half = max(1, num_perm // 2)
    passages = np.full((count, layout.count, half), _MAX32, dtype=np.uint32)
    if layout.count and len(hashes):
        lacking = ~layout.kept(np.bincount(owner, minlength=count))
        for k in range(layout.count):
            first, stop = np.searchsorted(cuts, [k * layout.step, k * layout.step + layout.width])
            np.min(mins[:, first:stop, :half], axis=1, out=passages[:, k])  # the passage's pieces: a view
            passages[lacking[:, k], k] = _MAX32
    return Signatures(full, lead, passages)


def _min_over(mixed: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The signature of one text's (mixed) shingle hashes, _MAX_SHINGLES of them at a time:
    memory stays that of one block however long the text (a book has millions of shingles)."""
    out = np.full(len(a), _MAX32, dtype=np.uint32)
    for k in range(0, len(mixed), _MAX_SHINGLES):
        with np.errstate(over="ignore"):
            values = np.multiply.outer(a, mixed[k:k + _MAX_SHINGLES])
            values += b[:, None]
        np.minimum(out, values.min(axis=1), out=out)
    return out


def signature_batch(texts: Sequence[str], shingle_size: int, lead_tokens: int, num_perm: int,
                    seed: int, passages: int = 0, passage_tokens: int = 22) -> Signatures:
    """Whole-text, lead and passage signatures (:class:`Signatures`) of lower-cased texts,
    words separated by single spaces.

    The lead signature covers the shingles of the first ``lead_tokens`` words; the
    ``passages`` passage signatures, ``passage_tokens`` words each, overlap by a quarter.
    """
    hashes, owner = _shingles(texts, shingle_size)
    return _signatures(hashes, owner, len(texts), num_perm, seed,
                       Layout.of(shingle_size, lead_tokens, passages, passage_tokens))


def signatures(tokens: Sequence[str], shingle_size: int, lead_tokens: int, num_perm: int,
               seed: int, passages: int = 0, passage_tokens: int = 22) -> Signatures:
    """Whole-text, lead and passage signatures of a lower-cased token sequence (one row)."""
    sigs = signature_batch([" ".join(tokens)], shingle_size, lead_tokens, num_perm, seed, passages, passage_tokens)
    return Signatures(sigs.full[0], sigs.lead[0], sigs.passages[0])


def to_minhash(signature: np.ndarray, seed: int = 1) -> LeanMinHash:
    """A datasketch ``LeanMinHash`` holding a signature from this module."""
    from datasketch import LeanMinHash

    return LeanMinHash(seed=seed, hashvalues=signature, scheme=HASH_SCHEME)


def estimate_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Share of equal signature values: the MinHash estimate of Jaccard similarity."""
    return float(np.count_nonzero(a == b)) / len(a)
