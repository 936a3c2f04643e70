"""The temporary text store between the batch run's passes: a real file, read back by position."""

from __future__ import annotations

import os
import pickle

from dedup.spool import Spool, encode_all

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
