"""The temporary text store between the batch run's passes: a real file, read back by position."""

from __future__ import annotations

import os
import pickle

import numpy as np

from dedup.spool import RowSpool, Spool, encode_all

TEXTS = ["first", "", "caf\u00e9 \u2014 \u201cquoted\u201d", "line one\nline two", "x" * 10_000]


def test_entries_come_back_whole_and_in_order_however_they_were_added() -> None:
    spool = Spool()
    try:
        spool.extend(TEXTS[:2])
        spool.extend_encoded(*encode_all(TEXTS[2:]))
        spool.extend(["last"])
        reader = spool.reader()
        expected = [*TEXTS, "last"]
        assert len(spool) == len(reader) == len(expected)
        assert [reader.get(k) for k in range(len(expected))] == expected
        assert reader.get_many(0, len(expected)) == expected and reader.get_many(1, 4) == expected[1:4]
        assert reader.get_many(2, 2) == []
        clone = pickle.loads(pickle.dumps(reader))  # as sent to a worker process
        assert clone.get(2) == TEXTS[2]
        reader.keep_open()
    finally:
        spool.close()
    assert not os.path.exists(spool.path)
    assert reader.get(4) == TEXTS[4]  # still readable through the open descriptor


def test_an_empty_batch_adds_nothing() -> None:
    spool = Spool()
    try:
        spool.extend_encoded(*encode_all([]))
        spool.extend(["only"])
        assert [spool.reader().get(0)] == ["only"] and len(spool) == 1
    finally:
        spool.close()


def test_rows_come_back_by_position_in_any_order() -> None:
    rows = np.arange(7 * 4, dtype="<u2").reshape(7, 4) * 1000
    spool = RowSpool("<u2", 4)
    try:
        assert len(spool.reader()) == 0 and spool.reader().rows(np.zeros(0, dtype=np.int64)).shape == (0, 4)
        spool.append(rows[:3].tobytes())
        spool.append(b"")
        spool.append(rows[3:].tobytes())
        reader = spool.reader()
        index = np.array([6, 0, 6, 3, 1])
        assert len(reader) == 7 and np.array_equal(reader.rows(index), rows[index])
        clone = pickle.loads(pickle.dumps(reader))  # as sent to a worker process: opens its own map
        assert clone._map is None and np.array_equal(clone.rows(np.array([5])), rows[[5]])
    finally:
        spool.close()
    assert not os.path.exists(spool.path)
