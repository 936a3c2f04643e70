"""Exceptions raised by the library.

Every error the library raises on purpose derives from :class:`DedupError`,
so a caller can catch one class::

    DedupError
    ├── ConfigError          a setting is out of range or inconsistent
    ├── InputError           nothing readable, a missing path, a bad record
    │   └── StrictInputError some input was skipped while ``strict`` was set
    ├── IndexStoreError  a persistent index cannot be opened or used
    │   └── IndexFormatError the index was written by another format/settings
    └── WorkspaceError   a batch run's temporary files cannot be written (disk full)

The CLI turns each into a one-line ``Error: ...`` message.
"""

from __future__ import annotations


class DedupError(Exception):
    """Base class of every error raised by dedup."""


class ConfigError(DedupError, ValueError):
    """A configuration value is out of range or inconsistent with another."""


class InputError(DedupError):
    """Input could not be read at all (missing path, nothing readable)."""


class StrictInputError(InputError):
    """Some input was skipped and ``strict`` mode turns that into a failure."""


class IndexStoreError(DedupError):
    """A persistent index cannot be opened, read or written."""


class IndexFormatError(IndexStoreError):
    """The index on disk uses another format version or other settings."""


class WorkspaceError(DedupError):
    """The temporary files a batch run keeps texts in cannot be created or written
    (a full disk, a read-only or missing ``TMPDIR``)."""
