"""One frozen, serialisable configuration object with every knob.

The CLI builds a :class:`Config` from its options; the library takes one as an
argument. It holds only plain values (numbers, strings, tuples) so it can be
turned into a dict with :meth:`Config.to_dict`, shipped to worker processes or
a Spark job, and rebuilt with :meth:`Config.from_dict`.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import ConfigError

CanonicalPolicy = Literal["earliest", "longest", "first"]


@dataclass(frozen=True)
class Config:
    """Settings of the detector. Every field has a default that works on news.

    Fingerprinting
        shingle_size: words per shingle (3). Three-word shingles keep different
            stories apart (common bigrams such as "said it" are shared by
            everything) while surviving light edits and OCR noise better than
            five-word shingles.
        num_perm: MinHash permutations (128). More means a finer similarity
            estimate and a larger index; 128 gives a standard error of ~0.04.
        lead_tokens: length in words of the *lead* fingerprint (40). A second
            MinHash over the first words of the article (headline and first
            paragraph) finds truncated copies and excerpts whose whole-text
            Jaccard similarity is low.
        seed: seed of the MinHash permutations (1, datasketch's default).
        passages: how many *passage* fingerprints each article has (5; 0: none).
            Short MinHashes (over the first half of the permutations) of
            overlapping passages of the opening, ``passage_tokens`` words each, a
            new one every three quarters of a passage (15 words): the first five
            cover the first 82 words. A copy cut to a few sentences, one under a
            rewritten headline, or a write-thru whose new lead pushed the story
            down still shares a passage with the original when its lead and
            whole text look too different.
        passage_tokens: words in a passage (22).

    Candidate search (datasketch MinHashLSH)
        lsh_threshold: Jaccard threshold of the whole-text index (0.3). Low on
            purpose: recall is won here, precision in verification.
        lead_lsh_threshold: Jaccard threshold of the lead index (0.4).
        passage_lsh_threshold: Jaccard threshold of the passage index (0.5): two
            articles are candidates when any passage of one is this alike any
            passage of the other.
        screen_fraction: candidates (and pairs inside a component, verified for
            clustering) that cannot be copies are dropped before verification
            (0.6; 0 verifies every candidate). A pair is dropped when
            its whole-text signatures show, at 99.9% confidence, that the shorter
            text shares less than this fraction of the lower of
            ``containment_threshold`` and ``overlap_threshold`` of its shingles
            with the longer (0.36 with the defaults, scaled down for shingles
            longer than 3 words). A copy shares a smaller share of its shingles
            than of its words (an edited word breaks three shingles), but not
            that much smaller: see README, "Screening".

    Verification (rapidfuzz, on word sequences)
        min_block: shortest run of words that counts as shared text (3); lone
            common words aligned by chance are ignored.
        containment_threshold: share of the shorter text found in the longer (0.7),
            required when both texts start with the same story (a truncated
            copy or an excerpt is contained in the full text).
        overlap_threshold: share of *both* texts that must be shared (0.6) when
            the shared text does not start at the top of both, e.g. a write-thru
            with a new lead. A page that merely carries another story in a
            "related" block fails this test: most of the page is something else.
        lead_slack: words at the start of either text that may differ before the
            shared text begins and the pair still counts as starting together (25):
            a rewritten headline, an ``UPDATE 2-`` prefix, a dateline; counted under
            the headline when the headline is not shared (a write-thru's new lead).
        conflict_every: one conflicting substitution (a different number or name
            in otherwise aligned text) is tolerated per this many shared words
            (60). Short template items (dividend notices, earnings tables) that
            differ in company or figures therefore stay apart, while a long refile
            with one corrected figure still matches.

    Boilerplate
        boilerplate_min_docs: a text segment (line or sentence) seen in at least
            this many articles of one source is site chrome (3)...
        boilerplate_source_fraction: ...and in at least this share of the source's
            articles (0.05), so that a story a source runs several times (or
            keeps showing in its "related articles" blocks) is not taken for
            chrome, while chrome, which is on most pages, still is.
        min_tokens: articles shorter than this after cleaning keep their
            uncleaned text for matching (8 words), so nothing is emptied out.

    Clustering
        link_fraction: two groups merge only when at least this share of the pairs
            between them are verified matches (0.5): a cluster is never held
            together by one weak link.
        alias_overlap: an article with many candidates (a story on hundreds of
            sites) is folded into a near-identical copy when their verified match
            shares at least this share of the longer text (0.98: one word in
            fifty may differ); the copy then stands for it in clustering, so such
            a story costs verifications in proportion to its copies, not to their
            square. Not with ``window_seconds``: a copy's verdicts then depend on
            its date too.
        window_seconds: when set, only articles published within this many
            seconds of each other can match (None: no window).

    Canonical item
        canonical: "earliest" (default: the first published copy), "longest"
            (most complete text) or "first" (first in input order).
        prefer_sources: sources to prefer as canonical, in order of preference.
    """

    shingle_size: int = 3
    num_perm: int = 128
    lead_tokens: int = 40
    seed: int = 1
    passages: int = 5
    passage_tokens: int = 22
    lsh_threshold: float = 0.3
    lead_lsh_threshold: float = 0.4
    passage_lsh_threshold: float = 0.5
    screen_fraction: float = 0.6
    min_block: int = 3
    containment_threshold: float = 0.7
    overlap_threshold: float = 0.6
    lead_slack: int = 25
    conflict_every: int = 60
    boilerplate_min_docs: int = 3
    boilerplate_source_fraction: float = 0.05
    min_tokens: int = 8
    link_fraction: float = 0.5
    alias_overlap: float = 0.98
    window_seconds: float | None = None
    canonical: CanonicalPolicy = "earliest"
    prefer_sources: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        def check(ok: bool, msg: str) -> None:
            if not ok:
                raise ConfigError(msg)

        for f in dataclasses.fields(self):  # the types first: "128" or [1] would fail below with a TypeError
            value = getattr(self, f.name)
            if f.name == "prefer_sources":
                value = (value,) if isinstance(value, str) else value  # one source, not one per letter
                check(isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value),
                      f"prefer_sources must be a list of source names, got {value!r}")
                object.__setattr__(self, f.name, tuple(value))
            elif f.name not in ("window_seconds", "canonical"):  # (checked below)
                whole = isinstance(f.default, int)
                ok = isinstance(value, numbers.Integral if whole else numbers.Real) and not isinstance(value, bool)
                check(ok, f"{f.name} must be {'a whole number' if whole else 'a number'}, got {value!r}")
        check(self.window_seconds is None or (isinstance(self.window_seconds, numbers.Real)
                                              and not isinstance(self.window_seconds, bool)),
              f"window_seconds must be a number of seconds or None, got {self.window_seconds!r}")
        check(self.shingle_size >= 1, "shingle_size must be at least 1")
        check(self.num_perm >= 16, "num_perm must be at least 16")
        check(self.lead_tokens >= self.shingle_size, "lead_tokens must be at least shingle_size")
        check(self.passages >= 0, "passages must not be negative")
        check(self.passage_tokens >= self.shingle_size, "passage_tokens must be at least shingle_size")
        for name in ("lsh_threshold", "lead_lsh_threshold", "passage_lsh_threshold", "containment_threshold",
                     "overlap_threshold", "boilerplate_source_fraction", "link_fraction", "alias_overlap"):
            value = getattr(self, name)
            check(0.0 < value <= 1.0, f"{name} must be in (0, 1], got {value}")
        check(0.0 <= self.screen_fraction <= 1.0, f"screen_fraction must be in [0, 1], got {self.screen_fraction}")
        check(self.min_block >= 1, "min_block must be at least 1")
        check(self.lead_slack >= 0, "lead_slack must not be negative")
        check(self.conflict_every >= 1, "conflict_every must be at least 1")
        check(self.boilerplate_min_docs >= 2, "boilerplate_min_docs must be at least 2")
        check(self.window_seconds is None or self.window_seconds > 0, "window_seconds must be positive")
        check(isinstance(self.canonical, str) and self.canonical in ("earliest", "longest", "first"),
              f"canonical must be earliest, longest or first, got {self.canonical!r}")

    def replace(self, **changes: Any) -> Config:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every setting (JSON-serialisable)."""
        d = dataclasses.asdict(self)
        d["prefer_sources"] = list(self.prefer_sources)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """Rebuild a config from :meth:`to_dict` output; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ConfigError(f"unknown config keys: {', '.join(sorted(unknown))}")
        values = dict(data)
        return cls(**values)
