"""Why two articles match, or do not: the figures behind one verdict.

``explain`` runs the same stages as a batch scan on two articles, with the
boilerplate counts of a whole corpus when one is given (so the text removed is
what ``scan`` removes), and reports every figure that goes into the decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .article import Article
from .boilerplate import BoilerplateStats, strip
from .candidates import candidate_pairs, screen_floor, screening_bounds, sketches
from .config import Config
from .document import Doc, prepare
from .fingerprint import estimate_jaccard, present, signatures
from .pipeline import PASSAGE_PAIRS, verify_pair
from .verify import Verdict, partial


@dataclass(frozen=True)
class Explanation:
    """Everything that decided whether ``a`` and ``b`` are copies."""

    a: Article
    b: Article
    doc_a: Doc
    doc_b: Doc
    jaccard: float
    lead_jaccard: float
    candidate: bool
    verdict: Verdict
    bound: float = 1.0  # screening: upper bound of the shorter text's shingles found in the longer
    floor: float = 0.0  # screening drops a candidate pair whose bound is below this
    passage_jaccard: float = 0.0  # of the most alike passages of the two (Config.passages)
    by_passages_only: bool = False  # a candidate through the passage index alone
    partial: bool = False  # "different" as two partial copies of one story are (verify.partial)

    @property
    def screened(self) -> bool:
        """Whether a batch run drops this pair, as a candidate, before verification."""
        return self.bound < self.floor

    def lines(self) -> list[str]:
        v = self.verdict
        out = []
        for tag, art, doc in (("A", self.a, self.doc_a), ("B", self.b, self.doc_b)):
            out.append(f"{tag}: {art.id}")
            if doc.title is not None:  # the article's own title is a line its site repeats
                out.append(f"   title:  {doc.title}  (not {art.title!r}: a line the site repeats)")
            else:
                out.append(f"   title:  {art.title or '(none)'}")
            out.append(f"   source: {art.source or '(unknown)'}   published: {art.published or '(unknown)'}")
            out.append(f"   {len(doc.words)} words after cleaning, {len(doc.removed)} boilerplate segments removed")
        out.append("")
        out.append(f"MinHash estimate: whole-text Jaccard {self.jaccard:.2f}, lead Jaccard {self.lead_jaccard:.2f}, "
                   f"closest passages' Jaccard {self.passage_jaccard:.2f}"
                   f" -> {'a' if self.candidate else 'not a'} candidate pair in the LSH index"
                   + (" (by its passages only: a batch run verifies it if it is among either article's "
                      f"{PASSAGE_PAIRS} such pairs that share the most)" if self.by_passages_only else ""))
        out.append(f"Screening: at most {self.bound:.0%} of the shorter text's shingles are in the longer (99.9%)"
                   + (f", under {self.floor:.0%}: dropped unverified" if self.screened else ""))
        out.append(f"Verification: containment {v.containment:.3f} ({v.shared} shared words), "
                   f"overlap {v.overlap:.3f}, conflicts {v.conflicts}, "
                   f"shared text starts at word {v.start_a} of A and {v.start_b} of B")
        out.append(f"Decided by: {v.measure} - {v.reason}")
        verdict = "SAME STORY" if v.match else "DIFFERENT"
        if v.match and not self.candidate:
            verdict += " (but the LSH index would not have proposed this pair)"
        elif v.match and self.screened:
            verdict += " (but screening would have dropped this pair)"
        elif self.partial:
            verdict += (" (as two partial copies of one story: clustering counts this pair for neither side "
                        "when a copy at least as long as both is a copy of each)")
        out.append(f"Verdict: {verdict}")
        for tag, doc in (("A", self.doc_a), ("B", self.doc_b)):
            if doc.removed:
                out.append("")
                out.append(f"Boilerplate removed from {tag}:")
                out.extend(f"  - {seg[:100]}" for seg in doc.removed)
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def explain(a: Article, b: Article, config: Config | None = None,
            corpus: Iterable[Article] | None = None) -> Explanation:
    """Explain the verdict on ``a`` and ``b``; ``corpus`` supplies boilerplate counts (defaults to the pair)."""
    config = config or Config()
    stats = BoilerplateStats.build(prepare(x) for x in (corpus if corpus is not None else (a, b)))
    doc_a = strip(prepare(a), stats, config)
    doc_b = strip(prepare(b), stats, config)
    c = config
    (fa, la, pa), (fb, lb, pb) = (signatures(d.tokens, c.shingle_size, c.lead_tokens, c.num_perm, c.seed,
                                             c.passages, c.passage_tokens) for d in (doc_a, doc_b))
    candidate = (0, 1) in candidate_pairs([fa, fb], [la, lb], c, np.array([pa, pb]))
    by_passages_only = candidate and (0, 1) not in candidate_pairs([fa, fb], [la, lb], c)
    had_a, had_b = pa[present(pa)], pb[present(pb)]
    passage_jaccard = (float((had_a[:, None, :] == had_b[None, :, :]).mean(axis=-1).max())
                       if len(had_a) and len(had_b) else 0.0)
    verdict = verify_pair(doc_a, doc_b, a.published_at, b.published_at, config)
    bound = float(screening_bounds(sketches(fa), sketches(fb), np.array(len(doc_a.words)),
                                   np.array(len(doc_b.words)), config))
    return Explanation(a, b, doc_a, doc_b, estimate_jaccard(fa, fb), estimate_jaccard(la, lb), candidate, verdict,
                       bound, screen_floor(config), passage_jaccard, by_passages_only,
                       partial(verdict, config))
