"""The incremental index: one article at a time, same clusters as a batch run.

Each :meth:`Index.add` runs the batch pipeline's stages on one article, inside
one write transaction of the store:

    prepare -> count its segments (per source, kept in the store) -> strip
    boilerplate with the counts so far -> MinHash -> LSH lookup (whole-text and
    lead bands) -> verify against candidates -> average-linkage decision ->
    write article, bands, pair scores, cluster and canonical item

The decision is :mod:`dedup.cluster`'s rule, seen from one new member: it
joins the existing cluster where at least ``link_fraction`` of the members
verify as copies of it (the best such cluster by that share, then by mean
score, then by its smallest member id), else it starts a cluster. A cluster is
therefore never held together by one weak link, as in a batch run. Of a
cluster with more than :data:`SAMPLE` members (a story on hundreds of sites),
a sample is verified: its members among the candidates, oldest first, then its
oldest members, :data:`SAMPLE` in all; the share is taken over the sample, so
an add costs the same however many sites run the story.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..article import Article
from ..boilerplate import BoilerplateStats, strip
from ..canonical import Candidate, choose
from ..cluster import SAMPLE_MEMBERS, _summarise
from ..config import Config
from ..document import Doc, prepare
from ..errors import ConfigError, IndexStoreError, InputError
from ..fingerprint import present, signatures
from ..pipeline import Assignment, Cluster, Item, Progress, Result, no_progress, verify_pair
from ..verify import Verdict, partial
from .store import FORMAT_VERSION, Header, NewArticle, PairScore, Reader, Record, Store, check_header, text_digest

_UTC = dt.UTC
SAMPLE = 64  # members of one cluster verified against a new article, at most


@dataclass(frozen=True)
class Match:
    """Where an article landed (from :meth:`Index.add`) or would land (:meth:`Index.query`).

    ``joined`` is True when it joined a cluster of earlier articles: it is a
    copy of a story the index already had. ``matched`` is the member it
    matched best at that moment and ``similarity`` that pair's verified score
    (``None`` and 1.0 when it started a cluster). ``canonical_id`` is the
    cluster's canonical item *now*: a copy published earlier than the one
    indexed first takes over. ``cluster`` is ``None`` only from ``query`` for
    an article that would start a new cluster. ``added`` is False for
    ``query`` and for an id the index already held (``add`` then changes
    nothing and reports where that article is). ``present`` is True for an id
    the index already held: the match is the stored article's, not this one's.
    ``taken`` is True when that stored article has another text: this one was
    not added (from ``add``; ``query`` places it as a new article).
    """

    id: str
    cluster: int | None
    canonical_id: str
    is_canonical: bool
    similarity: float
    matched: str | None
    joined: bool
    added: bool
    present: bool = False
    taken: bool = False

    @property
    def is_duplicate(self) -> bool:
        """A copy of a story whose canonical item is another article."""
        return not self.is_canonical

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "cluster": self.cluster, "canonical_id": self.canonical_id,
                "is_canonical": self.is_canonical, "similarity": self.similarity, "matched": self.matched,
                "joined": self.joined, "added": self.added, "present": self.present, "taken": self.taken}


@dataclass(frozen=True)
class IndexStats:
    """Counts of an index, and the settings it was built with."""

    location: str
    format: int
    articles: int
    clusters: int
    multi_member_clusters: int
    duplicates: int
    largest_cluster: int
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "format": self.format, "articles": self.articles,
                "clusters": self.clusters, "multi_member_clusters": self.multi_member_clusters,
                "duplicates": self.duplicates, "largest_cluster": self.largest_cluster, "config": self.config}


@dataclass(frozen=True)
class _Fingerprinted:
    article: Article
    doc: Doc
    time: float | None
    segment_keys: tuple[int, ...]
    full: np.ndarray
    lead: np.ndarray
    passages: np.ndarray  # the ones the article has (fingerprint.present)


Roster = list[tuple[str, int]]  # a cluster's member ids with their seq, oldest first (Reader.roster)


@dataclass(frozen=True)
class _Decision:
    cluster: int | None
    members: Roster
    matched: str | None
    similarity: float
    pairs: list[PairScore]
    leader: Record | None = None  # the cluster's canonical member (Index._leader)
    absorbed: list[tuple[int, Roster, Record, list[PairScore]]] = field(default_factory=list)  # clusters it merges


def _taken(rec: Record, digest: str) -> bool:
    """Whether the stored ``rec`` has another text than the one of ``digest`` (text_digest)."""
    return rec.digest is not None and rec.digest != digest


class Index:
    """A persistent, incremental duplicate index. Open one with :meth:`Index.open`.

    One ``Index`` object belongs to one thread; any number of processes may
    open the same index, and their writes take turns.
    """

    def __init__(self, store: Store, config: Config, header: Header) -> None:
        self.store = store
        self.config = config
        self.header = header
        self.clock: Callable[[], float] = time.time

    @classmethod
    def open(cls, location: str | os.PathLike[str], config: Config | None = None, *, create: bool = True,
             timeout: float = 60.0) -> Index:
        """Open (or create) the index at ``location``.

        ``location`` is a file path or ``sqlite:///path`` (an SQLite file), or
        ``redis://host:port/db`` (optionally ``?prefix=NAME`` to keep several
        indexes in one database). Without ``config`` an existing index is used
        with its own settings and a new one gets the defaults; with a config
        that differs from the index's, :class:`~dedup.errors.IndexFormatError`
        is raised. ``timeout`` is how long a write waits for other writers.
        """
        store = open_store(location, create=create, timeout=timeout)
        try:
            header = store.header()
            if header is None:
                if not create:
                    raise IndexStoreError(f"{store.where}: no index here (add articles to create one)")
                header = store.init(Header.for_config(config or Config()))
            if config is not None:
                check_header(header, Header(FORMAT_VERSION, config.to_dict(), header.bands), store.where)
            stored = header.stored_config(store.where)
        except BaseException:
            store.close()
            raise
        return cls(store, stored, header)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # adding and querying

    def add(self, article: Article | dict[str, Any]) -> Match:
        """Add one article (atomically) and say where it landed.

        An id already in the index is not added again: its current place is
        returned with ``added=False`` (and ``taken=True`` when the stored
        article's text is not this one's).
        """
        art = _as_article(article)
        prepared = prepare(art)
        keys = tuple(dict.fromkeys(s.key for s in prepared.segments))
        digest = text_digest(art.text)
        with self.store.write() as w:
            existing = w.get(art.id)
            if existing is not None:
                return self._existing(w, existing, taken=_taken(existing, digest))
            fp = self._fingerprint(w, art, prepared, keys)
            decision = self._decide(w, fp, merging=True)
            cluster = decision.cluster if decision.cluster is not None else w.next_cluster()
            record = Record(id=art.id, cluster=cluster, seq=w.next_seq(), group=prepared.group,
                            length=len(fp.doc.words), added=self.clock(), time=fp.time,
                            title=fp.doc.title or art.title,
                            source=art.source, url=art.url, published=art.published, matched=decision.matched,
                            similarity=decision.similarity, digest=digest)
            w.count_segments(prepared.group, 1, dict.fromkeys(keys, 1))
            w.insert(NewArticle(record, fp.doc.words, keys, fp.full, fp.lead, fp.passages, fp.doc.head))
            if decision.pairs:
                w.put_scores(cluster, decision.pairs)
            size, leaders = len(decision.members) + 1, [record]
            if decision.leader is not None:
                leaders.append(decision.leader)
            for gone, theirs, leader, pairs in decision.absorbed:
                leaders.append(leader)
                w.merge_cluster(gone, cluster)
                w.put_scores(cluster, pairs)
                size += len(theirs)
            canonical = self._canonical(leaders)
            w.set_cluster(cluster, canonical, size)
        return Match(art.id, cluster, canonical, canonical == art.id, decision.similarity, decision.matched,
                     decision.cluster is not None, True)

    def add_many(self, articles: Iterable[Article | dict[str, Any]], *,
                 progress: Progress[Any] = no_progress) -> list[Match]:
        """Add articles one by one (each atomically); their matches in order."""
        return [self.add(a) for a in progress(articles, "indexing", None)]

    def query(self, article: Article | dict[str, Any]) -> Match:
        """Where ``article`` would land, without adding it."""
        art = _as_article(article)
        prepared = prepare(art)
        keys = tuple(dict.fromkeys(s.key for s in prepared.segments))
        with self.store.read() as r:
            existing = r.get(art.id)
            if existing is not None and not _taken(existing, text_digest(art.text)):
                return self._existing(r, existing)
            fp = self._fingerprint(r, art, prepared, keys)
            decision = self._decide(r, fp)
            if decision.cluster is None:
                return Match(art.id, None, art.id, True, 1.0, None, False, False)
            me = Record(id=art.id, cluster=decision.cluster, seq=1 << 62, group=prepared.group,
                        length=len(fp.doc.words), added=self.clock(), time=fp.time, source=art.source)
            assert decision.leader is not None  # set whenever a cluster is
            canonical = self._canonical([decision.leader, me])
        return Match(art.id, decision.cluster, canonical, canonical == art.id, decision.similarity,
                     decision.matched, True, False)

    def _existing(self, r: Reader, rec: Record, taken: bool = False) -> Match:
        canonical = r.canonical(rec.cluster) or rec.id
        return Match(rec.id, rec.cluster, canonical, canonical == rec.id, rec.similarity, rec.matched,
                     rec.matched is not None, False, present=True, taken=taken)

    def _fingerprint(self, r: Reader, art: Article, prepared: Any, keys: tuple[int, ...]) -> _Fingerprinted:
        """Strip boilerplate with the counts so far (this article included) and fingerprint."""
        docs, counts = r.segment_counts(prepared.group, keys)
        stats = BoilerplateStats(Counter({(prepared.group, k): counts.get(k, 0) + 1 for k in keys}),
                                 Counter({prepared.group: docs + 1}))
        doc = strip(prepared, stats, self.config)
        c = self.config
        sigs = signatures(doc.tokens, c.shingle_size, c.lead_tokens, c.num_perm, c.seed, c.passages, c.passage_tokens)
        when = art.published_at
        return _Fingerprinted(art, doc, when.timestamp() if when else None, keys, sigs.full, sigs.lead,
                              sigs.passages[present(sigs.passages)])

    def _decide(self, r: Reader, fp: _Fingerprinted, merging: bool = False) -> _Decision:
        """The cluster the article joins (average linkage), with the pair scores behind it;
        with ``merging``, also the other clusters it joins with it (:meth:`_absorbed`).

        Only the verified members' records are read in full: of a story on hundreds of sites,
        the candidates and the members are read as ids, clusters and seqs."""
        new = _Decision(None, [], None, 1.0, [])
        if not fp.doc.words:
            return new
        placed = r.candidates(fp.full, fp.lead, fp.passages)
        placed.pop(fp.article.id, None)
        if not placed:
            return new
        by_cluster: dict[int, list[tuple[int, str]]] = {}
        for ident, (cluster, seq) in placed.items():
            by_cluster.setdefault(cluster, []).append((seq, ident))
        sample = [ident for found in by_cluster.values() for _, ident in sorted(found)[:SAMPLE]]
        sizes: dict[str, int] = {}  # words of the texts verified
        verdicts = self._verify(r, fp, sample, sizes=sizes)
        hit = sorted({placed[c][0] for c, v in verdicts.items() if v.match})
        best: tuple[tuple[float, float, str], int, Roster] | None = None
        linked: dict[int, Roster] = {}  # every cluster the article could join
        for cluster in hit:
            roster = r.roster(cluster)
            room = SAMPLE - sum(i in verdicts for i, _ in roster)
            if room > 0:
                verdicts.update(self._verify(r, fp, [i for i, _ in roster if i not in verdicts][:room], sizes=sizes))
            verified = [verdicts[i] for i, _ in roster if i in verdicts]
            scores = [v.score for v in verified if v.match]
            share = len(scores) / (len(verified) - self._partial_copies(fp, roster, verdicts, sizes))
            if not scores or share < self.config.link_fraction:
                continue
            linked[cluster] = roster
            rank = (-share, -sum(scores) / len(scores), min(i for i, _ in roster))
            if best is None or rank < best[0]:
                best = (rank, cluster, roster)
        if best is None:
            return new
        _, cluster, roster = best
        leader = self._leader(r, cluster, roster)
        matched = min((i for i, _ in roster if i in verdicts and verdicts[i].match),  # the canonical among equals
                      key=lambda i: (-verdicts[i].score, i != leader.id, i))

        def scored(members: Roster) -> list[PairScore]:
            return [PairScore(fp.article.id, i, round(verdicts[i].score, 4), verdicts[i].match)
                    for i, _ in members if i in verdicts]

        pairs = scored(roster)
        absorbed = []
        if merging:
            for other in sorted(set(linked) - {cluster}):
                theirs = linked[other]
                joined = self._absorbed(r, fp, verdicts, roster, theirs)
                if joined is not None:
                    pairs += scored(theirs)
                    absorbed.append((other, theirs, self._leader(r, other, theirs), joined))
        return _Decision(cluster, roster, matched, round(verdicts[matched].score, 4), pairs, leader, absorbed)

    def _absorbed(self, r: Reader, fp: _Fingerprinted, verdicts: dict[str, Verdict], ours: Roster,
                  theirs: Roster) -> list[PairScore] | None:
        """The verified pairs between the cluster the article joins and another it could
        join, if the two merge, else None.

        An article that two clusters would each take (a full copy arriving after a teaser and a
        write-thru of the same story, which are no copies of each other) links them. As in a
        batch run (:func:`dedup.cluster._join_parts`), they merge when at least ``link_fraction``
        of the pairs between them verify as copies, counted on samples: the
        :data:`~dedup.cluster.SAMPLE_MEMBERS` oldest members of each, the article with ours.
        Clusters of one article are not merged: one or two pairs would decide, and on the dev
        corpus a teaser that shared a lead with another story's page made its lone member join
        (a batch run, with the whole story's copies in view, keeps them apart).
        """
        if len(ours) < 2 or len(theirs) < 2:
            return None
        a_ids, b_ids = [i for i, _ in ours[:SAMPLE_MEMBERS]], [i for i, _ in theirs[:SAMPLE_MEMBERS]]
        recs, docs = self._stored(r, a_ids + b_ids)
        verdicts.update(self._verify(r, fp, [i for i in b_ids if i not in verdicts], (recs, docs)))
        found = [PairScore(x, y, round(v.score, 4), v.match) for x in a_ids for y in b_ids
                 for v in [verify_pair(docs[x], docs[y], _time_of(recs, x), _time_of(recs, y), self.config)]]
        share = (sum(p.match for p in found) + sum(verdicts[y].match for y in b_ids)) / (len(found) + len(b_ids))
        return found if share >= self.config.link_fraction else None

    def _partial_copies(self, fp: _Fingerprinted, roster: Roster, verdicts: dict[str, Verdict],
                        sizes: dict[str, int]) -> int:
        """How many members of a cluster the article is no copy of only as a partial copy of
        their story (:func:`~dedup.verify.partial`), when it is a copy of a member at least as long
        as both: these count neither for nor against its joining, as in a batch run
        (:func:`dedup.cluster.partial_copies`)."""
        longest = max((sizes[i] for i, _ in roster if i in verdicts and verdicts[i].match), default=-1)
        mine = len(fp.doc.words)
        return sum(1 for i, _ in roster if i in verdicts and partial(verdicts[i], self.config)
                   and longest >= max(mine, sizes[i]))

    def _verify(self, r: Reader, fp: _Fingerprinted, ids: Sequence[str],
                stored: tuple[dict[str, Record], dict[str, Doc]] | None = None,
                sizes: dict[str, int] | None = None) -> dict[str, Verdict]:
        """The new article's verdicts against stored ones (read here unless ``stored`` holds them);
        ``sizes`` gets the stored texts' lengths in words."""
        if not ids:
            return {}
        recs, docs = stored if stored is not None else self._stored(r, ids)
        if sizes is not None:
            sizes.update((i, len(docs[i].words)) for i in ids if i in docs)
        mine = _utc(fp.time)
        return {i: verify_pair(fp.doc, docs[i], mine, _time_of(recs, i), self.config) for i in ids if i in recs}

    @staticmethod
    def _stored(r: Reader, ids: Sequence[str]) -> tuple[dict[str, Record], dict[str, Doc]]:
        """Stored articles' records and docs (an empty doc where the words are missing)."""
        docs = r.docs(ids)
        return r.records(ids), {i: docs.get(i, Doc(i, ())) for i in ids}

    def _leader(self, r: Reader, cluster: int, roster: Roster) -> Record:
        """The canonical member of a cluster: the one the store records (the choice is a
        minimum by one key, so a cluster's canonical item and a newcomer decide it for both),
        else chosen again from all members."""
        stored = r.canonical(cluster)
        found = r.get(stored) if stored is not None else None
        if found is not None and found.cluster == cluster:
            return found
        members = r.records([i for i, _ in roster])
        return members[self._canonical(list(members.values()))]

    def _canonical(self, members: Sequence[Record]) -> str:
        return choose([_candidate(m) for m in members], self.config).id

    # reading

    def get(self, article_id: str) -> Match | None:
        """Where an article of the index is, or None."""
        with self.store.read() as r:
            rec = r.get(article_id)
            return None if rec is None else self._existing(r, rec)

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self.get(article_id) is not None

    def __len__(self) -> int:
        with self.store.read() as r:
            return r.count()

    def cluster(self, cluster_id: int) -> Cluster | None:
        """One cluster (canonical member first), or None if there is no such cluster."""
        with self.store.read() as r:
            members = r.members(cluster_id)
            if not members:
                return None
            canonical = r.canonical(cluster_id) or self._canonical(members)
            scores = r.scores(cluster_id) if len(members) > 1 else []
        return _cluster(cluster_id, canonical, members, scores)

    def result(self) -> Result:
        """The whole index as a :class:`~dedup.pipeline.Result`, as ``find_duplicates`` returns.

        Clusters keep the index's ids; they are listed biggest first, then by
        canonical id. ``similarity`` is each member's verified score against the
        canonical item.
        """
        with self.store.read() as r:
            records = list(r.all_records())
            by_cluster: dict[int, list[Record]] = {}
            for rec in records:
                by_cluster.setdefault(rec.cluster, []).append(rec)
            built: list[tuple[Cluster, dict[tuple[str, str], float]]] = []
            for cid, members in by_cluster.items():
                canonical = r.canonical(cid) or self._canonical(members)
                scores = r.scores(cid) if len(members) > 1 else []
                sims = {(p.a, p.b): p.score for p in scores}
                missing = [m for m in members if m.id != canonical
                           and (m.id, canonical) not in sims and (canonical, m.id) not in sims]
                if missing:
                    sims.update(self._pair_scores(r, canonical, missing))
                built.append((_cluster(cid, canonical, members, scores), sims))
        built.sort(key=lambda cs: (-cs[0].size, cs[0].canonical_id))
        assignments: dict[str, Assignment] = {}
        for c, sims in built:
            for m in c.members:
                sim = 1.0 if m == c.canonical_id else sims.get((m, c.canonical_id), sims.get((c.canonical_id, m), 0.0))
                assignments[m] = Assignment(m, c.id, c.canonical_id, m == c.canonical_id, sim)
        items = {rec.id: Item(rec.id, rec.title, rec.source, rec.url, rec.published, rec.length, rec.seq)
                 for rec in records}
        return Result([c for c, _ in built], assignments, items, self.config)

    def _pair_scores(self, r: Reader, canonical: str, members: Sequence[Record]) -> dict[tuple[str, str], float]:
        docs = r.docs([canonical, *(m.id for m in members)])
        canon_rec = r.get(canonical)
        base = docs.get(canonical, Doc(canonical, ()))
        out = {}
        for m in members:
            v = verify_pair(docs.get(m.id, Doc(m.id, ())), base, _utc(m.time),
                            _utc(canon_rec.time if canon_rec else None), self.config)
            out[(m.id, canonical)] = round(v.score, 4)
        return out

    def stats(self) -> IndexStats:
        with self.store.read() as r:
            articles = r.count()
            sizes = r.cluster_sizes()
        multi = [s for s in sizes.values() if s > 1]
        return IndexStats(self.store.where, self.header.format, articles, len(sizes), len(multi),
                          sum(s - 1 for s in multi), max(sizes.values(), default=0), self.config.to_dict())

    # removing

    def remove(self, article_id: str) -> bool:
        """Remove one article; False if it was not in the index.

        The rest of its cluster stays together (with a new canonical item if it
        was the canonical one).
        """
        return self._remove([article_id]) == 1

    def prune(self, *, older_than: dt.datetime | dt.timedelta | float, batch: int = 500) -> int:
        """Remove articles published before a time (undated ones: added before it).

        ``older_than`` is a datetime, or an age (a ``timedelta`` or seconds)
        counted back from now. Returns how many articles were removed. Each
        batch of ``batch`` articles is removed atomically.
        """
        if isinstance(older_than, dt.datetime):
            when = older_than if older_than.tzinfo else older_than.replace(tzinfo=_UTC)
            cutoff = when.timestamp()
        else:
            seconds = older_than.total_seconds() if isinstance(older_than, dt.timedelta) else float(older_than)
            if not seconds >= 0:  # a negative age would remove what was added a moment ago
                raise ConfigError(f"older_than must be an age of 0 or more, got {older_than!r}")
            cutoff = self.clock() - seconds
        with self.store.read() as r:
            ids = r.older_than(cutoff)
        removed = 0
        for start in range(0, len(ids), batch):
            removed += self._remove(ids[start:start + batch])
        return removed

    def _remove(self, ids: Sequence[str]) -> int:
        with self.store.write() as w:
            # every read happens before the first write (a Redis transaction queues its writes)
            found = w.records(list(dict.fromkeys(ids)))
            if not found:
                return 0
            segments = {i: w.segment_keys(i) for i in found}
            clusters = {rec.cluster: w.members(rec.cluster) for rec in found.values()}
            groups: dict[str, tuple[int, Counter[int]]] = {}
            for rec in found.values():
                docs, keys = groups.get(rec.group, (0, Counter()))
                keys.update(segments[rec.id])
                groups[rec.group] = (docs + 1, keys)
            for group, (docs, keys) in groups.items():
                w.count_segments(group, -docs, {k: -n for k, n in keys.items()})
            for rec in found.values():
                w.delete(rec)
            for cid, members in clusters.items():
                left = [m for m in members if m.id not in found]
                if left:
                    w.set_cluster(cid, self._canonical(left), len(left))
                else:
                    w.delete_cluster(cid)
        return len(found)


def open_store(location: str | os.PathLike[str], *, create: bool, timeout: float) -> Store:
    """The backend for a path or URL."""
    text = os.fspath(location)
    if text.startswith(("redis://", "rediss://", "unix://")):
        from .redis import RedisStore

        return RedisStore(text, create=create, timeout=timeout)
    if "://" in text:
        if not text.startswith("sqlite://"):
            raise IndexStoreError(f"{text}: unknown index location; use a path, sqlite:///PATH or redis://HOST:PORT/DB")
        text = text[len("sqlite://"):]
        text = text[1:] if text.startswith("/") else text
        if not text:
            raise IndexStoreError(f"{location}: no file path after sqlite:///")
    from .sqlite import SQLiteStore

    return SQLiteStore(text, create=create, timeout=timeout)


def _as_article(article: Article | dict[str, Any]) -> Article:
    if isinstance(article, Article):
        return article
    if isinstance(article, dict):
        return Article.from_dict(article)
    raise InputError(f"an article must be an Article or a dict, got {type(article).__name__}")


def _time_of(recs: dict[str, Record], ident: str) -> dt.datetime | None:
    rec = recs.get(ident)
    return None if rec is None else _utc(rec.time)


def _utc(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, tz=_UTC)


def _candidate(rec: Record) -> Candidate:
    return Candidate(rec.id, rec.source, _utc(rec.time), rec.length, rec.seq)


def _cluster(cid: int, canonical: str, members: Sequence[Record], scores: Sequence[PairScore]) -> Cluster:
    """A cluster's members (canonical first) with its weakest link and mean similarity."""
    pos = {m.id: n for n, m in enumerate(members)}
    matched = {(min(pos[p.a], pos[p.b]), max(pos[p.a], pos[p.b])): p.score
               for p in scores if p.match and p.a in pos and p.b in pos}
    group = _summarise(range(len(members)), matched)
    ordered = tuple(sorted((m.id for m in members), key=lambda i: (i != canonical, i)))
    return Cluster(cid, canonical, ordered, group.weakest_link, group.mean_similarity)


__all__ = ["Index", "IndexStats", "Match", "open_store"]
