"""Shingles and MinHash signatures, vectorised with numpy.

Signatures are exactly those of ``datasketch.MinHash`` with the default
``"affine32"`` scheme, the same ``num_perm`` and ``seed``, and
:func:`shingle_hashes` as its hash function: build one with
:func:`to_minhash` and use any datasketch index or storage backend with it.
The work is done for all shingles of an article at once (one
``shingles x permutations`` array), not one shingle at a time.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from datasketch import LeanMinHash, MinHash

HASH_SCHEME = "affine32"
_MIX = np.uint32(0x01000193)
_MAX32 = np.uint32(0xFFFFFFFF)


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters ``(a, b)`` for a seed."""
    perm = MinHash(num_perm=num_perm, seed=seed, scheme=HASH_SCHEME).permutations
    return perm[0].astype(np.uint32), perm[1].astype(np.uint32)


_CACHE: dict[str, int] = {}
_CACHE_LIMIT = 2_000_000  # words; a news vocabulary fits, a pathological stream is bounded


def token_hash(token: str) -> int:
    """A stable 32-bit hash of one token: CRC-32 of its UTF-8 bytes."""
    return zlib.crc32(token.encode("utf-8"))


def token_hashes(tokens: Sequence[str]) -> np.ndarray:
    """:func:`token_hash` of every token, through a per-process cache of the vocabulary."""
    cache = _CACHE
    try:
        values = [cache[t] for t in tokens]
    except KeyError:
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        values = []
        for t in tokens:
            h = cache.get(t)
            if h is None:
                h = cache[t] = zlib.crc32(t.encode("utf-8"))
            values.append(h)
    return np.array(values, dtype=np.uint32)


def shingle_hashes(hashes: np.ndarray, size: int) -> np.ndarray:
    """32-bit hashes of every run of ``size`` consecutive tokens.

    A text shorter than ``size`` is one shingle of all its tokens; an empty
    text has none.
    """
    n = len(hashes)
    if n == 0:
        return hashes[:0]
    if n < size:
        size = n
    count = n - size + 1
    out = hashes[:count].copy()
    with np.errstate(over="ignore"):
        for j in range(1, size):
            out = (out * _MIX) ^ hashes[j:j + count]
    return out


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
    a, b = permutations(num_perm, seed)
    if len(shingles) == 0:
        return np.full(num_perm, _MAX32, dtype=np.uint32)
    mixed = _fmix32(np.unique(shingles))
    with np.errstate(over="ignore"):
        values = np.multiply.outer(mixed, a) + b
    result: np.ndarray = values.min(axis=0)
    return result


def signatures(tokens: Sequence[str], shingle_size: int, lead_tokens: int, num_perm: int,
               seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Whole-text and lead signatures of a lower-cased token sequence."""
    hashes = token_hashes(tokens)
    full = minhash(shingle_hashes(hashes, shingle_size), num_perm, seed)
    lead = minhash(shingle_hashes(hashes[:lead_tokens], shingle_size), num_perm, seed)
    return full, lead


def to_minhash(signature: np.ndarray, seed: int = 1) -> LeanMinHash:
    """A datasketch ``LeanMinHash`` holding a signature from this module."""
    return LeanMinHash(seed=seed, hashvalues=signature, scheme=HASH_SCHEME)


def estimate_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Share of equal signature values: the MinHash estimate of Jaccard similarity."""
    return float(np.count_nonzero(a == b)) / len(a)
