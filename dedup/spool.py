"""Append-only text storage on a temporary file, read back by position.

The batch run keeps texts out of memory: each article's normalised segments
(between the boilerplate count and the strip) and its cleaned words (for
verification) are written once, in order, and read back by any process that
has the file's name. Memory then grows with the number of articles only by an
offset per article.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import weakref
from collections.abc import Iterable
from typing import Self

import numpy as np

from .errors import WorkspaceError


def _workspace_error(exc: OSError, directory: str | None) -> WorkspaceError:
    where = directory or tempfile.gettempdir()
    return WorkspaceError(f"cannot write temporary files in {where} ({exc.strerror or exc}); a batch run "
                          "keeps its texts there, up to about twice the input's size: set TMPDIR to a "
                          "folder with room")


class _TempFile:
    """A temp file written through a buffer and deleted on :meth:`close` (or leaving a ``with``);
    a failed write is a :class:`~dedup.errors.WorkspaceError` (a full disk, say)."""

    def __init__(self, suffix: str, directory: str | None) -> None:
        try:
            fd, self.path = tempfile.mkstemp(prefix="dedup-", suffix=suffix, dir=directory)
        except OSError as exc:
            raise _workspace_error(exc, directory) from exc
        self._out = os.fdopen(fd, "wb", buffering=1 << 20)

    def _write(self, data: bytes) -> None:
        try:
            self._out.write(data)
        except OSError as exc:
            raise _workspace_error(exc, os.path.dirname(self.path)) from exc

    def _flush(self) -> None:
        try:
            self._out.flush()
        except OSError as exc:
            raise _workspace_error(exc, os.path.dirname(self.path)) from exc

    def close(self) -> None:
        """Close and delete the file; what was not yet written is not needed any more."""
        with contextlib.suppress(OSError):
            self._out.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Spool(_TempFile):
    """Strings appended to a temp file; ``get(i)`` returns the i-th one."""

    def __init__(self, directory: str | None = None) -> None:
        super().__init__(".spool", directory)
        self._chunks: list[np.ndarray] = []
        self._size = 0
        self._reader: SpoolReader | None = None

    def extend(self, texts: Iterable[str]) -> None:
        self.extend_encoded(*encode_all(list(texts)))

    def extend_encoded(self, blob: bytes, sizes: np.ndarray) -> None:
        """Append entries already encoded as UTF-8 and joined: ``blob`` holds entries of ``sizes`` bytes.

        One write for a whole batch (say, from a worker process), no work per entry.
        """
        self._write(blob)
        self._chunks.append(self._size + np.cumsum(sizes, dtype=np.int64))
        self._size += len(blob)
        if len(self._chunks) > 64:
            self._chunks = [np.concatenate(self._chunks)]

    def offsets(self) -> np.ndarray:
        """End offsets of every entry (flushes the writer)."""
        self._flush()
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros(0, dtype=np.int64)

    def reader(self) -> SpoolReader:
        if self._reader is None or len(self._reader) != len(self.offsets()):
            self._reader = SpoolReader(self.path, self.offsets())
        return self._reader

    def __len__(self) -> int:
        return sum(len(c) for c in self._chunks)


class SpoolReader:
    """Reads entries of a spool file; cheap to send to worker processes."""

    def __init__(self, path: str, ends: np.ndarray) -> None:
        self.path = path
        self.ends = ends
        self._fd: int | None = None

    def __len__(self) -> int:
        return len(self.ends)

    def __getstate__(self) -> dict[str, object]:
        return {"path": self.path, "ends": self.ends, "_fd": None}

    def get(self, i: int) -> str:
        start = int(self.ends[i - 1]) if i else 0
        end = int(self.ends[i])
        return os.pread(self._descriptor(), end - start, start).decode("utf-8")

    def get_range(self, lo: int, hi: int) -> bytes:
        """Entries ``lo`` to ``hi - 1``, joined, in one read."""
        start = int(self.ends[lo - 1]) if lo else 0
        end = int(self.ends[hi - 1]) if hi > lo else start
        return os.pread(self._descriptor(), end - start, start)

    def get_many(self, lo: int, hi: int) -> list[str]:
        """Entries ``lo`` to ``hi - 1``, in one read."""
        blob = self.get_range(lo, hi)
        ends = (self.ends[lo:hi] - (self.ends[lo - 1] if lo else 0)).tolist()
        return [blob[start:end].decode("utf-8") for start, end in zip([0, *ends[:-1]], ends)]

    def keep_open(self) -> None:
        """Open the file now, so that entries stay readable after the spool is closed
        (its file unlinked); the descriptor closes when this reader is collected."""
        if self._fd is None:
            weakref.finalize(self, os.close, self._descriptor())

    def _descriptor(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        return self._fd


class RowSpool(_TempFile):
    """Rows of a fixed size (``width`` values of ``dtype``) appended to a temp file, read back
    through a memory map: no offsets are kept, and a worker gathers any rows in one step."""

    def __init__(self, dtype: np.dtype | str, width: int, directory: str | None = None) -> None:
        super().__init__(".rows", directory)
        self.dtype = np.dtype(dtype)
        self.width = width
        self._count = 0

    def append(self, rows: bytes) -> None:
        """Append whole rows, as their bytes."""
        self._write(rows)
        self._count += len(rows) // (self.dtype.itemsize * self.width)

    def reader(self) -> RowReader:
        self._flush()
        return RowReader(self.path, self.dtype, self.width, self._count)


class RowReader:
    """Reads the rows of a :class:`RowSpool`; cheap to send to worker processes (the map is
    opened where it is first used)."""

    def __init__(self, path: str, dtype: np.dtype, width: int, count: int) -> None:
        self.path, self.dtype, self.width, self.count = path, dtype, width, count
        self._map: np.ndarray | None = None

    def __len__(self) -> int:
        return self.count

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_map": None}

    def rows(self, index: np.ndarray) -> np.ndarray:
        """The rows at positions ``index``: a ``len(index) x width`` array."""
        if self._map is None:
            self._map = (np.memmap(self.path, dtype=self.dtype, mode="r", shape=(self.count, self.width))
                         if self.count else np.zeros((0, self.width), dtype=self.dtype))
        rows: np.ndarray = self._map[index]
        return rows


def encode_all(texts: list[str]) -> tuple[bytes, np.ndarray]:
    """Texts as :meth:`Spool.extend_encoded` takes them: joined UTF-8 bytes and each one's size."""
    encoded = [t.encode("utf-8") for t in texts]
    return b"".join(encoded), np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
