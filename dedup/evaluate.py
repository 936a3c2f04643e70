"""Scoring a clustering against truth labels: pairwise, B-cubed, ARI, worst mistakes.

The figures are those of the benchmark's scorer (``score.py``), computed the
same way so that ``dedup eval`` and the benchmark agree to the last digit:

* every article of the truth counts; one missing from the prediction is a
  singleton of its own, and predicted articles absent from the truth are
  ignored (reported as ``extra``);
* **pairwise** precision and recall are over same-cluster pairs (a prediction
  with no pairs has precision 1.0; a truth with no pairs, recall 1.0);
* **B-cubed** precision and recall average, over articles, the share of the
  article's predicted (true) cluster that shares its true (predicted) cluster;
* the **adjusted Rand index** is ``(tp - expected) / (mean pairs - expected)``
  with ``expected = true pairs * predicted pairs / all pairs`` (1.0 when the
  denominator is zero);
* a **merge** is a predicted cluster holding several true clusters, a
  **split** a true cluster spread over several predicted ones; the worst come
  first (most clusters involved, then by label, descending as in score.py).

Pure functions over ``{article id: cluster label}`` mappings; nothing prints.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from math import comb
from pathlib import Path
from typing import Any

from .errors import InputError

WORST = 10  # merges and splits kept in a Scores, as in score.py


def parse_labels(lines: Iterable[str], where: str = "<labels>") -> dict[str, str]:
    """``{id: cluster}`` from JSON Lines with ``"id"`` and ``"cluster"`` (both made strings).

    Blank lines are skipped; a later line for the same id wins.

    >>> parse_labels(['{"id": "a", "cluster": 1}', '', '{"id": "b", "cluster": "s2"}'])
    {'a': '1', 'b': 's2'}
    """
    out: dict[str, str] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{where}:{n}: malformed JSON line ({exc})") from exc
        if not isinstance(rec, dict) or "id" not in rec or "cluster" not in rec:
            raise InputError(f'{where}:{n}: a line needs "id" and "cluster"')
        out[str(rec["id"])] = str(rec["cluster"])
    return out


def read_labels(path: str | Path) -> dict[str, str]:
    """Read a truth or prediction file (JSON Lines with ``id`` and ``cluster``)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return parse_labels(fh, str(path))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text") from exc


@dataclass(frozen=True)
class Mistake:
    """One merge (``kind="merge"``: a predicted cluster over several stories) or
    split (``kind="split"``: a story over several predicted clusters).

    ``parts`` maps each involved cluster of the *other* side (true clusters of
    a merge, predicted clusters of a split) to its article ids, biggest first.
    """

    kind: str
    cluster: str
    clusters: int
    size: int
    parts: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Scores:
    """Every figure of one evaluation; :meth:`as_dict` is score.py's JSON."""

    articles: int
    true_clusters: int
    predicted_clusters: int
    missing: int
    extra: int
    pair_precision: float
    pair_recall: float
    pair_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    ari: float
    merged_clusters: int
    split_clusters: int
    worst_merges: tuple[Mistake, ...]
    worst_splits: tuple[Mistake, ...]
    missing_ids: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The same keys, values and order as the benchmark scorer's ``--json`` output."""
        return {
            "articles": self.articles, "true_clusters": self.true_clusters,
            "predicted_clusters": self.predicted_clusters, "missing": self.missing, "extra": self.extra,
            "pair_precision": self.pair_precision, "pair_recall": self.pair_recall, "pair_f1": self.pair_f1,
            "bcubed_precision": self.bcubed_precision, "bcubed_recall": self.bcubed_recall,
            "bcubed_f1": self.bcubed_f1, "ari": self.ari,
            "merged_clusters": self.merged_clusters, "split_clusters": self.split_clusters,
            "worst_merges": [{"cluster": m.cluster, "true_clusters": m.clusters, "size": m.size}
                             for m in self.worst_merges],
            "worst_splits": [{"true_cluster": s.cluster, "pieces": s.clusters, "size": s.size}
                             for s in self.worst_splits],
            "missing_ids": list(self.missing_ids),
        }


def score(truth: Mapping[str, str], predicted: Mapping[str, str], worst: int = WORST) -> Scores:
    """Score ``predicted`` cluster labels against ``truth`` (both ``{id: label}``).

    >>> s = score({"a": "1", "b": "1", "c": "2"}, {"a": "x", "b": "y", "c": "y"})
    >>> s.pair_precision, s.pair_recall, s.ari, s.merged_clusters, s.split_clusters
    (0.0, 0.0, -0.5, 1, 1)
    """
    ids = list(truth)
    n = len(ids)
    if n == 0:
        raise InputError("the truth labels are empty")
    missing = [i for i in ids if i not in predicted]
    p = {i: predicted.get(i, f"__missing__{i}") for i in ids}
    t = truth
    cont = Counter((t[i], p[i]) for i in ids)
    t_sizes, p_sizes = Counter(t[i] for i in ids), Counter(p[i] for i in ids)
    tp = sum(comb(k, 2) for k in cont.values())
    t_pairs = sum(comb(k, 2) for k in t_sizes.values())
    p_pairs = sum(comb(k, 2) for k in p_sizes.values())
    prec = tp / p_pairs if p_pairs else 1.0
    rec = tp / t_pairs if t_pairs else 1.0
    f1 = _f1(prec, rec)
    expected = t_pairs * p_pairs / comb(n, 2) if n > 1 else 0.0
    max_index = (t_pairs + p_pairs) / 2
    ari = (tp - expected) / (max_index - expected) if max_index != expected else 1.0
    bp = sum(cont[(t[i], p[i])] / p_sizes[p[i]] for i in ids) / n
    br = sum(cont[(t[i], p[i])] / t_sizes[t[i]] for i in ids) / n
    bf = _f1(bp, br)
    merges = _mistakes("merge", ids, p, t)
    splits = _mistakes("split", ids, t, p)
    return Scores(
        articles=n, true_clusters=len(t_sizes), predicted_clusters=len(p_sizes),
        missing=len(missing), extra=len(set(predicted) - set(truth)),
        pair_precision=round(prec, 4), pair_recall=round(rec, 4), pair_f1=round(f1, 4),
        bcubed_precision=round(bp, 4), bcubed_recall=round(br, 4), bcubed_f1=round(bf, 4),
        ari=round(ari, 4), merged_clusters=len(merges), split_clusters=len(splits),
        worst_merges=tuple(merges[:worst]), worst_splits=tuple(splits[:worst]), missing_ids=tuple(missing[:10]),
    )


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _mistakes(kind: str, ids: list[str], outer: Mapping[str, str], inner: Mapping[str, str]) -> list[Mistake]:
    """Clusters of ``outer`` spanning several clusters of ``inner``, worst first."""
    members: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for i in ids:
        members[outer[i]][inner[i]].append(i)
    ranked = sorted(((len(parts), label, sum(len(v) for v in parts.values()))
                     for label, parts in members.items() if len(parts) > 1), reverse=True)
    out = []
    for count, label, size in ranked:
        parts = sorted(members[label].items(), key=lambda kv: (-len(kv[1]), kv[0]))
        out.append(Mistake(kind, label, count, size, tuple((k, tuple(sorted(v))) for k, v in parts)))
    return out


def report_dict(scores: Scores, titles: Mapping[str, str | None] | None = None,
                show: int = WORST) -> dict[str, Any]:
    """:meth:`Scores.as_dict` with each listed merge and split given its ``parts``:
    the clusters involved and their articles (``id`` and, when known, ``title``)."""
    titles = titles or {}
    d = scores.as_dict()
    d["worst_merges"] = d["worst_merges"][:show]
    d["worst_splits"] = d["worst_splits"][:show]
    for key, mistakes in (("worst_merges", scores.worst_merges), ("worst_splits", scores.worst_splits)):
        for entry, m in zip(d[key], mistakes):
            entry["parts"] = [{"cluster": label, "articles": [{"id": i, "title": titles.get(i)} for i in arts]}
                              for label, arts in m.parts]
    return d


def render_text(scores: Scores, titles: Mapping[str, str | None] | None = None, show: int = 5) -> str:
    """score.py's text report, each merge and split followed by its articles (id and title)."""
    titles = titles or {}
    s = scores
    lines = [
        f"articles {s.articles}  true clusters {s.true_clusters}  predicted {s.predicted_clusters}"
        f"  missing {s.missing}  extra {s.extra}",
        f"pairwise  P {s.pair_precision:.4f}  R {s.pair_recall:.4f}  F1 {s.pair_f1:.4f}",
        f"B-cubed   P {s.bcubed_precision:.4f}  R {s.bcubed_recall:.4f}  F1 {s.bcubed_f1:.4f}",
        f"ARI       {s.ari:.4f}   merged clusters {s.merged_clusters}   split clusters {s.split_clusters}",
    ]
    for m in s.worst_merges[:show]:
        lines.append(f"  merge: predicted {m.cluster} holds {m.clusters} stories ({m.size} articles)")
        lines.extend(_part_lines(m, "story", titles))
    for m in s.worst_splits[:show]:
        lines.append(f"  split: story {m.cluster} in {m.clusters} clusters ({m.size} articles)")
        lines.extend(_part_lines(m, "predicted", titles))
    if s.missing_ids:
        lines.append(f"  missing from the prediction (first {len(s.missing_ids)}): {', '.join(s.missing_ids)}")
    return "\n".join(lines) + "\n"


def _part_lines(m: Mistake, label: str, titles: Mapping[str, str | None]) -> list[str]:
    out = []
    for cluster, arts in m.parts:
        out.append(f"      {label} {cluster}:")
        for i in arts:
            title = titles.get(i)
            out.append(f"        {i}" + (f"  {title!r}" if title else ""))
    return out
