"""The calibration targets: the numbers printed in the paper, and the layout of the printed rows.

The synthesizer is the one analysis-side reader of ``data/published/`` (the replication step reads
it too, as its reference): ``published_long.csv`` holds every number printed in the tables, as
printed; ``study_facts.csv`` the counts the paper gives in its text. Which answer levels a printed
row counts and how an item is shown come from the table specification, read by
:func:`ccanalysis.spec.read_spec` (its typed rows; the ``combine`` rule is parsed there).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ccanalysis.published import read_published, read_study_facts
from ccanalysis.spec import Spec, read_spec
from ccanalysis.vocab import TOTAL


@dataclass(frozen=True)
class Targets:
    """The printed numbers (calibration targets) and the table specification.

    Attributes
    ----------
    published : DataFrame
        ``published_long.csv``: table, item, level, group, measure, value (value as printed, text).
    spec : Spec
        The table specification (:func:`ccanalysis.spec.read_spec`).
    facts : dict
        ``study_facts.csv``: key -> value (text).
    source : str
        Where the targets were read from.
    """

    published: pd.DataFrame
    spec: Spec
    facts: dict[str, str]
    source: str = ""

    def get(self, table: str, item: str, level: str, group: str, measure: str) -> float | None:
        """A printed number, or None if not printed."""
        key = (table, item, level, group, measure)
        return self._index.get(key)

    @property
    def _index(self) -> dict[tuple[str, str, str, str, str], float]:
        cached = self.__dict__.get("_idx")
        if cached is None:
            cached = {}
            for row in self.published.itertuples(index=False):
                if row.measure == "p":
                    continue
                cached[(row.table, row.item, row.level, row.group, row.measure)] = float(row.value)
            object.__setattr__(self, "_idx", cached)
        return cached

    def printed(self, table: str, item: str, level: str | None = None) -> bool:
        """Does ``table`` print any number (p-values aside) of ``item`` (of its ``level``)?"""
        cached = self.__dict__.get("_printed")
        if cached is None:
            cached = {k[:3] for k in self._index} | {k[:2] for k in self._index}
            object.__setattr__(self, "_printed", cached)
        return ((table, item) if level is None else (table, item, level)) in cached

    def fact(self, key: str) -> float:
        return float(self.facts[key])

    def p_text(self, table: str, item: str) -> str | None:
        """The printed p-value of an item, as text (``"0.007"``, ``"<0.001"``), or None."""
        rows = self.published
        sel = rows[(rows.table == table) & (rows.item == item) & (rows.measure == "p")]
        return None if sel.empty else str(sel.iloc[0]["value"]).strip()

    def group_sizes(self, table: str, groups: Sequence[str]) -> dict[str, int]:
        """The printed N of each group of ``table``."""
        return {g: int(self.get(table, "n", "", g, "n")) for g in groups}  # type: ignore[arg-type]


def load_targets(published_dir: str | Path, spec: Spec | None = None) -> Targets:
    """Read the published tables (``published_long.csv``, ``study_facts.csv``).

    Parameters
    ----------
    published_dir : path
        The ``data/published`` directory.
    spec : Spec, optional
        The table specification; default :func:`ccanalysis.spec.read_spec` (the package's, checked
        against the project's data dictionary).
    """
    published = read_published(published_dir)
    facts_df = read_study_facts(published_dir)
    facts = dict(zip(facts_df["key"], facts_df["value"], strict=True))
    return Targets(published, spec if spec is not None else read_spec(), facts, str(published_dir))


def structure_targets(t: Targets) -> dict[str, float]:
    """The printed counts the structure is built to: clinics, coordinators, systems, criteria.

    From Tables 1 and 2 and the facts of the paper's text; the care-model criteria of Table 2 as
    ``mn_<item>`` (clinics of the medical/nursing model answering yes).
    """
    g = t.get
    return {
        "clinics": g("table2", "n", "", TOTAL, "n"),
        "isw_clinics": g("table2", "n", "", "isw", "n"),
        "coord_mn_only": g("table1", "n", "", "mn_only", "n"),
        "coord_isw_only": g("table1", "n", "", "isw_only", "n"),
        "coord_both": g("table1", "n", "", "both", "n"),
        "multi_mn_only": g("table1", "multi_clinic", "yes", "mn_only", "n"),
        "multi_isw_only": g("table1", "multi_clinic", "yes", "isw_only", "n"),
        "multi_both": g("table1", "multi_clinic", "yes", "both", "n"),
        "sw_degree_mn_only": g("table1", "degree", "msw_bsw", "mn_only", "n"),
        "sw_degree_isw_only": g("table1", "degree", "msw_bsw", "isw_only", "n"),
        "sw_degree_both": g("table1", "degree", "msw_bsw", "both", "n"),
        "sw_degree_clinics": t.fact("clinics_reported_by_sw_degree_coordinators"),
        "max_clinics": t.fact("coordinators_max_clinics"),
        "systems_small": t.fact("care_systems_small_1_2_clinics"),
        "systems_medium": t.fact("care_systems_medium_3_9_clinics"),
        "systems_large": t.fact("care_systems_large_over_9_clinics"),
        "urban_pct": t.fact("urban_pct_ruca_1_3"),
        **{
            f"mn_{item}": g("table2", item, "yes", "mn", "n")
            for item in t.spec.items("table2")
            if g("table2", item, "yes", "mn", "n") is not None
        },
        "mn_engage_difficult": t.fact("mn_sw_on_team_difficult_to_engage"),
        "isw_engage_easy_pct": t.fact("isw_easy_to_engage_sw_pct"),
    }
