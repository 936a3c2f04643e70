"""Rendering a :class:`~dedup.pipeline.Result`: text, JSON, JSON Lines, CSV.

Pure functions from a result to a string (or lines); the CLI writes them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import IO, Any

from .pipeline import Result

FORMATS = ("text", "json", "jsonl", "csv")
CSV_FIELDS = ["id", "cluster", "canonical_id", "is_canonical", "similarity", "title", "source", "url", "published"]


def article_records(result: Result) -> Iterator[dict[str, Any]]:
    """One record per article, clusters in order, canonical item first.

    Fields: ``id, cluster, canonical_id, is_canonical, similarity`` and, where
    known, ``title, source, url, published``.
    """
    for c in result.clusters:
        for member in c.members:
            a = result.assignments[member]
            item = result.items[member]
            rec: dict[str, Any] = {"id": a.id, "cluster": a.cluster, "canonical_id": a.canonical_id,
                                   "is_canonical": a.is_canonical, "similarity": a.similarity}
            for key in ("title", "source", "url", "published"):
                value = getattr(item, key)
                if value:
                    rec[key] = value
            yield rec


def to_json(result: Result) -> str:
    doc = {
        "counts": result.counts(),
        "settings": result.config.to_dict(),
        "clusters": [
            {"cluster": c.id, "size": c.size, "canonical_id": c.canonical_id,
             "title": result.items[c.canonical_id].title, "source": result.items[c.canonical_id].source,
             "weakest_link": c.weakest_link, "mean_similarity": c.mean_similarity,
             "members": [r for r in article_records_of(result, c.members)]}
            for c in result.clusters
        ],
        "problems": [{"where": p.where, "reason": p.reason, "skipped": p.skipped} for p in result.problems],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def article_records_of(result: Result, members: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    for member in members:
        a = result.assignments[member]
        item = result.items[member]
        yield {"id": a.id, "is_canonical": a.is_canonical, "similarity": a.similarity,
               "title": item.title, "source": item.source, "url": item.url, "published": item.published}


def to_text(result: Result, *, singletons: bool = False) -> str:
    """The human summary: multi-member clusters, then the counts."""
    lines: list[str] = []
    shown = [c for c in result.clusters if c.size > 1 or singletons]
    for c in shown:
        canon = result.items[c.canonical_id]
        head = f"cluster {c.id}: {c.size} article{'s' if c.size != 1 else ''}"
        if c.size > 1:
            head += f" (weakest link {c.weakest_link:.2f}, mean similarity {c.mean_similarity:.2f})"
        lines.append(head)
        lines.append(f"  canonical: {canon.title or '(no title)'}")
        lines.append(f"             {canon.source or '(unknown source)'} | {c.canonical_id}"
                     + (f" | {canon.published}" if canon.published else ""))
        for member in c.members:
            if member == c.canonical_id:
                continue
            item = result.items[member]
            sim = result.assignments[member].similarity
            lines.append(f"  {sim:.2f}  {member}" + (f"  ({item.source})" if item.source else ""))
        lines.append("")
    n = result.counts()
    singles = sum(1 for c in result.clusters if c.size == 1)
    lines.append(f"{counted(n['articles'], 'article')} read, {n['skipped']} skipped, "
                 f"{counted(n['clusters'], 'cluster')} ({n['multi_member_clusters']} with copies, {singles} single), "
                 f"{counted(n['duplicates'], 'duplicate')}")
    return "\n".join(lines) + "\n"


def counted(count: int, one: str, many: str | None = None) -> str:
    """``count`` and the noun, in the singular for one.

    >>> counted(1, "article"), counted(0, "copy", "copies")
    ('1 article', '0 copies')
    """
    return f"{count} {one if count == 1 else many or one + 's'}"


def write(result: Result, fmt: str, out: IO[str]) -> None:
    """Write the report to a text stream, line by line for jsonl and csv (no whole copy in memory)."""
    if fmt == "jsonl":
        for rec in article_records(result):
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for rec in article_records(result):
            writer.writerow(rec)
    else:
        out.write(render(result, fmt))


def render(result: Result, fmt: str) -> str:
    if fmt == "json":
        return to_json(result)
    if fmt in ("jsonl", "csv"):
        out = io.StringIO()
        write(result, fmt, out)
        return out.getvalue()
    return to_text(result)
