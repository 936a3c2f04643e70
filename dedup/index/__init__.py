"""A persistent, incremental duplicate index for ingestion pipelines.

Articles arrive one at a time; :meth:`Index.add` says at once whether each is
a copy of a story already indexed, and which item is canonical::

    from dedup import Index

    with Index.open("sqlite:///news.db") as index:
        match = index.add({"id": "a1", "text": "...", "source": "AP"})
        if match.joined:
            print(match.id, "copies", match.matched, "canonical:", match.canonical_id)

Backends (chosen by the location): one SQLite file (``path`` or
``sqlite:///path``, the default, no server) or Redis (``redis://host:port/db``,
shared by several worker processes; needs ``pip install 'dedup-news[redis]'``).
"""

from .core import Index, IndexStats, Match
from .store import FORMAT_VERSION

__all__ = ["FORMAT_VERSION", "Index", "IndexStats", "Match"]
