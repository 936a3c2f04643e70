"""Clusters from verified pairs, without chaining.

Connected components over verified pairs would let one bad link glue two
stories together (and then a third...). Instead each component is split by
average-linkage agglomeration: every pair inside it is verified, and two groups
merge only when at least ``link_fraction`` of the pairs between them are
verified copies. A cluster is thus never held together by one weak link.

A story on hundreds of sites would cost the square of its copies in
verifications; first, :func:`collapse` folds each near-identical copy of an
article with many candidates into one representative, verified against it
once, and the clustering runs on the representatives, each weighing as many
articles as it stands for.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from dataclasses import dataclass
from typing import Any

import numpy as np

from .candidates import distinct

VerifyMany = Callable[[Any, str | None], None]
CANDIDATES = "verifying"  # the label of the first round: the candidate pairs
LINKING = "linking"  # the label of the second: every pair inside a component of verified pairs

FULL_LINKAGE_LIMIT = 400  # components larger than this use the verified candidate edges only
SAMPLE_MEMBERS = 5  # in a larger component, members of each group whose pairs decide a merge of two groups
ALIASING = "aliasing"  # the label of the round that verifies near-identical copies against their representative
CROWDED = 64  # candidate pairs from which an article may be folded into a near-identical one (collapse)
COLLAPSE_ROUNDS = 8

NEAR_AGREEMENT = 0.5  # the share of equal signature values from which two crowded articles may be near-identical

Alike = Callable[[np.ndarray, np.ndarray], np.ndarray]
Agreement = Callable[[np.ndarray], np.ndarray]


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
    def encode(verdict: tuple[bool, float] | tuple[bool, float, bool]) -> float:
        """A match's score ``s`` as it is; a difference's as ``-1 - s`` (from -2 to -1) when it is
        what partial copies of one story get (``verdict[2]``, :func:`~dedup.verify.partial`),
        else as ``-3 - s``."""
        if verdict[0]:
            return verdict[1]
        return (-1.0 if len(verdict) > 2 and verdict[2] else -3.0) - verdict[1]

    @staticmethod
    def decode(value: float) -> tuple[bool, float]:
        return (True, value) if value >= 0 else (False, (-1.0 if value >= -2.0 else -3.0) - value)

    PARTIAL = (-2.0, -1.0)  # the encoded verdicts of partial copies: from the first, below the second

    @staticmethod
    def is_partial(values: np.ndarray) -> np.ndarray:
        """Which encoded verdicts are what two partial copies of one story get (:meth:`encode`)."""
        low, high = Verdicts.PARTIAL
        found: np.ndarray = (values >= low) & (values < high)
        return found

    def partial(self, a: int, b: int) -> bool:
        """Whether ``(a, b)``, ``a < b``, was verified as what two partial copies of one
        story get (:func:`~dedup.verify.partial`)."""
        value = self.values.get(a * self.n + b)
        return value is not None and self.PARTIAL[0] <= value < self.PARTIAL[1]

    def matching_pairs(self) -> Iterator[tuple[int, int]]:
        n = self.n
        return (divmod(key, n) for key, value in self.values.items() if value >= 0)

    def match_score(self, a: int, b: int) -> float | None:
        """The score of ``(a, b)``, ``a < b``, if it is a verified match."""
        value = self.values.get(a * self.n + b)
        return value if value is not None and value >= 0 else None


def cluster(n: int, candidates: Any, verify_many: VerifyMany, verdicts: Verdicts, keys: Sequence[str],
            link_fraction: float, near: tuple[Agreement, Alike] | None = None,
            lengths: Sequence[int] | np.ndarray | None = None) -> list[Group]:
    """Group ``n`` items given candidate pairs ``(i, j)``, ``i < j`` (a sequence of
    them, or whatever ``verify_many`` takes).

    ``verify_many(pairs, label)`` fills ``verdicts[(i, j)] = (match, score)``
    for pairs not yet there (``pairs`` is an iterable of pairs, or what it is given
    as ``candidates``).
    ``keys`` (the article ids) break ties, so the result does not depend on
    the order of the input.
    With ``near``, ``(agreement, alike)`` (see :func:`collapse`), and candidates encoded as
    ``i * n + j`` in an array, crowded articles are first folded into near-identical
    representatives. With ``lengths`` (each item's size in words), two partial copies
    (:func:`partial_copies`) do not count against a merge.
    """
    rep = collapse(n, candidates, keys, *near) if near is not None and isinstance(candidates, np.ndarray) else None
    weights: list[int] | None = None
    aliases: dict[int, list[int]] = {}
    if rep is not None:
        for v in np.flatnonzero(rep != np.arange(n)).tolist():
            aliases.setdefault(int(rep[v]), []).append(v)
        weights = np.bincount(rep, minlength=n).tolist()
        candidates = distinct(np.concatenate([np.zeros(0, dtype=np.int64)] + [
            _folded_pairs(candidates[k:k + _CHUNK], rep, n) for k in range(0, len(candidates), _CHUNK)]))
    verify_many(candidates, CANDIDATES)
    matching = verdicts.matching_pairs()
    if rep is not None:
        kept = rep == np.arange(n)  # representatives, and articles not folded
        matching = ((a, b) for a, b in matching if kept[a] and kept[b])
    comps = components(n, matching)
    if rep is not None:
        comps = [comp for comp in comps if len(comp) > 1 or kept[comp[0]]]
    if any(2 < len(comp) <= FULL_LINKAGE_LIMIT for comp in comps):
        verify_many(((comp[x], comp[y]) for comp in comps if 2 < len(comp) <= FULL_LINKAGE_LIMIT
                     for x in range(len(comp)) for y in range(x + 1, len(comp))), LINKING)
    groups: list[Group] = []
    for comp, (within, partials) in zip(comps, _verdicts_by_component(n, comps, verdicts)):
        if len(comp) <= 2:
            parts = [comp]
        else:
            excused = partial_copies(partials, within, lengths) if lengths is not None else frozenset()
            parts = _average_linkage(comp, within, keys, link_fraction, weights, excused)
            if len(comp) > FULL_LINKAGE_LIMIT and len(parts) > 1:
                parts = _join_parts(parts, within, keys, link_fraction, verify_many, verdicts)
        for members, inside in zip(parts, _scores_by_part(parts, within)):
            if aliases:
                members, inside = _unfold(members, inside, aliases, verdicts)
            groups.append(_summarise(members, inside))
    return groups


def collapse(n: int, encoded: np.ndarray, keys: Sequence[str], agreement: Agreement,
             alike: Alike) -> np.ndarray | None:
    """The representative of each of ``n`` articles (itself, for most), or ``None`` if no
    article is folded into another.

    Only articles with at least :data:`CROWDED` candidate pairs (``encoded``, ``i * n + j``)
    take part, a story on hundreds of sites, and only their pairs among themselves whose
    ``agreement`` (estimated Jaccard similarity) is at least :data:`NEAR_AGREEMENT`.
    In rounds, every such article whose key is smaller than those of all its remaining
    neighbours becomes a representative, and each other article with such a neighbour is
    checked against the one with the smallest key: ``alike(representatives, articles)``
    verifies the pairs and says which are near-identical; those articles are folded into
    it, and the others take part in the next round (:data:`COLLAPSE_ROUNDS` at most).
    Representatives are never folded, and each has the smallest key of the articles folded
    into it.
    """
    if not len(encoded):
        return None
    degree = np.bincount(encoded // n, minlength=n)  # one array of pairs' length at a time: millions of them
    degree += np.bincount(encoded % n, minlength=n)
    remaining = degree >= CROWDED
    if not remaining.any():
        return None
    keep = remaining[encoded // n]
    keep &= remaining[encoded % n]
    i, j = np.divmod(encoded[keep], n)
    del keep
    close = agreement(i * n + j) >= NEAR_AGREEMENT
    i, j = i[close], j[close]
    crowded = np.flatnonzero(remaining)
    order = crowded[np.argsort(np.array([keys[k] for k in crowded.tolist()], dtype=object), kind="stable")]
    rank = np.full(n, len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    none = len(order)
    rep = np.arange(n)
    folded = False
    for _ in range(COLLAPSE_ROUNDS):
        live = remaining[i] & remaining[j]
        i, j = i[live], j[live]
        if not len(i):
            break
        lowest = np.full(n, none, dtype=np.int64)  # the smallest rank among each article's remaining neighbours
        np.minimum.at(lowest, i, rank[j])
        np.minimum.at(lowest, j, rank[i])
        root = remaining & (rank < lowest)
        best = np.full(n, none, dtype=np.int64)  # each other article's neighbour representative of smallest rank
        to_j = root[j] & ~root[i]
        np.minimum.at(best, i[to_j], rank[j[to_j]])
        to_i = root[i] & ~root[j]
        np.minimum.at(best, j[to_i], rank[i[to_i]])
        members = np.flatnonzero(best < none)
        targets = order[best[members]]
        same = np.asarray(alike(targets, members), dtype=bool)
        rep[members[same]] = targets[same]
        folded = folded or bool(same.any())
        remaining &= ~root
        remaining[members[same]] = False
    return rep if folded else None


_CHUNK = 1 << 20  # pairs mapped at a time: a million articles have millions of candidate pairs


def _folded_pairs(encoded: np.ndarray, rep: np.ndarray, n: int) -> np.ndarray:
    """Encoded pairs of the representatives of the pairs ``encoded``, distinct, none of one with itself."""
    a, b = rep[encoded // n], rep[encoded % n]
    differ = a != b
    a, b = a[differ], b[differ]
    folded: np.ndarray = distinct(np.minimum(a, b) * n + np.maximum(a, b))
    return folded


def _unfold(members: list[int], inside: dict[tuple[int, int], float], aliases: dict[int, list[int]],
            verdicts: Verdicts) -> tuple[list[int], dict[tuple[int, int], float]]:
    """A group of representatives with the articles folded into them, and their verified scores."""
    everyone = list(members)
    scores = dict(inside)
    for r in members:
        for v in aliases.get(r, ()):
            everyone.append(v)
            pair = (min(r, v), max(r, v))
            scores[pair] = verdicts[pair][1]
    return everyone, scores


def _join_parts(parts: list[list[int]], within: dict[tuple[int, int], float], keys: Sequence[str],
                link_fraction: float, verify_many: VerifyMany, verdicts: Verdicts) -> list[list[int]]:
    """Average linkage on samples, for a component too large to verify whole.

    Its candidate pairs are all it has: dense when LSH paired every copy in a bucket, but a
    chain through a bucket of more than ``MAX_BUCKET`` copies (a story on hundreds of sites),
    on which average linkage leaves many small groups. Here, two groups that share a verified
    match merge if at least ``link_fraction`` of the pairs between their first
    :data:`SAMPLE_MEMBERS` members (by key) are copies; each round verifies the samples it
    needs, merges the best pairs of groups (highest share, then smallest keys), each group at
    most once, and goes on until no pair qualifies. The matches found join ``within``.
    """
    groups = [sorted(p) for p in parts]
    while len(groups) > 1:
        owner = {m: k for k, members in enumerate(groups) for m in members}
        touching = sorted({(min(owner[a], owner[b]), max(owner[a], owner[b])) for a, b in within
                           if owner[a] != owner[b]})
        if not touching:
            break
        firsts = [sorted(members, key=keys.__getitem__)[:SAMPLE_MEMBERS] for members in groups]
        samples = {(x, y): [(min(p, q), max(p, q)) for p in firsts[x] for q in firsts[y]] for x, y in touching}
        verify_many([pair for pairs in samples.values() for pair in pairs], None)
        ranked = []
        for (x, y), pairs in samples.items():
            found = [(pair, verdicts.match_score(*pair)) for pair in pairs]
            within.update((pair, score) for pair, score in found if score is not None)
            share = sum(score is not None for _, score in found) / len(pairs)
            if share >= link_fraction:
                first_x, first_y = keys[firsts[x][0]], keys[firsts[y][0]]
                ranked.append((-share, min(first_x, first_y), max(first_x, first_y), x, y))
        if not ranked:
            break
        merged: set[int] = set()
        for *_, x, y in sorted(ranked):
            if x not in merged and y not in merged:
                merged.update((x, y))
                groups[x] = sorted(groups[x] + groups[y])
                groups[y] = []
        groups = [members for members in groups if members]
    return groups


def _verdicts_by_component(n: int, comps: list[list[int]], verdicts: Verdicts
                           ) -> Iterator[tuple[dict[tuple[int, int], float], list[tuple[int, int]]]]:
    """The verified matches inside each component in turn, ``{(a, b): score}`` (every match has both
    ends in one component), and its pairs verified as partial copies (:meth:`Verdicts.partial`).
    One pass over the verdicts, not a lookup per pair of members (a component of 10,000 copies
    has 50 million pairs); one component's dict at a time, as a million articles' matches held
    as dicts at once cost ~200 bytes each."""
    if not comps:
        return
    comp_of = np.full(n, -1, dtype=np.int64)
    comp_of[np.concatenate(comps)] = np.repeat(np.arange(len(comps)), [len(c) for c in comps])
    encoded = np.fromiter(verdicts.values.keys(), dtype=np.int64, count=len(verdicts.values))
    values = np.fromiter(verdicts.values.values(), dtype=np.float64, count=len(verdicts.values))
    match, partial = values >= 0, Verdicts.is_partial(values)
    matches = _by_component(encoded[match], values[match], verdicts.n, comp_of, len(comps))
    partials = _by_component(encoded[partial], values[partial], verdicts.n, comp_of, len(comps))
    for (a, b, scores), (pa, pb, _) in zip(matches, partials):
        yield dict(zip(zip(a, b), scores)), list(zip(pa, pb))


def _by_component(encoded: np.ndarray, values: np.ndarray, n: int, comp_of: np.ndarray, count: int
                  ) -> Iterator[tuple[list[int], list[int], list[float]]]:
    """Encoded pairs (``a * n + b``) with their values, cut by the component both ends are in
    (``comp_of``; pairs across components, or of articles in none, are left out), for each
    of the ``count`` components in turn."""
    a, b = np.divmod(encoded, n)
    label = comp_of[a]
    inside = label == comp_of[b]  # with folded articles (collapse), some pairs join no component
    if not inside.all():
        a, b, values, label = a[inside], b[inside], values[inside], label[inside]
    order = np.argsort(label, kind="stable")
    a, b, values = a[order], b[order], values[order]
    bounds = np.searchsorted(label[order], np.arange(count + 1)).tolist()
    for c in range(count):
        lo, hi = bounds[c], bounds[c + 1]
        yield a[lo:hi].tolist(), b[lo:hi].tolist(), values[lo:hi].tolist()


def _scores_by_part(parts: list[list[int]], scores: dict[tuple[int, int], float]) -> list[dict[tuple[int, int], float]]:
    """The scores inside each part of a split component (one pass over the component's scores)."""
    part_of = {m: k for k, members in enumerate(parts) for m in members}
    inside: list[dict[tuple[int, int], float]] = [{} for _ in parts]
    for (a, b), score in scores.items():
        k = part_of[a]
        if part_of[b] == k:
            inside[k][(a, b)] = score
    return inside


def partial_copies(partials: list[tuple[int, int]], scores: dict[tuple[int, int], float],
                   lengths: Sequence[int] | np.ndarray) -> set[tuple[int, int]]:
    """Of a component's pairs verified as partial copies (:func:`~dedup.verify.partial`: they
    share some of the text, no conflict), those that do not match only because they are two
    parts of a third member: one at least as long as both is a copy of each (``scores``: the
    component's matches), as a full story is of a truncated teaser and of a copy with a paragraph
    dropped. Average linkage counts them neither for nor against a merge."""
    if not partials:
        return set()
    matched: dict[int, set[int]] = {}
    for a, b in scores:
        matched.setdefault(a, set()).add(b)
        matched.setdefault(b, set()).add(a)
    return {(x, y) for x, y in partials
            if any(lengths[z] >= max(lengths[x], lengths[y]) for z in matched.get(x, set()) & matched.get(y, set()))}


def _average_linkage(comp: list[int], scores: dict[tuple[int, int], float], keys: Sequence[str],
                     link_fraction: float, weights: Sequence[int] | None = None,
                     excused: Set[tuple[int, int]] = frozenset()) -> list[list[int]]:
    """Merge the members of a component, best-linked groups first (see :func:`cluster`)."""
    if len(scores) == len(comp) * (len(comp) - 1) // 2:  # every pair a copy: any merge order ends in one group
        return [sorted(comp)]
    return _merge(comp, scores, keys, link_fraction, weights, excused)


def _merge(comp: list[int], scores: dict[tuple[int, int], float], keys: Sequence[str],
           link_fraction: float, weights: Sequence[int] | None = None,
           excused: Set[tuple[int, int]] = frozenset()) -> list[list[int]]:
    """Average-linkage agglomeration: while two groups have at least ``link_fraction`` of the
    pairs between them verified, merge the pair with the highest share (ties: the smallest
    keys). Groups' links live in a heap, and a merge re-weighs only the merged group's links
    (an entry of a group that changed since is skipped), so a component of thousands of
    members costs about its number of links times a logarithm, not members times links.

    With ``weights``, member ``i`` stands for ``weights[i]`` articles that share its verdicts
    (:func:`collapse`): a pair of members counts as that many pairs of articles. ``excused``
    pairs (:func:`partial_copies`) count for neither side."""
    clusters: dict[int, list[int]] = {i: [i] for i in comp}
    size = {i: weights[i] if weights is not None else 1 for i in comp}  # articles in each cluster
    lowest = {i: keys[i] for i in comp}  # each cluster's smallest key: ties go to the smallest keys
    links: dict[int, dict[int, int]] = {i: {} for i in comp}  # verified pairs between two clusters
    for a, b in scores:
        if a in clusters and b in clusters:
            count = size[a] * size[b]
            links[a][b] = links[a].get(b, 0) + count
            links[b][a] = links[b].get(a, 0) + count
    unknown: dict[int, dict[int, int]] = {i: {} for i in comp}  # excused pairs between two clusters
    for a, b in excused:
        count = size[a] * size[b]
        unknown[a][b] = unknown[a].get(b, 0) + count
        unknown[b][a] = unknown[b].get(a, 0) + count
    version = dict.fromkeys(comp, 0)
    heap: list[tuple[float, str, str, int, int, int, int]] = []

    def push(a: int, b: int) -> None:  # a < b
        strength = links[a][b] / (size[a] * size[b] - unknown[a].get(b, 0))
        if strength >= link_fraction:
            ka, kb = lowest[a], lowest[b]
            first, second = (ka, kb) if ka <= kb else (kb, ka)
            heapq.heappush(heap, (-strength, first, second, a, b, version[a], version[b]))

    for a in comp:
        for b in links[a]:
            if a < b:
                push(a, b)
    while heap:
        *_, a, b, version_a, version_b = heapq.heappop(heap)
        if version.get(a) != version_a or version.get(b) != version_b:
            continue  # one of them has merged since
        keep, gone = min(a, b), max(a, b)
        clusters[keep].extend(clusters.pop(gone))
        size[keep] += size.pop(gone)
        lowest[keep] = min(lowest[keep], lowest.pop(gone))
        del version[gone]
        version[keep] += 1
        kept = links[keep]
        del kept[gone]
        for other, count in links.pop(gone).items():
            if other != keep:
                del links[other][gone]
                kept[other] = links[other][keep] = kept.get(other, 0) + count
        held = unknown[keep]
        held.pop(gone, None)
        for other, count in unknown.pop(gone).items():
            if other != keep:
                del unknown[other][gone]
                held[other] = unknown[other][keep] = held.get(other, 0) + count
        for other in kept:
            push(min(keep, other), max(keep, other))
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
