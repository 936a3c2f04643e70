"""Choosing the canonical item of a cluster.

Policies (``Config.canonical``):

* ``earliest`` (default): the first published copy, since syndication runs
  from the wire outwards; articles without a date come after dated ones.
  Ties are broken by the most complete text (most words), then by id.
* ``longest``: the most complete text, then the earliest, then by id.
* ``first``: the first in input order, then by id.

``Config.prefer_sources`` narrows the choice first: if any member comes from
a preferred source, only members of the best-ranked such source compete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from .config import Config

_NEVER = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Candidate:
    """What the canonical choice looks at for one member."""

    id: str
    source: str | None
    published: dt.datetime | None
    length: int
    order: int


def choose(members: Sequence[Candidate], config: Config) -> Candidate:
    """The canonical member of a cluster under the configured policy."""
    pool = list(members)
    if config.prefer_sources:
        ranks = {s.strip().lower(): r for r, s in enumerate(config.prefer_sources)}
        ranked = [(ranks[m.source.strip().lower()], m) for m in pool
                  if m.source and m.source.strip().lower() in ranks]
        if ranked:
            best = min(r for r, _ in ranked)
            pool = [m for r, m in ranked if r == best]
    if config.canonical == "longest":
        return min(pool, key=lambda m: (-m.length, m.published or _NEVER, m.id))
    if config.canonical == "first":
        return min(pool, key=lambda m: (m.order, m.id))
    return min(pool, key=lambda m: (m.published or _NEVER, -m.length, m.id))
