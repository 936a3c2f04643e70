"""The whole batch run: articles in, clusters out.

    read -> prepare (normalise, segment) -> count boilerplate -> strip
         -> fingerprint (MinHash) -> candidates (LSH) -> verify -> cluster
         -> choose canonical

Each stage is a pure function over articles or batches of them; only the
boilerplate counts are corpus-wide (and mergeable), so the same stages can run
inside a Spark job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from .article import Article
from .boilerplate import BoilerplateStats, strip
from .canonical import Candidate, choose
from .candidates import candidate_pairs
from .cluster import cluster
from .config import Config
from .document import Doc, prepare
from .fingerprint import signatures
from .reading import Problem
from .verify import Verdict, verify

T = TypeVar("T")
Progress = Callable[[Iterable[T], str, int | None], Iterable[T]]


def no_progress(items: Iterable[T], label: str, total: int | None) -> Iterable[T]:
    """The default progress hook: report nothing."""
    return items


@dataclass(frozen=True)
class Item:
    """An article as reported: everything but its text."""

    id: str
    title: str | None
    source: str | None
    url: str | None
    published: str | None
    words: int
    order: int


@dataclass(frozen=True)
class Assignment:
    """Where one article landed."""

    id: str
    cluster: int
    canonical_id: str
    is_canonical: bool
    similarity: float


@dataclass(frozen=True)
class Cluster:
    """One story: its members, canonical item and how tightly it holds."""

    id: int
    canonical_id: str
    members: tuple[str, ...]
    weakest_link: float
    mean_similarity: float

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass
class Result:
    """The outcome of :func:`find_duplicates`; nothing is printed."""

    clusters: list[Cluster]
    assignments: dict[str, Assignment]
    items: dict[str, Item]
    config: Config
    problems: list[Problem] = field(default_factory=list)
    pairs_checked: int = 0

    @property
    def duplicates(self) -> int:
        """Articles that are not the canonical item of their cluster."""
        return sum(c.size - 1 for c in self.clusters)

    def counts(self) -> dict[str, int]:
        return {
            "articles": len(self.items),
            "skipped": sum(1 for p in self.problems if p.skipped),
            "warnings": len(self.problems),
            "clusters": len(self.clusters),
            "multi_member_clusters": sum(1 for c in self.clusters if c.size > 1),
            "duplicates": self.duplicates,
            "pairs_checked": self.pairs_checked,
        }

    def canonical_of(self, article_id: str) -> str:
        return self.assignments[article_id].canonical_id


def _as_articles(items: Iterable[Article | dict[str, Any]], problems: list[Problem]) -> Iterator[Article]:
    seen: set[str] = set()
    for n, item in enumerate(items):
        if isinstance(item, dict):
            try:
                art = Article.from_dict(item, order=n)
            except Exception as exc:  # noqa: BLE001 - any bad record is reported, not raised
                problems.append(Problem(str(item.get("id", f"#{n}")), str(exc)))
                continue
        else:
            art = item
        if art.id in seen:
            problems.append(Problem(art.id, "duplicate id, later copy skipped"))
            continue
        seen.add(art.id)
        yield art


def find_duplicates(articles: Iterable[Article | dict[str, Any]], config: Config | None = None, *,
                    progress: Progress[Any] = no_progress) -> Result:
    """Cluster copies of the same story among ``articles`` (``Article`` objects or dicts).

    Returns a :class:`Result` with one cluster per story (singletons included),
    the canonical id of each, and every article's assignment.
    """
    config = config or Config()
    problems: list[Problem] = []
    items: list[Item] = []
    prepared = []
    stats = BoilerplateStats()
    for art in progress(_as_articles(articles, problems), "reading", None):
        p = prepare(art)
        prepared.append(p)
        stats.add(p)
        items.append(Item(art.id, art.title, art.source, art.url, art.published, 0, art.order))
    stats = stats.compact(config)
    docs: list[Doc] = []
    full: list[np.ndarray] = []
    lead: list[np.ndarray] = []
    for p in progress(prepared, "fingerprinting", len(prepared)):
        doc = strip(p, stats, config)
        docs.append(doc)
        f, ld = signatures(doc.tokens, config.shingle_size, config.lead_tokens, config.num_perm, config.seed)
        full.append(f)
        lead.append(ld)
    del prepared
    items = [_with_words(it, len(d.words)) for it, d in zip(items, docs)]
    return cluster_docs(docs, items, full, lead, config, problems, progress)


def _with_words(item: Item, words: int) -> Item:
    from dataclasses import replace

    return replace(item, words=words)


def cluster_docs(docs: list[Doc], items: list[Item], full: list[np.ndarray], lead: list[np.ndarray],
                 config: Config, problems: list[Problem], progress: Progress[Any] = no_progress) -> Result:
    """Candidate search, verification, clustering and canonical choice over prepared docs."""
    pairs = sorted(candidate_pairs(full, lead, config))
    times = [_time(it.published) for it in items]
    cache: dict[tuple[int, int], Verdict] = {}

    def check(i: int, j: int) -> Verdict:
        key = (min(i, j), max(i, j))
        found = cache.get(key)
        if found is None:
            found = verify_pair(docs[key[0]], docs[key[1]], times[key[0]], times[key[1]], config)
            cache[key] = found
        return found

    keys = [it.id for it in items]
    groups = cluster(len(docs), progress(pairs, "verifying", len(pairs)), check, keys, config.link_fraction)
    clusters, assignments = _assign(groups, items, check, config)
    return Result(clusters, assignments, {it.id: it for it in items}, config, problems, len(cache))


def verify_pair(a: Doc, b: Doc, time_a: dt.datetime | None, time_b: dt.datetime | None, config: Config) -> Verdict:
    """Verify two docs, honouring the optional time window."""
    if config.window_seconds is not None and time_a is not None and time_b is not None:
        gap = abs((time_a - time_b).total_seconds())
        if gap > config.window_seconds:
            return Verdict(False, 0.0, 0.0, 0.0, 0, 0, 0, 0, "window",
                           f"published {gap / 3600:.1f} h apart, outside the time window")
    return verify(a.words, b.words, config)


def _time(value: str | None) -> dt.datetime | None:
    from .article import parse_time

    return parse_time(value)


def _assign(groups: list[Any], items: list[Item], check: Callable[[int, int], Verdict],
            config: Config) -> tuple[list[Cluster], dict[str, Assignment]]:
    chosen = []
    for g in groups:
        cands = [Candidate(items[m].id, items[m].source, _time(items[m].published), items[m].words, items[m].order)
                 for m in g.members]
        canon = choose(cands, config)
        chosen.append((g, canon.id))
    # Stable, order-independent numbering: biggest clusters first, then by canonical id.
    chosen.sort(key=lambda gc: (-len(gc[0].members), gc[1]))
    index = {it.id: n for n, it in enumerate(items)}
    clusters: list[Cluster] = []
    assignments: dict[str, Assignment] = {}
    for number, (g, canon_id) in enumerate(chosen, 1):
        members = tuple(sorted((items[m].id for m in g.members), key=lambda i: (i != canon_id, i)))
        clusters.append(Cluster(number, canon_id, members, g.weakest_link, g.mean_similarity))
        c = index[canon_id]
        for m in g.members:
            sim = 1.0 if m == c else round(check(m, c).score, 4)
            assignments[items[m].id] = Assignment(items[m].id, number, canon_id, m == c, sim)
    return clusters, assignments
