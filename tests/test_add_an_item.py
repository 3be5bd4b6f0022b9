"""The README's "Adding or changing an item", followed as a student would, in a copy of the
checkout: a numeric item with its unit and a check-all-that-apply question, each a row of the data
dictionary and rows of ``specs/tables.csv``; then ``make all`` and the unit tests that read items.

Why not ``make test`` itself in the copy: it is ``make all`` plus the unit suite, nbval, the
tutorials, the docs check and the e2e tests. An item reaches only what reads the dictionary, the
table specification or the fixture exports: the pipeline (``make all``, run here) and the unit
tests of :data:`ITEM_TESTS` (run here, on the copy's dictionary and fixtures). nbval re-executes the
notebooks ``make all`` has just run, the tutorials build their own scratch projects, the docs
check compares the committed ``docs/`` (which ``make docs`` refreshes after any change), and the
other e2e tests do not depend on which items there are; running them again would add minutes to
``make test`` and test nothing the item changes.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_e2e import CLEAN_ENV, copy_checkout

pytestmark = [pytest.mark.e2e, pytest.mark.own_checkout]

#: The unit tests that read the dictionary, the specification or the fixture exports.
ITEM_TESTS = (
    "tests/test_instrument.py",
    "tests/test_redcap.py",
    "tests/test_clean.py",
    "tests/test_classify.py",
    "tests/test_tables.py",
    "tests/test_tables_read.py",
    "tests/test_analysis.py",
    "tests/test_synth.py",
    "tests/test_sensitivity.py",
)
#: Step 1: the dictionary rows (REDCap's 18 columns; the project's tags in Field Annotation).
DICTIONARY_ROWS = [
    ["sw_caseload", "activities", "", "text", "How many patients does the social worker follow?",
     "", "", "integer", "0", "400", "", "", "", "", "", "", "",
     '@CC-UNIT="patients" @CC-SYNTH="normal(60, 20)"'],
    ["huddle_topics", "activities", "", "checkbox",
     "What does the team discuss at its huddles? (check all that apply)",
     "1, Care gaps | 2, Transitions of care | 3, Social needs", "", "", "", "", "", "", "", "",
     "", "", "", '@CC-ITEMS="1=huddle_gaps 2=huddle_transitions 3=huddle_social" '
     '@CC-SYNTH="1=0.6 2=0.5 3=0.3"'],
]  # fmt: skip
#: Step 2: the table rows.
SPEC_ROWS = """\
table3,,sw_caseload,,Patients per social worker – Mean (SD),mean_sd,full,,student_t,answered,,tables_3_4
table3,Huddle topics:,huddle_gaps,yes,Care gaps,pct,binary,,fisher,answered,,tables_3_4
table3,Huddle topics:,huddle_transitions,yes,Transitions of care,pct,binary,,fisher,answered,,tables_3_4
table3,Huddle topics:,huddle_social,yes,Social needs,pct,binary,,fisher,answered,,tables_3_4
"""


def add_the_items(project: Path) -> None:
    """Steps 1 and 2 of the README: a row per field in the dictionary, rows in the spec."""
    with open(
        project / "data/raw/cc_survey_dictionary.csv", "a", newline="", encoding="utf-8"
    ) as f:
        csv.writer(f, lineterminator="\n").writerows(DICTIONARY_ROWS)
    with open(project / "src/ccanalysis/specs/tables.csv", "a", encoding="utf-8") as f:
        f.write(SPEC_ROWS)


def test_a_numeric_item_and_a_checkbox_question_added_as_the_readme_says(tmp_path: Path) -> None:
    project = copy_checkout(tmp_path / "project")
    add_the_items(project)
    env = CLEAN_ENV | {"PYTHONPATH": str(project / "src")}  # the copy's package, not this one's
    run = subprocess.run(  # one stage at a time: in `make test` this is one job beside others
        ["make", "-j1", "all"], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]

    table3 = pd.read_csv(project / "tables/table3.csv", keep_default_na=False)
    means = table3.query("item == 'sw_caseload' and measure == 'mean'")
    assert means["value"].astype(float).between(20, 100).all() and len(means) == 3
    boxes = table3.query("item.str.startswith('huddle_') and measure == 'pct'")
    assert set(boxes["item"]) == {"huddle_gaps", "huddle_transitions", "huddle_social"}
    md = (project / "tables/table3.md").read_text(encoding="utf-8")
    assert "Synthetic answers not calibrated to a printed number" in md
    assert "no box checked counts as unanswered" in md
    sensitivity = pd.read_csv(project / "tables/sensitivity.csv", keep_default_na=False)
    assert set(sensitivity.query("item == 'sw_caseload'")["unit"]) == {"patients"}

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:nbval",
         "-m", "not e2e", *ITEM_TESTS],
        cwd=project, env=env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert tests.returncode == 0, (tests.stdout + tests.stderr)[-4000:]
