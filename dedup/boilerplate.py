"""Boilerplate removal: segments that one site repeats across many articles.

Site chrome (navigation, footers, newsletter and cookie blocks, inline ads,
"read more" lines) repeats across the articles of one source; the text of a
story does not, since a site runs a story once. So a segment (a line or a
sentence) counts as boilerplate when it occurs in at least
``boilerplate_min_docs`` articles of one source *and* in at least
``boilerplate_source_fraction`` of that source's articles. Counting per source
keeps a viral story, carried once each by hundreds of sites, from being taken
for chrome. The counts are plain mergeable counters, so they can be computed
per batch (or per Spark partition) and summed.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import compress
from operator import not_
from typing import Protocol

import numpy as np

from .config import Config
from .document import BODY_SENTENCE, Doc, Prepared, choose_title, is_headline, looks_like_headline
from .fingerprint import segment_keys
from .normalise import MAX_HEADLINE

_KEY_BITS = 48
_KEY_MASK = (1 << _KEY_BITS) - 1


class BoilerplateRule(Protocol):
    """Anything that tells whether a segment of a source is boilerplate."""

    def is_boilerplate(self, group: str, key: int, config: Config) -> bool: ...


def threshold(group_docs: int, config: Config) -> float:
    """How many articles of a source must hold a segment for it to be boilerplate."""
    return max(float(config.boilerplate_min_docs), config.boilerplate_source_fraction * group_docs)


@lru_cache(maxsize=65536)
def group_id(group: str) -> int:
    """A stable 15-bit id of a source (ids of very many sources may coincide)."""
    return int.from_bytes(hashlib.blake2b(group.encode("utf-8"), digest_size=2).digest(), "little") & 0x7FFF


def combined_key(gid: int, key: int) -> int:
    """One int64 for (source, segment): 15 bits of source id, 48 bits of segment key."""
    return (gid << _KEY_BITS) | (key & _KEY_MASK)


def combined_keys(gids: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """:func:`combined_key` of many (source id, segment key) pairs at once."""
    combined: np.ndarray = (gids.astype(np.int64) << _KEY_BITS) | (keys & _KEY_MASK)
    return combined


def distinct_keys(owners: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys of each article of a batch (``owners[k]`` holds ``keys[k]``),
    grouped by article in order: ``(owners, keys)``, each key once per article."""
    order = np.lexsort((keys, owners))
    owners, keys = owners[order], keys[order]
    if len(keys) > 1:
        new = np.concatenate(([True], (keys[1:] != keys[:-1]) | (owners[1:] != owners[:-1])))
        owners, keys = owners[new], keys[new]
    return owners, keys


class SegmentCounts:
    """Batch counterpart of :class:`BoilerplateStats`, in numpy arrays.

    Workers send each article's distinct keys; counting is a sort of int64
    arrays now and then instead of millions of dict updates, and 20 bytes a
    distinct segment instead of ~150.

    Memory stays bounded on very large inputs: a segment seen only once and
    not again within the last ``FORGET_AFTER`` articles is dropped at the next
    compaction. Chrome is on most of its site's pages, so it is seen again long
    before that; only a site with fewer than one article in ``FORGET_AFTER``
    could lose counts (and below that rate, ``boilerplate_min_docs`` is out of
    reach for it anyway). Inputs shorter than ``FORGET_AFTER`` are counted exactly.
    """

    COMPACT_EVERY = 4_000_000
    FORGET_AFTER = 200_000

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)
        self.last = np.zeros(0, dtype=np.int64)  # articles seen when the key was last seen
        self._pending: list[np.ndarray] = []
        self._pending_at: list[int] = []
        self._pending_size = 0
        self.articles = 0
        self.docs: Counter[int] = Counter()

    def add(self, keys: np.ndarray, gids: Iterable[int]) -> None:
        """Count one batch: the concatenated distinct keys of its articles, and their sources."""
        gids = list(gids)
        self.docs.update(gids)
        self.articles += len(gids)
        if len(keys):
            self._pending.append(keys)
            self._pending_at.append(self.articles)
            self._pending_size += len(keys)
            if self._pending_size >= self.COMPACT_EVERY:
                self._compact()

    def _compact(self) -> None:
        if not self._pending:
            return
        keys = np.concatenate([self.keys, *self._pending])
        counts = np.concatenate([self.counts, np.ones(self._pending_size, dtype=np.int64)])
        last = np.concatenate([self.last, *(np.full(len(k), at, dtype=np.int64)
                                            for k, at in zip(self._pending, self._pending_at))])
        self._pending, self._pending_at, self._pending_size = [], [], 0
        self.keys, inverse = np.unique(keys, return_inverse=True)
        self.counts = np.bincount(inverse, weights=counts, minlength=len(self.keys)).astype(np.int64)
        self.last = np.zeros(len(self.keys), dtype=np.int64)
        np.maximum.at(self.last, inverse, last)
        if self.articles > self.FORGET_AFTER:
            keep = (self.counts > 1) | (self.last > self.articles - self.FORGET_AFTER)
            self.keys, self.counts, self.last = self.keys[keep], self.counts[keep], self.last[keep]

    def rule(self, config: Config) -> BoilerplateSet:
        """The boilerplate segments under ``config``'s thresholds."""
        self._compact()
        if not len(self.keys):
            return BoilerplateSet(frozenset())
        gids = self.keys >> _KEY_BITS
        table = np.zeros(1 << 15, dtype=np.float64)
        for gid, n in self.docs.items():
            table[gid] = threshold(n, config)
        hits = self.keys[self.counts >= table[gids]]
        return BoilerplateSet(frozenset(hits.tolist()))


@dataclass(frozen=True)
class BoilerplateSet:
    """The (source, segment) pairs found to be boilerplate in a batch."""

    keys: frozenset[int]

    def is_boilerplate(self, group: str, key: int, config: Config) -> bool:
        return combined_key(group_id(group), key) in self.keys

    @cached_property
    def _ordered(self) -> np.ndarray:
        return np.array(sorted(self.keys), dtype=np.int64)

    def flags(self, combined: np.ndarray) -> np.ndarray:
        """Which of many combined keys (:func:`combined_keys`) are boilerplate: a bool array."""
        ordered = self._ordered
        if not len(ordered):
            return np.zeros(len(combined), dtype=bool)
        at = np.minimum(np.searchsorted(ordered, combined), len(ordered) - 1)
        found: np.ndarray = ordered[at] == combined
        return found


@dataclass
class BoilerplateStats:
    """Per-source counts of segments, each counted once per article."""

    segments: Counter[tuple[str, int]] = field(default_factory=Counter)
    docs: Counter[str] = field(default_factory=Counter)

    def add(self, prepared: Prepared) -> None:
        self.docs[prepared.group] += 1
        for key in {s.key for s in prepared.segments}:
            self.segments[(prepared.group, key)] += 1

    def update(self, other: BoilerplateStats) -> None:
        """Merge counts from another batch."""
        self.segments.update(other.segments)
        self.docs.update(other.docs)

    @classmethod
    def build(cls, prepared: Iterable[Prepared]) -> BoilerplateStats:
        stats = cls()
        for p in prepared:
            stats.add(p)
        return stats

    def is_boilerplate(self, group: str, key: int, config: Config) -> bool:
        return self.segments.get((group, key), 0) >= threshold(self.docs.get(group, 0), config)

    def compact(self, config: Config) -> BoilerplateStats:
        """Keep only the counts that can matter (saves memory on big corpora)."""
        keep = Counter({k: v for k, v in self.segments.items() if v >= config.boilerplate_min_docs})
        return BoilerplateStats(keep, Counter(self.docs))


def strip(prepared: Prepared, stats: BoilerplateRule | None, config: Config) -> Doc:
    """Drop boilerplate segments, and other stories carried below this one.

    A headline-like line after the story's first words starts another story
    (a "related articles" block with full texts, as on the seed page): it and
    what follows are dropped. If too little would remain, the whole text is kept.
    """
    segments = prepared.segments
    boiler = [stats is not None and stats.is_boilerplate(prepared.group, s.key, config) for s in segments]
    headlines = {n for n, s in enumerate(segments) if is_headline(s)}
    title, choice, text_first = _opening(boiler, prepared.headline, prepared.alternatives,
                                         lambda n: segments[n].words, prepared.text_start)
    kept, head = kept_segments(boiler, [len(s.words) for s in segments], headlines, config, title, text_first)
    keep = set(kept)
    words = tuple(w for n in kept for w in segments[n].words)
    removed = tuple(" ".join(s.words) for n, s in enumerate(segments) if n not in keep)
    return Doc(prepared.id, words, removed, head, prepared.titles[choice - 1] if choice else None)


def strip_segments(segs: list[str], alone: list[bool], boiler: list[bool], config: Config,
                   headline: int = -1, others: Sequence[int] = (), start: int = -1) -> tuple[str, str, int, int]:
    """:func:`strip` on an article's segments given as strings (words joined by spaces),
    whether each is a paragraph of its own and whether it is boilerplate, which is the
    title (-1: none), which other lines may be the headline (``Prepared.alternatives``) and
    where the text starts below them (``Prepared.text_start``):
    the headline kept ("" if none), the other segments kept (joined by spaces), the word
    count and which title the article has (:func:`~dedup.document.choose_title`)."""
    sizes = [seg.count(" ") + 1 for seg in segs]
    headlines = {n for n in compress(range(len(segs)), alone)
                 if 2 <= sizes[n] <= MAX_HEADLINE and looks_like_headline(segs[n].split(" "))}
    title, choice, text_first = _opening(boiler, headline, others, lambda n: segs[n].split(" "), start)
    kept, head = kept_segments(boiler, sizes, headlines, config, title, text_first)
    if not kept:
        return "", "", 0, choice
    rest = kept[1:] if head else kept  # no headline: the first segment is "" and all are the rest
    return (segs[kept[0]] if head else "", " ".join(map(segs.__getitem__, rest)), sum(map(sizes.__getitem__, kept)),
            choice)


def batch_keys(gids: Sequence[int], segments: Sequence[str], sizes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The combined keys of a batch's segments (``sizes[k]`` of them belong to the
    article whose source id, :func:`group_id`, is ``gids[k]``, in order), and which
    article each is of."""
    owners = np.repeat(np.arange(len(gids), dtype=np.int64), sizes)
    return owners, combined_keys(np.asarray(gids, dtype=np.int64)[owners], segment_keys(segments))


def _opening(boiler: Sequence[bool], headline: int, others: Sequence[int],
             words_at: Callable[[int], Sequence[str]], start: int = -1) -> tuple[int, int, bool]:
    """How an article opens, once boilerplate is known: its title segment and which title it
    is (:func:`~dedup.document.choose_title`), and whether the first segment kept starts the
    text: ``kept_segments``'s ``title`` and ``text_first``. With no title, it does when its
    words (``words_at(n)``) are not a headline's; with a title the site repeats (a masthead,
    "Today's paper") and no other line for it, when it is the line at which the text starts
    below the lines that may be headlines (``start``, :func:`~dedup.document.title_lines`): a
    one-sentence teaser, not a headline in sentence case."""
    title, choice = choose_title(headline, others, boiler)
    if title >= 0 and (not boiler[title] or start < 0):
        return title, choice, False  # most articles: a title, and no need to look further
    first = next((n for n, b in enumerate(boiler) if not b), -1)
    if title >= 0:
        return title, choice, first == start
    return title, choice, first >= 0 and not looks_like_headline(words_at(first))


def kept_segments(boiler: Sequence[bool], sizes: Sequence[int], headlines: Collection[int],
                  config: Config, title: int = -1, text_first: bool = False) -> tuple[list[int], int]:
    """Which segments of an article :func:`strip` keeps, and the length of its headline: the
    first segment kept when it is the article's title (segment ``title``), or, with no title
    among the segments (-1), when it is one of ``headlines``; and no longer than any headline.
    Else 0: no headline, the first segment kept is a line of the story.

    Works on what the rule needs only (whether each segment is boilerplate, its
    size in words, and which segments are headlines on a line of their own), so
    that a batch can strip articles without building their segments. The
    story's body starts at the first segment after the first kept one that has
    ``BODY_SENTENCE`` words or more and is not a headline (or at the first kept one
    when it is longer than any headline, or, with ``text_first``, reads as text: no
    title is known and its words are not a headline's); the first headline kept
    after that starts another story, which is dropped with all that follows. When
    fewer than ``min_tokens`` words would be kept, the first kept segment is read as a
    headline after all (with ``text_first``), and failing that the whole text is kept.
    """
    chosen = list(compress(range(len(boiler)), map(not_, boiler)))
    seen = False
    body = -1  # the segment at which the body starts
    for n in chosen:
        # after the first segment (the headline), or at it when it cannot be one
        if (seen or sizes[n] > MAX_HEADLINE or text_first) and sizes[n] >= BODY_SENTENCE and n not in headlines:
            body = n
            break
        seen = True
    kept = chosen
    if body >= 0:
        after = [h for h in headlines if h > body and not boiler[h]]
        if after:  # another story's headline below this one's body: a "related" block
            kept = chosen[:bisect_left(chosen, min(after))]  # the first sized segment (head) is before body
    if sum(map(sizes.__getitem__, kept)) < config.min_tokens:
        if text_first:  # the first line was a headline in sentence case, not text: read it as one
            return kept_segments(boiler, sizes, headlines, config, title)
        kept = list(range(len(boiler)))
    first = kept[0] if kept else -1
    headed = first >= 0 and (first == title or (title < 0 and first in headlines)) and sizes[first] <= MAX_HEADLINE
    return kept, sizes[first] if headed else 0
