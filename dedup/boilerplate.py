"""Boilerplate removal: segments that one site repeats across many articles.

Site chrome (navigation, footers, newsletter and cookie blocks, inline ads,
"read more" lines) repeats across the articles of one source; the text of a
story does not, since a site runs a story once. So a segment (a line or a
sentence) counts as boilerplate when it occurs in at least
``boilerplate_min_docs`` articles of one source *and* in at least
``boilerplate_source_fraction`` of that source's articles. Counting per source
keeps a viral story, carried once each by hundreds of sites, from being taken
for chrome. The counts are plain mergeable counters, so they can be computed
per batch (or per Spark partition) and summed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .config import Config
from .document import Doc, Prepared


@dataclass
class BoilerplateStats:
    """Per-source counts of segments, each counted once per article."""

    segments: Counter[tuple[str, int]] = field(default_factory=Counter)
    docs: Counter[str] = field(default_factory=Counter)

    def add(self, prepared: Prepared) -> None:
        self.docs[prepared.group] += 1
        for key in {s.key for s in prepared.segments}:
            self.segments[(prepared.group, key)] += 1

    def update(self, other: BoilerplateStats) -> None:
        """Merge counts from another batch."""
        self.segments.update(other.segments)
        self.docs.update(other.docs)

    @classmethod
    def build(cls, prepared: Iterable[Prepared]) -> BoilerplateStats:
        stats = cls()
        for p in prepared:
            stats.add(p)
        return stats

    def is_boilerplate(self, group: str, key: int, config: Config) -> bool:
        count = self.segments.get((group, key), 0)
        if count < config.boilerplate_min_docs:
            return False
        return count >= config.boilerplate_source_fraction * self.docs.get(group, 0)

    def compact(self, config: Config) -> BoilerplateStats:
        """Keep only the counts that can matter (saves memory on big corpora)."""
        keep = Counter({k: v for k, v in self.segments.items() if v >= config.boilerplate_min_docs})
        return BoilerplateStats(keep, Counter(self.docs))


def strip(prepared: Prepared, stats: BoilerplateStats | None, config: Config) -> Doc:
    """Drop boilerplate segments; keep the whole text if too little would remain."""
    kept: list[str] = []
    removed: list[str] = []
    for seg in prepared.segments:
        if stats is not None and stats.is_boilerplate(prepared.group, seg.key, config):
            removed.append(" ".join(seg.words))
        else:
            kept.extend(seg.words)
    if len(kept) < config.min_tokens:
        kept = [w for seg in prepared.segments for w in seg.words]
        removed = []
    return Doc(prepared.id, tuple(kept), tuple(removed))
