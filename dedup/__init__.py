"""dedup: find copies of the same news story and keep one.

    >>> from dedup import find_duplicates
    >>> result = find_duplicates([
    ...     {"id": "a", "text": "The quick brown fox jumped over the lazy dog in the park on Sunday."},
    ...     {"id": "b", "text": "The quick brown fox jumped over the lazy dog in the park on Sunday ."},
    ... ])
    >>> result.canonical_of("b")
    'a'
"""

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
