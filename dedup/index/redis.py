"""The shared backend: Redis, for several worker processes feeding one index.

The LSH tables are datasketch's own: three ``MinHashLSH`` objects with
``storage_config={"type": "redis", ...}`` (basenames ``PREFIX:full``,
``PREFIX:lead`` and ``PREFIX:passage``, ``prepickle=False``, article ids as
UTF-8 bytes keys; in the passage index, an article's passage ``k`` is under the
key ``ID``, a NUL byte, then ``k``), so datasketch can query them directly. Their writes are queued, with the rest of
an article's state, in one ``MULTI``/``EXEC`` transaction.

Other keys, all under ``PREFIX`` (``dedup`` unless the URL says ``?prefix=``)::

    PREFIX:header        the versioned settings (JSON)
    PREFIX:a:ID          hash: one article's metadata, words and segment keys
    PREFIX:ids           sorted set: ids by insertion number
    PREFIX:when          sorted set: ids by publication (else insertion) time
    PREFIX:m:CLUSTER     set: the members of a cluster
    PREFIX:s:CLUSTER     hash: verified pairs inside a cluster -> "score match"
    PREFIX:canonical     hash: cluster -> canonical id
    PREFIX:size          hash: cluster -> size
    PREFIX:docs          hash: source group -> articles
    PREFIX:seg:GROUP     hash: segment key -> articles of the group holding it
    PREFIX:seq, PREFIX:clusters   counters
    PREFIX:lock, PREFIX:epoch     the writers' lock and fencing counter

Writers take turns through a lock with a lease (:data:`LOCK_LEASE`, or
``?lease=SECONDS`` in the URL), so that a worker killed while holding it
delays the others for at most the lease; every
write transaction also ``WATCH``es ``PREFIX:epoch``, which each write bumps, so
even a writer whose lease ran out cannot commit over another's work. Nothing
is pickled. Durability is the server's: use AOF (``appendonly yes``) for it.
"""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import numpy as np
import redis
from datasketch import MinHashLSH

from ..document import Doc
from ..errors import IndexStoreError
from ..fingerprint import to_minhash
from .store import Header, NewArticle, PairScore, Record, stored_doc, stored_words

LOCK_LEASE = 10.0
"""Seconds a writer holds the lock at most (``?lease=`` in the URL); far above the milliseconds an ``add`` takes."""

_FIELDS = (b"cluster", b"seq", b"group", b"length", b"added", b"time", b"title", b"source", b"url", b"published",
           b"matched", b"similarity", b"digest")


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8")


def _record(article_id: str, values: Sequence[bytes | None]) -> Record:
    v = dict(zip(_FIELDS, values))
    time = v[b"time"]
    return Record(id=article_id, cluster=int(v[b"cluster"] or 0), seq=int(v[b"seq"] or 0),
                  group=_text(v[b"group"]) or "", length=int(v[b"length"] or 0), added=float(v[b"added"] or 0),
                  time=None if time is None else float(time), title=_text(v[b"title"]),
                  source=_text(v[b"source"]), url=_text(v[b"url"]), published=_text(v[b"published"]),
                  matched=_text(v[b"matched"]), similarity=float(v[b"similarity"] or 1.0), digest=_text(v[b"digest"]))


def _buckets(lsh: MinHashLSH, signature: np.ndarray) -> Iterator[bytes]:
    """The Redis keys of the buckets a signature falls in, one a band (as ``MinHashLSH.query``)."""
    hashvalues = to_minhash(signature).hashvalues
    for (start, end), table in zip(lsh.hashranges, lsh.hashtables):
        yield table.redis_key(lsh._H(hashvalues[start:end]))


def _pair_field(a: str, b: str) -> bytes:
    return json.dumps(sorted((a, b))).encode("utf-8")


class RedisStore:
    """An index in a Redis database."""

    def __init__(self, url: str, *, create: bool = True, timeout: float = 60.0) -> None:
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qs(parts.query)
        self.prefix = query.pop("prefix", ["dedup"])[0]
        try:
            self.lease = float(query.pop("lease", [LOCK_LEASE])[0])
        except ValueError as exc:
            raise IndexStoreError(f"{url}: lease must be a number of seconds") from exc
        clean = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, doseq=True)))
        host = parts.hostname or ""
        where = parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host) if parts.password else parts
        self.where = urllib.parse.urlunsplit(where)
        self.timeout = timeout
        try:
            # typed Any: redis-py's stubs cannot tell that decode_responses=False gives bytes
            self.r: Any = redis.Redis.from_url(clean)
            self.r.ping()
        except (redis.RedisError, ValueError) as exc:
            raise IndexStoreError(f"{self.where}: cannot reach Redis ({exc})") from exc
        params: dict[str, Any] = redis.connection.parse_url(clean)  # type: ignore[no-untyped-call]
        self._redis_params = {k: params[k] for k in ("host", "port", "db", "username", "password") if k in params}
        self._header: Header | None = None
        self.lsh: tuple[MinHashLSH, MinHashLSH] | None = None
        self.passage_lsh: MinHashLSH | None = None
        self.passages = 0  # passage signatures an article has at most (the header's config)

    def key(self, *parts: str | int) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def header(self) -> Header | None:
        try:
            raw = self.r.get(self.key("header"))
        except redis.RedisError as exc:
            raise IndexStoreError(f"{self.where}: cannot read the index ({exc})") from exc
        if raw is None:
            return None
        self._use(Header.from_json(raw.decode("utf-8"), self.where))
        return self._header

    def init(self, header: Header) -> Header:
        try:
            self.r.set(self.key("header"), header.to_json(), nx=True)
        except redis.RedisError as exc:
            raise IndexStoreError(f"{self.where}: cannot create the index ({exc})") from exc
        stored = self.header()
        assert stored is not None
        return stored

    def _use(self, header: Header) -> None:
        self._header = header
        num_perm = int(header.config["num_perm"])

        def lsh(name: str, params: tuple[int, int], perm: int = num_perm) -> MinHashLSH:
            config = {"type": "redis", "basename": self.key(name).encode("utf-8"), "redis": self._redis_params}
            return MinHashLSH(num_perm=perm, params=params, storage_config=config, prepickle=False)

        self.lsh = (lsh("full", header.bands.full), lsh("lead", header.bands.lead))
        passage = header.bands.passage
        self.passage_lsh = None if passage is None else lsh("passage", passage, num_perm // 2)
        self.passages = int(header.config.get("passages", 0))

    @contextmanager
    def read(self) -> Iterator[_Txn]:
        with self._errors():
            yield _Txn(self, None)

    @contextmanager
    def write(self) -> Iterator[_Txn]:
        lock = self.r.lock(self.key("lock"), timeout=self.lease, blocking_timeout=self.timeout)
        with self._errors():
            if not lock.acquire():
                raise IndexStoreError(f"{self.where}: another writer held the index for {self.timeout:g} s")
            try:
                pipe: Any
                with self.r.pipeline(transaction=True) as pipe:
                    pipe.watch(self.key("epoch"))
                    pipe.multi()
                    yield _Txn(self, pipe)
                    pipe.incr(self.key("epoch"))
                    try:
                        pipe.execute()
                    except redis.WatchError as exc:
                        raise IndexStoreError(f"{self.where}: another writer changed the index meanwhile "
                                              f"(the lock's {self.lease:g} s lease ran out); retry") from exc
            finally:
                with suppress(redis.exceptions.LockError):
                    lock.release()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except redis.RedisError as exc:
            raise IndexStoreError(f"{self.where}: {exc}") from exc

    def close(self) -> None:
        self.r.close()


class _Txn:
    """Reads go straight to Redis; writes are queued on ``pipe`` (``MULTI``) until the end."""

    def __init__(self, store: RedisStore, pipe: Any) -> None:
        self.s = store
        self.r: Any = store.r
        self.pipe = pipe
        assert store.lsh is not None
        self.lsh = store.lsh
        self.passage_lsh = store.passage_lsh

    def _w(self) -> Any:
        if self.pipe is None:
            raise IndexStoreError("a write in a read-only transaction")
        return self.pipe

    # reads

    def get(self, article_id: str) -> Record | None:
        return self.records([article_id]).get(article_id)

    def records(self, ids: Sequence[str]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        ids = list(ids)
        for start in range(0, len(ids), 1000):
            chunk = ids[start:start + 1000]
            pipe = self.r.pipeline(transaction=False)
            for i in chunk:
                pipe.hmget(self.s.key("a", i), _FIELDS)
            for i, values in zip(chunk, pipe.execute()):
                if values[0] is not None:
                    out[i] = _record(i, values)
        return out

    def words(self, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return {i: doc.words for i, doc in self.docs(ids).items()}

    def docs(self, ids: Sequence[str]) -> dict[str, Doc]:
        pipe = self.r.pipeline(transaction=False)
        for i in ids:
            pipe.hget(self.s.key("a", i), "words")
        return {i: stored_doc(i, w.decode("utf-8")) for i, w in zip(ids, pipe.execute()) if w is not None}

    def segment_keys(self, article_id: str) -> tuple[int, ...]:
        raw = self.r.hget(self.s.key("a", article_id), "segments")
        return () if raw is None else tuple(int(k) for k in np.frombuffer(raw, dtype="<i8"))

    def segment_counts(self, group: str, keys: Sequence[int]) -> tuple[int, dict[int, int]]:
        docs = self.r.hget(self.s.key("docs"), group)
        if docs is None or not keys:
            return int(docs or 0), {}
        values = self.r.hmget(self.s.key("seg", group), [str(k) for k in keys])
        return int(docs), {k: int(v) for k, v in zip(keys, values) if v is not None}

    def candidates(self, full: np.ndarray, lead: np.ndarray, passages: np.ndarray) -> dict[str, tuple[int, int]]:
        """datasketch's ``MinHashLSH.query`` for the indexes (the union of the buckets), in one
        command; then each id's cluster and seq."""
        buckets: list[bytes] = []
        for lsh, sig in zip(self.lsh, (full, lead)):
            buckets.extend(_buckets(lsh, sig))
        if self.passage_lsh is not None:
            for sig in passages:
                buckets.extend(_buckets(self.passage_lsh, sig))
        ids = {key.partition(b"\0")[0].decode("utf-8") for key in self.r.sunion(buckets)}
        return self._placed(sorted(ids))

    def members(self, cluster: int) -> list[Record]:
        ids = [i.decode("utf-8") for i in self.r.smembers(self.s.key("m", cluster))]
        return sorted(self.records(ids).values(), key=lambda rec: rec.seq)

    def roster(self, cluster: int) -> list[tuple[str, int]]:
        placed = self._placed([i.decode("utf-8") for i in self.r.smembers(self.s.key("m", cluster))])
        return sorted(((i, seq) for i, (_, seq) in placed.items()), key=lambda member: member[1])

    def _placed(self, ids: list[str]) -> dict[str, tuple[int, int]]:
        """Each id's cluster and seq (ids no longer stored are left out)."""
        out: dict[str, tuple[int, int]] = {}
        for start in range(0, len(ids), 1000):
            chunk = ids[start:start + 1000]
            pipe = self.r.pipeline(transaction=False)
            for i in chunk:
                pipe.hmget(self.s.key("a", i), ("cluster", "seq"))
            for i, (cluster, seq) in zip(chunk, pipe.execute()):
                if cluster is not None and seq is not None:
                    out[i] = (int(cluster), int(seq))
        return out

    def canonical(self, cluster: int) -> str | None:
        return _text(self.r.hget(self.s.key("canonical"), str(cluster)))

    def scores(self, cluster: int) -> list[PairScore]:
        out = []
        for pair, value in self.r.hgetall(self.s.key("s", cluster)).items():
            a, b = json.loads(pair)
            score, match = value.split()
            out.append(PairScore(a, b, float(score), match == b"1"))
        return out

    def older_than(self, when: float) -> list[str]:
        return [i.decode("utf-8") for i in self.r.zrangebyscore(self.s.key("when"), "-inf", f"({when!r}")]

    def all_records(self) -> Iterator[Record]:
        total = self.r.zcard(self.s.key("ids"))
        for start in range(0, total, 1000):
            ids = [i.decode("utf-8") for i in self.r.zrange(self.s.key("ids"), start, start + 999)]
            found = self.records(ids)
            for i in ids:
                if i in found:
                    yield found[i]

    def cluster_sizes(self) -> dict[int, int]:
        return {int(c): int(s) for c, s in self.r.hgetall(self.s.key("size")).items()}

    def count(self) -> int:
        return int(self.r.zcard(self.s.key("ids")))

    # writes

    def next_cluster(self) -> int:
        return int(self.r.incr(self.s.key("clusters")))

    def next_seq(self) -> int:
        return int(self.r.incr(self.s.key("seq")))

    def insert(self, new: NewArticle) -> None:
        pipe = self._w()
        rec = new.record
        values: dict[str, Any] = {
            "cluster": rec.cluster, "seq": rec.seq, "group": rec.group, "length": rec.length,
            "added": repr(rec.added), "similarity": repr(rec.similarity), "words": stored_words(new.words, new.head),
            "segments": np.asarray(new.segment_keys, dtype="<i8").tobytes()}
        if rec.time is not None:
            values["time"] = repr(rec.time)
        for name in ("title", "source", "url", "published", "matched", "digest"):
            if getattr(rec, name) is not None:
                values[name] = getattr(rec, name)
        pipe.hset(self.s.key("a", rec.id), mapping=values)
        pipe.zadd(self.s.key("ids"), {rec.id: rec.seq})
        pipe.zadd(self.s.key("when"), {rec.id: rec.time if rec.time is not None else rec.added})
        pipe.sadd(self.s.key("m", rec.cluster), rec.id)
        for key, lsh, sig in self._entries(rec.id, new.full, new.lead, new.passages):
            # MinHashLSH._insert, with its writes queued in this transaction
            assert sig is not None  # (given for every entry)
            hashvalues = to_minhash(sig).hashvalues
            bands = [lsh._H(hashvalues[start:end]) for start, end in lsh.hashranges]
            lsh.keys._insert(pipe, key, *bands)
            for band, table in zip(bands, lsh.hashtables):
                table._insert(pipe, band, key)

    def _entries(self, article_id: str, full: np.ndarray | None, lead: np.ndarray | None,
                 passages: np.ndarray | None) -> Iterator[tuple[bytes, MinHashLSH, np.ndarray | None]]:
        """Each LSH entry of an article: its key, its index and its signature (when given)."""
        key = article_id.encode("utf-8")
        yield key, self.lsh[0], full
        yield key, self.lsh[1], lead
        if self.passage_lsh is not None:
            for k in range(self.s.passages if passages is None else len(passages)):
                yield key + b"\0" + str(k).encode("ascii"), self.passage_lsh, None if passages is None else passages[k]

    def count_segments(self, group: str, docs: int, keys: dict[int, int]) -> None:
        pipe = self._w()
        if docs > 0 and all(d > 0 for d in keys.values()):
            pipe.hincrby(self.s.key("docs"), group, docs)
            for k, d in keys.items():
                pipe.hincrby(self.s.key("seg", group), str(k), d)
            return
        old_docs, counts = self.segment_counts(group, list(keys))
        if old_docs + docs > 0:
            pipe.hset(self.s.key("docs"), group, old_docs + docs)
        else:
            pipe.hdel(self.s.key("docs"), group)
        keep = {str(k): counts.get(k, 0) + d for k, d in keys.items() if counts.get(k, 0) + d > 0}
        drop = [str(k) for k, d in keys.items() if counts.get(k, 0) + d <= 0]
        if keep:
            pipe.hset(self.s.key("seg", group), mapping=keep)
        if drop:
            pipe.hdel(self.s.key("seg", group), *drop)

    def put_scores(self, cluster: int, pairs: Sequence[PairScore]) -> None:
        mapping = {_pair_field(p.a, p.b): f"{p.score!r} {int(p.match)}" for p in pairs}
        if mapping:
            self._w().hset(self.s.key("s", cluster), mapping=mapping)

    def set_cluster(self, cluster: int, canonical: str, size: int) -> None:
        pipe = self._w()
        pipe.hset(self.s.key("canonical"), str(cluster), canonical)
        pipe.hset(self.s.key("size"), str(cluster), size)

    def delete_cluster(self, cluster: int) -> None:
        pipe = self._w()
        pipe.hdel(self.s.key("canonical"), str(cluster))
        pipe.hdel(self.s.key("size"), str(cluster))
        pipe.delete(self.s.key("m", cluster), self.s.key("s", cluster))

    def merge_cluster(self, gone: int, into: int) -> None:
        ids = list(self.r.smembers(self.s.key("m", gone)))  # reads first: the writes are queued
        scores = self.r.hgetall(self.s.key("s", gone))
        pipe = self._w()
        for i in ids:
            pipe.hset(self.s.key("a", i.decode("utf-8")), "cluster", into)
        if ids:
            pipe.sadd(self.s.key("m", into), *ids)
        if scores:
            pipe.hset(self.s.key("s", into), mapping=scores)
        self.delete_cluster(gone)

    def delete(self, record: Record) -> None:
        pipe = self._w()
        # MinHashLSH._remove, queued; a bucket left empty leaves its table's listing too (two
        # passages of one article may share a bucket: it is empty when both leave it)
        entries = [(key, lsh, self.r.lrange(lsh.keys.redis_key(key), 0, -1))
                   for key, lsh, _ in self._entries(record.id, None, None, None)]
        held = [(key, table, band) for key, lsh, bands in entries for band, table in zip(bands, lsh.hashtables)]
        sizes = self.r.pipeline(transaction=False)
        for _, table, band in held:
            sizes.scard(table.redis_key(band))
        leaving = Counter((table._name, band) for _, table, band in held)
        for (key, table, band), size in zip(held, sizes.execute()):
            pipe.srem(table.redis_key(band), key)
            if size <= leaving[table._name, band]:
                pipe.hdel(table._name, band)
        for key, lsh, _ in entries:
            lsh.keys._remove(pipe, key)
        fields = [f for f in self.r.hkeys(self.s.key("s", record.cluster)) if record.id in json.loads(f)]
        if fields:
            pipe.hdel(self.s.key("s", record.cluster), *fields)
        pipe.srem(self.s.key("m", record.cluster), record.id)
        pipe.zrem(self.s.key("ids"), record.id)
        pipe.zrem(self.s.key("when"), record.id)
        pipe.delete(self.s.key("a", record.id))
