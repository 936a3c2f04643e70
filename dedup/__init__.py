"""dedup: find copies of the same news story and keep one.

    >>> from dedup import find_duplicates
    >>> result = find_duplicates([
    ...     {"id": "a", "text": "The quick brown fox jumped over the lazy dog in the park on Sunday."},
    ...     {"id": "b", "text": "The quick brown fox jumped over the lazy dog in the park on Sunday ."},
    ... ])
    >>> result.canonical_of("b")
    'a'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .article import Article
    from .config import Config
    from .errors import (
        ConfigError,
        DedupError,
        IndexFormatError,
        IndexStoreError,
        InputError,
        StrictInputError,
        WorkspaceError,
    )
    from .index import Index, Match
    from .pipeline import Assignment, Cluster, Result, find_duplicates
    from .reading import Problem, read_articles

# Where each public name lives: imported when first used, so that ``import dedup`` (and the
# ``dedup`` command's start, see __main__) does not wait for numpy, datasketch and the rest.
_HOMES = {
    "Article": "article", "Config": "config", "ConfigError": "errors", "DedupError": "errors",
    "IndexFormatError": "errors", "IndexStoreError": "errors", "InputError": "errors",
    "StrictInputError": "errors", "WorkspaceError": "errors", "Index": "index", "Match": "index",
    "Assignment": "pipeline", "Cluster": "pipeline", "Result": "pipeline", "find_duplicates": "pipeline",
    "Problem": "reading", "read_articles": "reading",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'dedup' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__version__ = "0.1.0"

__all__ = [
    "Article",
    "Assignment",
    "Cluster",
    "Config",
    "ConfigError",
    "DedupError",
    "Index",
    "IndexFormatError",
    "IndexStoreError",
    "InputError",
    "Match",
    "Problem",
    "Result",
    "StrictInputError",
    "WorkspaceError",
    "find_duplicates",
    "read_articles",
]
