"""Clusters from verified pairs, without chaining.

Connected components over verified pairs would let one bad link glue two
stories together (and then a third...). Instead each component is split by
average-linkage agglomeration: every pair inside it is verified, and two groups
merge only when at least ``link_fraction`` of the pairs between them are
verified copies. A cluster is thus never held together by one weak link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

VerifyMany = Callable[[Any, str | None], None]
CANDIDATES = "verifying"  # the label of the first round: the candidate pairs
LINKING = "linking"  # the label of the second: every pair inside a component of verified pairs

FULL_LINKAGE_LIMIT = 400  # components larger than this use the verified candidate edges only


@dataclass(frozen=True)
class Group:
    """A cluster as positions, with the strength of what holds it together."""

    members: tuple[int, ...]
    weakest_link: float
    mean_similarity: float


def component_labels(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The connected component of each of ``n`` nodes, given the edges ``(i[k], j[k])`` (scipy)."""
    from scipy.sparse import coo_matrix  # imported when first needed: the CLI starts faster
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    labels: np.ndarray = connected_components(graph, directed=False)[1]
    return labels


def components(n: int, edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected components of ``n`` nodes, each sorted, in order of their first node.

    >>> components(5, [(3, 4), (1, 0)])
    [[0, 1], [2], [3, 4]]
    """
    ends = np.fromiter((x for edge in edges for x in edge), dtype=np.int64).reshape(-1, 2)
    labels = component_labels(n, ends[:, 0], ends[:, 1])
    members = np.argsort(labels, kind="stable")  # grouped by component, each in node order
    groups = np.split(members, np.flatnonzero(np.diff(labels[members])) + 1) if n else []
    return sorted((g.tolist() for g in groups), key=lambda g: g[0])


class Verdicts:
    """Verdicts of pairs ``(i, j)``, ``i < j``, of ``n`` items: ``(match, score)``.

    A mapping from pairs to verdicts, stored compactly (one float in a dict keyed
    by ``i * n + j``, negative for a non-match): a million articles have millions
    of verified pairs, and a dict of tuples costs ~230 bytes a pair, this ~90.

    >>> v = Verdicts(10)
    >>> v[(2, 7)] = (False, 0.25)
    >>> v[(3, 4)] = (True, 0.0)
    >>> v[(2, 7)], (3, 4) in v, (4, 5) in v, list(v.matching_pairs()), v.match_score(2, 7)
    ((False, 0.25), True, False, [(3, 4)], None)
    """

    def __init__(self, n: int) -> None:
        self.n = max(n, 1)
        self.values: dict[int, float] = {}

    def __len__(self) -> int:
        return len(self.values)

    def __contains__(self, pair: tuple[int, int]) -> bool:
        return pair[0] * self.n + pair[1] in self.values

    def __getitem__(self, pair: tuple[int, int]) -> tuple[bool, float]:
        return self.decode(self.values[pair[0] * self.n + pair[1]])

    def __setitem__(self, pair: tuple[int, int], verdict: tuple[bool, float]) -> None:
        self.values[pair[0] * self.n + pair[1]] = self.encode(verdict)

    @staticmethod
    def encode(verdict: tuple[bool, float]) -> float:
        return verdict[1] if verdict[0] else -1.0 - verdict[1]

    @staticmethod
    def decode(value: float) -> tuple[bool, float]:
        return (True, value) if value >= 0 else (False, -1.0 - value)

    def matching_pairs(self) -> Iterator[tuple[int, int]]:
        n = self.n
        return (divmod(key, n) for key, value in self.values.items() if value >= 0)

    def match_score(self, a: int, b: int) -> float | None:
        """The score of ``(a, b)``, ``a < b``, if it is a verified match."""
        value = self.values.get(a * self.n + b)
        return value if value is not None and value >= 0 else None


def cluster(n: int, candidates: Any, verify_many: VerifyMany, verdicts: Verdicts, keys: Sequence[str],
            link_fraction: float) -> list[Group]:
    """Group ``n`` items given candidate pairs ``(i, j)``, ``i < j`` (a sequence of
    them, or whatever ``verify_many`` takes).

    ``verify_many(pairs, label)`` fills ``verdicts[(i, j)] = (match, score)``
    for pairs not yet there (``pairs`` is an iterable of pairs, or what it is given
    as ``candidates``).
    ``keys`` (the article ids) break ties, so the result does not depend on
    the order of the input.
    """
    verify_many(candidates, CANDIDATES)
    comps = components(n, verdicts.matching_pairs())
    if any(2 < len(comp) <= FULL_LINKAGE_LIMIT for comp in comps):
        verify_many(((comp[x], comp[y]) for comp in comps if 2 < len(comp) <= FULL_LINKAGE_LIMIT
                     for x in range(len(comp)) for y in range(x + 1, len(comp))), LINKING)
    score = verdicts.match_score
    groups: list[Group] = []
    for comp in comps:
        within = _scores_within(comp, score)
        if len(comp) <= 2:
            groups.append(_summarise(comp, within))
            continue
        for members in _average_linkage(comp, within, keys, link_fraction):
            groups.append(_summarise(members, within))
    return groups


def _scores_within(comp: list[int], score: Callable[[int, int], float | None]) -> dict[tuple[int, int], float]:
    """The verified matches inside one component (pairs are checked per component, so this is cheap)."""
    if len(comp) == 1:
        return {}
    found = ((a, b, score(a, b)) for x, a in enumerate(comp) for b in comp[x + 1:])
    return {(a, b): s for a, b, s in found if s is not None}


def _average_linkage(comp: list[int], scores: dict[tuple[int, int], float], keys: Sequence[str],
                     link_fraction: float) -> list[list[int]]:
    """Merge the members of a component, best-linked groups first (see :func:`cluster`)."""
    if len(scores) == len(comp) * (len(comp) - 1) // 2:  # every pair a copy: any merge order ends in one group
        return [sorted(comp)]
    return _merge(comp, scores, keys, link_fraction)


def _merge(comp: list[int], scores: dict[tuple[int, int], float], keys: Sequence[str],
           link_fraction: float) -> list[list[int]]:
    clusters: dict[int, list[int]] = {i: [i] for i in comp}
    lowest = {i: keys[i] for i in comp}  # each cluster's smallest key: ties go to the smallest keys
    links: dict[tuple[int, int], int] = {}
    for (a, b) in scores:
        if a in clusters and b in clusters:
            links[(a, b)] = links.get((a, b), 0) + 1
    while True:
        best: tuple[float, str, str, int, int] | None = None
        for (a, b), count in links.items():
            strength = count / (len(clusters[a]) * len(clusters[b]))
            if strength < link_fraction:
                continue
            ka, kb = lowest[a], lowest[b]
            cand = (-strength, ka, kb, a, b) if ka <= kb else (-strength, kb, ka, a, b)
            if best is None or cand < best:
                best = cand
        if best is None:
            break
        _, _, _, a, b = best
        keep, gone = min(a, b), max(a, b)
        clusters[keep].extend(clusters.pop(gone))
        lowest[keep] = min(lowest[keep], lowest.pop(gone))
        merged: dict[tuple[int, int], int] = {}
        for (x, y), count in links.items():
            x2 = keep if x == gone else x
            y2 = keep if y == gone else y
            if x2 == y2:
                continue
            pair = (x2, y2) if x2 < y2 else (y2, x2)
            merged[pair] = merged.get(pair, 0) + count
        links = merged
    return [sorted(c) for c in clusters.values()]


def _summarise(members: Sequence[int], scores: dict[tuple[int, int], float]) -> Group:
    """Weakest link of the maximum spanning tree, and mean verified similarity."""
    members = sorted(members)
    if len(members) == 1:
        return Group((members[0],), 1.0, 1.0)
    inside = set(members)
    edges = sorted(((s, a, b) for (a, b), s in scores.items() if a in inside and b in inside), reverse=True)
    parent = {m: m for m in members}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    weakest = 1.0
    for s, a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
            weakest = min(weakest, s)
    mean = sum(s for s, _, _ in edges) / len(edges) if edges else 0.0
    return Group(tuple(members), round(weakest, 4), round(mean, 4))
