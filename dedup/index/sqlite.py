"""The embedded backend: one SQLite file (standard library ``sqlite3``, WAL mode).

Tables:

``header``
    the versioned settings (one JSON value under the key ``header``).
``articles``
    one row per article: metadata, cluster, the words verification compares
    (space-joined, after boilerplate removal), its segment keys and its
    MinHash signatures: whole text, lead, and the passages it has, one after
    the other (little-endian ``uint32``/``int64`` arrays, no pickle).
``bands``
    the LSH tables of the whole-text, lead and passage indexes: one row per
    (band key, article). A key is a 3-byte prefix (index, band number) followed
    by datasketch's bucket key, so the (b, r) and band hashing are datasketch's.
    All passages of an article go in one table: two articles are candidates
    when any passage of one shares a band with any of the other.
``pairs``
    verified pairs inside each cluster (score, match), for similarities and the
    cluster's weakest link.
``clusters``
    each cluster's canonical article and size.
``groups``/``segments``
    per-source article counts and segment counts for boilerplate removal.

Every write runs in ``BEGIN IMMEDIATE``: writers from any number of processes
take turns (the others wait up to ``timeout`` seconds), and a process killed
half-way leaves the last committed state. ``synchronous=NORMAL`` keeps a killed
process from losing anything; a power cut may lose the last transactions, never
consistency.
"""

from __future__ import annotations

import sqlite3
import struct
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..document import Doc
from ..errors import IndexFormatError, IndexStoreError
from .store import Header, NewArticle, PairScore, Record, band_keys, stored_doc, stored_words

_SCHEMA = """
CREATE TABLE IF NOT EXISTS header (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    cluster INTEGER NOT NULL,
    grp TEXT NOT NULL,
    length INTEGER NOT NULL,
    added REAL NOT NULL,
    time REAL,
    title TEXT, source TEXT, url TEXT, published TEXT,
    matched TEXT,
    similarity REAL NOT NULL,
    words TEXT NOT NULL,
    segments BLOB NOT NULL,
    full BLOB NOT NULL,
    lead BLOB NOT NULL,
    passages BLOB NOT NULL,
    digest TEXT
);
CREATE INDEX IF NOT EXISTS articles_cluster ON articles (cluster);
CREATE INDEX IF NOT EXISTS articles_when ON articles (coalesce(time, added));
CREATE TABLE IF NOT EXISTS bands (key BLOB NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, n)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pairs (
    a INTEGER NOT NULL, b INTEGER NOT NULL, score REAL NOT NULL, match INTEGER NOT NULL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pairs_b ON pairs (b);
CREATE TABLE IF NOT EXISTS clusters (id INTEGER PRIMARY KEY AUTOINCREMENT, canonical TEXT NOT NULL,
                                     size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS groups (g INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, docs INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS segments (
    g INTEGER NOT NULL, key INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (g, key)
) WITHOUT ROWID;
"""

WAL_CHECKPOINT_PAGES = 16_000
"""Pages (4 KB) the write-ahead log grows to before its pages are copied into the database:
at most ~64 MB beside the index file while it is open (SQLite removes the log at the last close)."""

_RECORD = "id, cluster, n, grp, length, added, time, title, source, url, published, matched, similarity, digest"


def _record(row: Sequence[Any]) -> Record:
    return Record(id=row[0], cluster=row[1], seq=row[2], group=row[3], length=row[4], added=row[5], time=row[6],
                  title=row[7], source=row[8], url=row[9], published=row[10], matched=row[11],
                  similarity=row[12], digest=row[13])


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _use_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Put the database in WAL mode (a property of the file: a no-op once done).

    Changing the journal mode needs the file alone, and SQLite answers "database is locked"
    at once rather than waiting its busy timeout: so wait here, up to ``timeout``.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(2 * delay, 0.1)


class SQLiteStore:
    """An index in one SQLite file."""

    def __init__(self, path: str | Path, *, create: bool = True, timeout: float = 60.0) -> None:
        self.where = str(path)
        self.path = Path(path)
        self.timeout = timeout
        if not create and not self.path.exists():
            raise IndexStoreError(f"{self.where}: no index here (add articles to create one)")
        try:
            self.conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            _use_wal(self.conn, timeout)
            self.conn.execute("PRAGMA synchronous=NORMAL")
            # A checkpoint every WAL_CHECKPOINT_PAGES pages written, not SQLite's 1,000: an add
            # dirties ~170 random pages of the band table, so at 1,000 every sixth add paid for
            # a checkpoint (at 15,000 articles, p95 18.6-18.9 ms, 7.2-7.7 with this; mean 7.3-7.6, 5.5-6.0).
            self.conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            # 64 MB of page cache: band lookups and inserts hit random pages of a table that grows by ~70 rows an add
            self.conn.execute("PRAGMA cache_size=-65536")
        except sqlite3.Error as exc:
            raise IndexStoreError(f"{self.where}: cannot open the index ({exc})") from exc
        self._header: Header | None = None

    def header(self) -> Header | None:
        try:
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "header" not in tables:
                if tables - {"sqlite_sequence"}:
                    raise IndexFormatError(f"{self.where}: an SQLite database but not a dedup index")
                return None
            row = self.conn.execute("SELECT value FROM header WHERE key = 'header'").fetchone()
        except sqlite3.Error as exc:
            raise IndexStoreError(f"{self.where}: cannot read the index ({exc})") from exc
        if row is None:
            return None
        self._header = Header.from_json(row[0], self.where)
        return self._header

    def init(self, header: Header) -> Header:
        existing = self.header()
        if existing is not None:
            return existing
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute("INSERT OR IGNORE INTO header (key, value) VALUES ('header', ?)",
                                  (header.to_json(),))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise IndexStoreError(f"{self.where}: cannot create the index ({exc})") from exc
        stored = self.header()
        assert stored is not None
        return stored

    @contextmanager
    def read(self) -> Iterator[_Txn]:
        with self._txn("BEGIN") as txn:
            yield txn

    @contextmanager
    def write(self) -> Iterator[_Txn]:
        with self._txn("BEGIN IMMEDIATE") as txn:
            yield txn

    @contextmanager
    def _txn(self, begin: str) -> Iterator[_Txn]:
        if self._header is None:
            raise IndexStoreError(f"{self.where}: the index has no header")
        try:
            self.conn.execute(begin)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                raise IndexStoreError(f"{self.where}: another writer held the index for {self.timeout:g} s "
                                      f"({exc})") from exc
            raise IndexStoreError(f"{self.where}: cannot start a transaction ({exc})") from exc
        except sqlite3.Error as exc:
            raise IndexStoreError(f"{self.where}: cannot start a transaction ({exc})") from exc
        try:
            yield _Txn(self.conn, self._header)
        except sqlite3.Error as exc:
            self.conn.execute("ROLLBACK")
            raise IndexStoreError(f"{self.where}: {exc}") from exc
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise IndexStoreError(f"{self.where}: cannot commit ({exc})") from exc

    def close(self) -> None:
        self.conn.close()


class _Txn:
    """Reads and writes inside one SQLite transaction."""

    def __init__(self, conn: sqlite3.Connection, header: Header) -> None:
        self.conn = conn
        self.header = header

    # reads

    def _n(self, article_id: str) -> int | None:
        row = self.conn.execute("SELECT n FROM articles WHERE id = ?", (article_id,)).fetchone()
        return None if row is None else int(row[0])

    def get(self, article_id: str) -> Record | None:
        row = self.conn.execute(f"SELECT {_RECORD} FROM articles WHERE id = ?", (article_id,)).fetchone()
        return None if row is None else _record(row)

    def records(self, ids: Sequence[str]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        for chunk in _chunks(list(ids)):
            for row in self.conn.execute(f"SELECT {_RECORD} FROM articles WHERE id IN ({_marks(len(chunk))})",
                                         tuple(chunk)):
                out[row[0]] = _record(row)
        return out

    def words(self, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return {i: doc.words for i, doc in self.docs(ids).items()}

    def docs(self, ids: Sequence[str]) -> dict[str, Doc]:
        out: dict[str, Doc] = {}
        for chunk in _chunks(list(ids)):
            for art, text in self.conn.execute(f"SELECT id, words FROM articles WHERE id IN ({_marks(len(chunk))})",
                                               tuple(chunk)):
                out[art] = stored_doc(art, text)
        return out

    def segment_keys(self, article_id: str) -> tuple[int, ...]:
        row = self.conn.execute("SELECT segments FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return ()
        return tuple(int(k) for k in np.frombuffer(row[0], dtype="<i8"))

    def segment_counts(self, group: str, keys: Sequence[int]) -> tuple[int, dict[int, int]]:
        row = self.conn.execute("SELECT g, docs FROM groups WHERE name = ?", (group,)).fetchone()
        if row is None:
            return 0, {}
        g, docs = row
        counts: dict[int, int] = {}
        for chunk in _chunks(list(keys)):
            counts.update(self.conn.execute(
                f"SELECT key, count FROM segments WHERE g = ? AND key IN ({_marks(len(chunk))})", (g, *chunk)))
        return int(docs), counts

    def _band_keys(self, full: np.ndarray, lead: np.ndarray, passages: np.ndarray) -> list[bytes]:
        bands = self.header.bands
        keys: list[bytes] = []
        for kind, (sig, params) in enumerate(((full, bands.full), (lead, bands.lead))):
            keys.extend(struct.pack(">BH", kind, i) + key for i, key in enumerate(band_keys(sig, params)))
        if bands.passage is not None:
            keys.extend(dict.fromkeys(struct.pack(">BH", 2, i) + key for sig in passages
                                      for i, key in enumerate(band_keys(sig, bands.passage))))
        return keys

    def _passages(self, raw: bytes) -> np.ndarray:
        width = int(self.header.config["num_perm"]) // 2
        rows: np.ndarray = np.frombuffer(raw, dtype="<u4").reshape(-1, width)
        return rows

    def candidates(self, full: np.ndarray, lead: np.ndarray, passages: np.ndarray) -> dict[str, tuple[int, int]]:
        keys = self._band_keys(full, lead, passages)
        # The distinct rows first, then their ids: joining every band row (a story on hundreds of
        # sites shares each band with all its copies) and then de-duplicating ids cost 2.3x more.
        rows = self.conn.execute("SELECT id, cluster, n FROM articles WHERE n IN "
                                 f"(SELECT n FROM bands WHERE key IN ({_marks(len(keys))}))", keys)
        return {i: (int(c), int(n)) for i, c, n in rows}

    def roster(self, cluster: int) -> list[tuple[str, int]]:
        rows = self.conn.execute("SELECT id, n FROM articles WHERE cluster = ? ORDER BY n", (cluster,))
        return [(i, int(n)) for i, n in rows]

    def members(self, cluster: int) -> list[Record]:
        rows = self.conn.execute(f"SELECT {_RECORD} FROM articles WHERE cluster = ? ORDER BY n", (cluster,))
        return [_record(r) for r in rows]

    def canonical(self, cluster: int) -> str | None:
        row = self.conn.execute("SELECT canonical FROM clusters WHERE id = ?", (cluster,)).fetchone()
        return None if row is None else str(row[0])

    def scores(self, cluster: int) -> list[PairScore]:
        rows = self.conn.execute(
            "SELECT x.id, y.id, p.score, p.match FROM articles x JOIN pairs p ON p.a = x.n "
            "JOIN articles y ON y.n = p.b WHERE x.cluster = ? AND y.cluster = ?", (cluster, cluster))
        return [PairScore(a, b, float(s), bool(m)) for a, b, s, m in rows]

    def older_than(self, when: float) -> list[str]:
        rows = self.conn.execute("SELECT id FROM articles WHERE coalesce(time, added) < ? ORDER BY n", (when,))
        return [r[0] for r in rows]

    def all_records(self) -> Iterator[Record]:
        for row in self.conn.execute(f"SELECT {_RECORD} FROM articles ORDER BY n"):
            yield _record(row)

    def cluster_sizes(self) -> dict[int, int]:
        return {int(c): int(s) for c, s in self.conn.execute("SELECT id, size FROM clusters")}

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM articles").fetchone()[0])

    # writes

    def next_cluster(self) -> int:
        cur = self.conn.execute("INSERT INTO clusters (canonical, size) VALUES ('', 0)")
        assert cur.lastrowid is not None
        return cur.lastrowid

    def next_seq(self) -> int:
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'articles'").fetchone()
        return 1 if row is None else int(row[0]) + 1

    def insert(self, new: NewArticle) -> None:
        r = new.record
        cur = self.conn.execute(
            "INSERT INTO articles (n, id, cluster, grp, length, added, time, title, source, url, published, matched, "
            "similarity, digest, words, segments, full, lead, passages) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (r.seq, r.id, r.cluster, r.group, r.length, r.added, r.time, r.title, r.source, r.url, r.published,
             r.matched, r.similarity, r.digest, stored_words(new.words, new.head),
             np.asarray(new.segment_keys, dtype="<i8").tobytes(),
             new.full.astype("<u4").tobytes(), new.lead.astype("<u4").tobytes(),
             new.passages.astype("<u4").tobytes()))
        n = cur.lastrowid
        self.conn.executemany("INSERT OR IGNORE INTO bands (key, n) VALUES (?, ?)",
                              [(key, n) for key in self._band_keys(new.full, new.lead, new.passages)])

    def count_segments(self, group: str, docs: int, keys: dict[int, int]) -> None:
        self.conn.execute("INSERT INTO groups (name, docs) VALUES (?, ?) "
                          "ON CONFLICT (name) DO UPDATE SET docs = docs + excluded.docs", (group, docs))
        g = self.conn.execute("SELECT g FROM groups WHERE name = ?", (group,)).fetchone()[0]
        self.conn.executemany("INSERT INTO segments (g, key, count) VALUES (?, ?, ?) "
                              "ON CONFLICT (g, key) DO UPDATE SET count = count + excluded.count",
                              [(g, k, d) for k, d in keys.items()])
        if docs < 0:
            self.conn.executemany("DELETE FROM segments WHERE g = ? AND key = ? AND count <= 0",
                                  [(g, k) for k in keys])
            self.conn.execute("DELETE FROM groups WHERE g = ? AND docs <= 0", (g,))

    def put_scores(self, cluster: int, pairs: Sequence[PairScore]) -> None:
        rows = []
        for p in pairs:
            a, b = self._n(p.a), self._n(p.b)
            if a is None or b is None:
                raise IndexStoreError(f"pair {p.a!r}, {p.b!r}: article not in the index")
            rows.append((min(a, b), max(a, b), p.score, int(p.match)))
        self.conn.executemany("INSERT OR REPLACE INTO pairs (a, b, score, match) VALUES (?, ?, ?, ?)", rows)

    def set_cluster(self, cluster: int, canonical: str, size: int) -> None:
        self.conn.execute("INSERT INTO clusters (id, canonical, size) VALUES (?, ?, ?) "
                          "ON CONFLICT (id) DO UPDATE SET canonical = excluded.canonical, size = excluded.size",
                          (cluster, canonical, size))

    def delete_cluster(self, cluster: int) -> None:
        self.conn.execute("DELETE FROM clusters WHERE id = ?", (cluster,))

    def merge_cluster(self, gone: int, into: int) -> None:
        # pair scores are kept by article, not by cluster: they follow their articles
        self.conn.execute("UPDATE articles SET cluster = ? WHERE cluster = ?", (into, gone))
        self.delete_cluster(gone)

    def delete(self, record: Record) -> None:
        row = self.conn.execute("SELECT n, full, lead, passages FROM articles WHERE id = ?",
                                (record.id,)).fetchone()
        if row is None:
            return
        n, full, lead, passages = row
        keys = self._band_keys(np.frombuffer(full, dtype="<u4"), np.frombuffer(lead, dtype="<u4"),
                               self._passages(passages))
        self.conn.executemany("DELETE FROM bands WHERE key = ? AND n = ?", [(k, n) for k in keys])
        self.conn.execute("DELETE FROM pairs WHERE a = ? OR b = ?", (n, n))
        self.conn.execute("DELETE FROM articles WHERE n = ?", (n,))
