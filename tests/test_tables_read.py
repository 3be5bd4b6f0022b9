"""The one reader of tables/tableN.csv (ccanalysis.tables.read): what each cell becomes."""

from __future__ import annotations

import math

import pandas as pd

from ccanalysis.tables import long_csv
from ccanalysis.tables.read import as_long, group_sizes, read_long

CSV = (
    "table,item,level,group,measure,value,diff,q,test,note\n"
    "table3,n,,total,n,317,,,,\n"
    "table3,n,,mn,n,178,,,,\n"
    "table3,n,,isw,n,,,,,<11\n"
    "table3,svc_x,NA,mn,pct,12.5,-3.25,0.04,fisher,\n"
    "table3,svc_x,None,isw,pct,<11,,,,<11\n"
    "table3,svc_x,,all,p,0.0123,,0.04,fisher,\n"
)


def test_keys_are_text_numbers_are_floats_and_what_is_not_a_number_is_missing(tmp_path) -> None:
    path = tmp_path / "table3.csv"
    path.write_text(CSV)
    long = read_long(path)
    # an empty key is "", a level called NA or None stays that text (pandas' default: missing)
    assert list(long["level"]) == ["", "", "", "NA", "None", ""]
    assert list(long["group"]) == ["total", "mn", "isw", "mn", "isw", "all"]
    for col in ("value", "diff", "q"):
        assert long[col].dtype == float
    assert list(long["value"].iloc[:2]) == [317.0, 178.0]
    assert math.isnan(long["value"].iloc[2])  # empty
    assert math.isnan(long["value"].iloc[4])  # suppressed in privacy mode
    assert long["diff"].iloc[3] == -3.25
    # other text as written, an empty cell missing
    assert long["test"].iloc[3] == "fisher" and pd.isna(long["test"].iloc[0])
    assert long["note"].iloc[4] == "<11"


def test_group_sizes_leave_out_a_group_without_a_number(tmp_path) -> None:
    path = tmp_path / "table3.csv"
    path.write_text(CSV)
    assert group_sizes(read_long(path)) == {"total": 317, "mn": 178}


def test_a_table_in_memory_follows_the_same_rules_as_its_file(tmp_path) -> None:
    frame = pd.DataFrame(
        {
            "table": ["t"] * 3,
            "item": ["n", "x", "x"],
            "level": [None, "yes", "NA"],
            "group": pd.Categorical(["total", "a", "b"]),
            "measure": ["n", "pct", "pct"],
            "value": [20, 55.5, 45.0],
        }
    )
    path = tmp_path / "t.csv"
    path.write_text(long_csv(frame))
    from_file, in_memory = read_long(path), as_long(frame)
    assert list(in_memory["level"]) == ["", "yes", "NA"]
    assert list(in_memory["group"]) == ["total", "a", "b"]
    pd.testing.assert_frame_equal(from_file, in_memory, check_dtype=False)
    assert from_file["value"].tolist() == [20.0, 55.5, 45.0]
