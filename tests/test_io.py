"""Atomic outputs: complete or absent, never partial; unchanged content keeps the old file."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from ccanalysis.io import write_csv, write_parquet, write_text, write_with


def test_write_text_creates_parents_and_content(tmp_path) -> None:
    out = write_text(tmp_path / "a" / "b.txt", "x\ny\n")
    assert out.read_bytes() == b"x\ny\n"
    assert [p.name for p in out.parent.iterdir()] == ["b.txt"]


def test_failed_writer_leaves_previous_output_and_no_temporary_file(tmp_path) -> None:
    target = tmp_path / "table.csv"
    write_text(target, "old\n")

    def boom(tmp):
        tmp.write_text("half a ta")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_with(target, boom)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_identical_content_keeps_the_file_and_its_mtime(tmp_path) -> None:
    target = write_text(tmp_path / "t.txt", "same\n")
    os.utime(target, (1_000_000, 1_000_000))
    write_text(target, "same\n")
    assert target.stat().st_mtime == 1_000_000
    write_text(target, "changed\n")
    assert target.stat().st_mtime != 1_000_000
    assert target.read_text() == "changed\n"


def test_csv_and_parquet_are_byte_reproducible(tmp_path) -> None:
    frame = pd.DataFrame({"item": ["a", "b"], "value": [1.5, 2.0]})
    a = write_csv(frame, tmp_path / "a.csv").read_bytes()
    b = write_csv(frame, tmp_path / "b.csv").read_bytes()
    assert a == b == b"item,value\na,1.5\nb,2.0\n"
    p1 = write_parquet(frame, tmp_path / "a.parquet").read_bytes()
    p2 = write_parquet(frame, tmp_path / "b.parquet").read_bytes()
    assert p1 == p2
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a.parquet"), frame)
