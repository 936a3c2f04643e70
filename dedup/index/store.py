"""What an index keeps, and the small protocol each storage backend implements.

The matching logic lives in :mod:`dedup.index` and is the same for every
backend; a backend only stores and fetches. Every change to an index happens
inside one :meth:`Store.write` transaction, which a backend makes atomic (all
of it is kept or none of it) and serialised (one writer at a time across
processes), so that a new article is always compared with everything added
before it.

The on-disk (or in-Redis) format holds no pickles: text, numbers, JSON and raw
little-endian integer arrays only. A versioned :class:`Header` records the
settings the stored fingerprints depend on; :func:`check_header` refuses to
use an index with other settings or a newer format.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..candidates import bands
from ..config import Config
from ..document import Doc
from ..errors import IndexFormatError
from ..fingerprint import HASH_SCHEME

FORMAT_VERSION = 4  # 2: shingle hashes and segment keys from the bytes of the text (fingerprint.span_hashes);
# 3: segment keys and shingle hashes of text with the letters OCR confuses folded together
# (fingerprint._folded); 4: passage signatures and their LSH bands (Config.passages)
"""Version of the stored layout; bumped whenever an older dedup could misread it."""

BAND_HASH = "datasketch-byteswap"
"""Band keys are datasketch ``MinHashLSH``'s: the band's hash values, big-endian, as bytes."""


@dataclass(frozen=True)
class Bands:
    """The (b, r) LSH parameters of the whole-text, the lead and the passage index (None: no
    passages)."""

    full: tuple[int, int]
    lead: tuple[int, int]
    passage: tuple[int, int] | None = None


def bands_for(config: Config) -> Bands:
    """The parameters datasketch's ``MinHashLSH`` picks for the config's thresholds (the passage
    index's for passage signatures of ``num_perm // 2`` values)."""
    passage = bands(config.passage_lsh_threshold, config.num_perm // 2) if config.passages else None
    return Bands(bands(config.lsh_threshold, config.num_perm), bands(config.lead_lsh_threshold, config.num_perm),
                 passage)


def band_keys(signature: np.ndarray, params: tuple[int, int]) -> list[bytes]:
    """datasketch's bucket key of each band: ``bytes(hashvalues[start:end].byteswap().data)``."""
    b, r = params
    return [bytes(signature[i * r:(i + 1) * r].byteswap().data) for i in range(b)]


@dataclass(frozen=True)
class Header:
    """The settings an index was built with, stored beside its data."""

    format: int
    config: dict[str, Any]
    bands: Bands
    hash_scheme: str = HASH_SCHEME
    band_hash: str = BAND_HASH

    @classmethod
    def for_config(cls, config: Config) -> Header:
        return cls(FORMAT_VERSION, config.to_dict(), bands_for(config))

    def to_json(self) -> str:
        return json.dumps({
            "format": self.format,
            "shingle_size": self.config["shingle_size"],
            "num_perm": self.config["num_perm"],
            "seed": self.config["seed"],
            "lead_tokens": self.config["lead_tokens"],
            "hash_scheme": self.hash_scheme,
            "band_hash": self.band_hash,
            "bands": {"full": list(self.bands.full), "lead": list(self.bands.lead),
                      **({"passage": list(self.bands.passage)} if self.bands.passage else {})},
            "config": self.config,
        }, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str) -> Header:
        try:
            data = json.loads(text)
            fmt = int(data["format"])
        except (ValueError, TypeError, KeyError) as exc:
            raise IndexFormatError(f"{where}: the index header is unreadable ({exc})") from exc
        if fmt > FORMAT_VERSION:
            raise IndexFormatError(
                f"{where}: index format {fmt} is newer than this dedup reads ({FORMAT_VERSION}); upgrade dedup")
        try:
            full, lead, passage = data["bands"]["full"], data["bands"]["lead"], data["bands"].get("passage")
            params = Bands((int(full[0]), int(full[1])), (int(lead[0]), int(lead[1])),
                           None if passage is None else (int(passage[0]), int(passage[1])))
            return cls(fmt, dict(data["config"]), params, str(data["hash_scheme"]), str(data["band_hash"]))
        except (ValueError, TypeError, KeyError) as exc:
            raise IndexFormatError(f"{where}: the index header is unreadable ({exc})") from exc

    def stored_config(self, where: str) -> Config:
        """The config the index was built with."""
        try:
            return Config.from_dict(self.config)
        except Exception as exc:
            raise IndexFormatError(f"{where}: the index's settings are not understood ({exc})") from exc


def check_header(stored: Header, wanted: Header, where: str) -> None:
    """Raise :class:`IndexFormatError` unless an index can be used with ``wanted``'s settings."""
    if stored.format != wanted.format:
        raise IndexFormatError(f"{where}: index format {stored.format} is not the format this dedup writes "
                               f"({wanted.format}); rebuild the index")
    if (stored.hash_scheme, stored.band_hash) != (wanted.hash_scheme, wanted.band_hash):
        raise IndexFormatError(f"{where}: the index was hashed with {stored.hash_scheme}/{stored.band_hash}, "
                               f"this dedup uses {wanted.hash_scheme}/{wanted.band_hash}; rebuild the index")
    # A setting added after the index was built is not in its header: its default stands in
    # (Config.from_dict, which opens an index with its own settings, does the same).
    defaults = Config().to_dict()
    built = {**defaults, **stored.config}
    diffs = [f"{key}={built.get(key)!r} (asked for {value!r})"
             for key, value in wanted.config.items() if built.get(key) != value]
    diffs += [f"{key} (unknown here)" for key in stored.config if key not in wanted.config]
    if diffs:
        raise IndexFormatError(f"{where}: the index was built with other settings: {', '.join(diffs)}. "
                               "Open it without a config (on the command line: without matching options) "
                               "to use its own settings.")
    # The stored (b, r) are used as they are, even if a later datasketch would pick others.


@dataclass(frozen=True)
class Record:
    """One stored article: what matching and reporting need, except its words.

    ``time`` is the publication time (seconds since the epoch) when known;
    ``added`` is when it entered the index. ``seq`` counts additions and stands
    for input order. ``matched``/``similarity`` describe the member it matched
    when it was added (``None``/1.0 when it started its cluster).
    """

    id: str
    cluster: int
    seq: int
    group: str
    length: int
    added: float
    time: float | None = None
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: str | None = None
    matched: str | None = None
    similarity: float = 1.0
    digest: str | None = None  # of the article's text (text_digest): another text under a stored id is told apart


@dataclass(frozen=True)
class NewArticle:
    """Everything written for one article."""

    record: Record
    words: tuple[str, ...]
    segment_keys: tuple[int, ...]
    full: np.ndarray
    lead: np.ndarray
    passages: np.ndarray  # the passage signatures the article has (fingerprint.present), one a row
    head: int = 0  # words of the headline (Doc.head)


def text_digest(text: str) -> str:
    """A digest of an article's text, stored with it: an article added under an id the index holds
    is the same article again when its digest is the same.

    >>> text_digest("Oil rises"), text_digest("Oil rises") == text_digest("Oil falls")
    ('1cda123a5fab246d', False)
    """
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def stored_words(words: Sequence[str], head: int) -> str:
    """An article's words as stored: a newline after the headline, spaces elsewhere.

    >>> stored_words(["Oil", "rises", "Prices", "rose"], 2), stored_words(["Prices", "rose"], 0)
    ('Oil rises\\nPrices rose', 'Prices rose')
    """
    if 0 < head < len(words):
        return " ".join(words[:head]) + "\n" + " ".join(words[head:])
    return " ".join(words)


def stored_doc(ident: str, text: str) -> Doc:
    """The :class:`~dedup.document.Doc` of stored words (``head`` 0 when no headline was stored,
    as in indexes written before headlines were).

    >>> stored_doc("a", "Oil rises\\nPrices rose")
    Doc(id='a', words=('Oil', 'rises', 'Prices', 'rose'), removed=(), head=2)
    """
    head, newline, _ = text.partition("\n")
    return Doc(ident, tuple(text.split()), head=len(head.split()) if newline else 0)


@dataclass(frozen=True)
class PairScore:
    """A verified pair inside one cluster: its score and whether it matched."""

    a: str
    b: str
    score: float
    match: bool


class Reader(Protocol):
    """Reads that see one consistent state of the index."""

    def get(self, article_id: str) -> Record | None: ...

    def records(self, ids: Sequence[str]) -> dict[str, Record]: ...

    def words(self, ids: Sequence[str]) -> dict[str, tuple[str, ...]]: ...

    def docs(self, ids: Sequence[str]) -> dict[str, Doc]:
        """The stored words of each id, with the length of its headline."""
        ...

    def segment_keys(self, article_id: str) -> tuple[int, ...]: ...

    def segment_counts(self, group: str, keys: Sequence[int]) -> tuple[int, dict[int, int]]:
        """Articles of ``group`` so far, and how many of them hold each segment key."""
        ...

    def candidates(self, full: np.ndarray, lead: np.ndarray, passages: np.ndarray) -> dict[str, tuple[int, int]]:
        """Ids whose signature shares a band with ``full`` (whole-text index) or ``lead``, or one of
        whose passages shares one with a row of ``passages``, each with its cluster and seq."""
        ...

    def members(self, cluster: int) -> list[Record]: ...

    def roster(self, cluster: int) -> list[tuple[str, int]]:
        """The ids of a cluster's members with their seq, oldest first (no other field read)."""
        ...

    def canonical(self, cluster: int) -> str | None: ...

    def scores(self, cluster: int) -> list[PairScore]: ...

    def older_than(self, when: float) -> list[str]:
        """Ids published (or, when undated, added) before ``when``."""
        ...

    def all_records(self) -> Iterator[Record]: ...

    def cluster_sizes(self) -> dict[int, int]: ...

    def count(self) -> int: ...


class Writer(Reader, Protocol):
    """A write transaction: reads first, then changes, all kept or none."""

    def next_cluster(self) -> int: ...

    def next_seq(self) -> int: ...

    def insert(self, new: NewArticle) -> None: ...

    def count_segments(self, group: str, docs: int, keys: dict[int, int]) -> None:
        """Add ``docs`` to the group's article count and ``keys[k]`` to each key's count.

        Called at most once per group in a transaction; counts that reach zero are dropped.
        """
        ...

    def put_scores(self, cluster: int, pairs: Sequence[PairScore]) -> None: ...

    def set_cluster(self, cluster: int, canonical: str, size: int) -> None: ...

    def delete_cluster(self, cluster: int) -> None: ...

    def merge_cluster(self, gone: int, into: int) -> None:
        """Move every member of cluster ``gone`` (and its pair scores) into ``into``, and drop ``gone``."""
        ...

    def delete(self, record: Record) -> None:
        """Remove an article, its bands and its pair scores (not its segment counts)."""
        ...


class Store(Protocol):
    """A storage backend: a header, and transactions over the rest."""

    where: str

    def header(self) -> Header | None: ...

    def init(self, header: Header) -> Header:
        """Write ``header`` unless one exists (atomically); return the stored one."""
        ...

    def read(self) -> AbstractContextManager[Reader]: ...

    def write(self) -> AbstractContextManager[Writer]: ...

    def close(self) -> None: ...
