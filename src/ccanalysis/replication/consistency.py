"""The consistency check of the printed tables, independent of any data: its three sections.

``pvalue`` (:mod:`~ccanalysis.replication.pvalues`): the range of p-values the printed
percentages or means allow under the paper's test and its alternatives; ``grim``
(:mod:`~ccanalysis.replication.grim`): whether whole answers can produce the printed numbers;
``text`` (:mod:`~ccanalysis.replication.claims`): the numbers the text quotes, against the tables.
One long frame, a row per check, with a ``section`` column.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ccanalysis.replication.claims import TextClaim, check_text
from ccanalysis.replication.grim import check_grim
from ccanalysis.replication.pvalues import check_consistency
from ccanalysis.replication.rows import CONSISTENCY_COLUMNS
from ccanalysis.spec import Spec

#: Verdicts a reader should look at: no test explains the printed p, only another test does, or
#: the text and the tables disagree.
FLAGGED = ("inconsistent", "consistent_other_test", "disagree")


def check_published(
    published_long: pd.DataFrame,
    spec: Spec,
    facts: pd.DataFrame,
    claims: Sequence[TextClaim],
    *,
    max_missing_frac: float = 0.10,
    max_missing: int | None = None,
    mean_missing: int = 0,
    max_exact: int = 64,
    n_extreme: int = 16,
) -> pd.DataFrame:
    """The whole consistency check of the printed tables: sections pvalue, grim and text.

    Parameters
    ----------
    published_long, spec, facts, claims : the printed tables, the table specification, the study
        facts and the text claims.
    max_missing_frac, max_missing : item nonresponse allowed per group (floor(frac * N), capped
        by ``max_missing`` when given).
    mean_missing : nonresponse allowed for mean/SD rows (default 0: the printed N).
    max_exact, n_extreme : above ``max_exact`` candidate tables the tests are computed on the
        ``n_extreme`` tables at each end of the Pearson (and Yates) statistic, doubled adaptively.
    """
    pv, gr_pct = check_consistency(
        published_long,
        spec,
        max_missing_frac=max_missing_frac,
        max_missing=max_missing,
        mean_missing=mean_missing,
        max_exact=max_exact,
        n_extreme=n_extreme,
    )
    gr = check_grim(
        published_long, spec, max_missing_frac=max_missing_frac, max_missing=max_missing
    )
    tx = check_text(published_long, facts, claims)
    frames = [f for f in (pv, gr, gr_pct, tx) if len(f)]
    out = pd.concat(frames, ignore_index=True)
    return out[CONSISTENCY_COLUMNS]


def consistency_summary(consistency: pd.DataFrame) -> pd.DataFrame:
    """Rows per section and verdict (and per table)."""
    return (
        consistency.groupby(["section", "table", "verdict"], sort=True, dropna=False)
        .size()
        .rename("rows")
        .reset_index()
    )


def flagged(consistency: pd.DataFrame) -> pd.DataFrame:
    """The checks a reader should look at (:data:`FLAGGED` verdicts), in report order."""
    return consistency[consistency["verdict"].isin(FLAGGED)]


def describe(checks: pd.DataFrame) -> str:
    """Each check as a heading line and its explanation, to redo by hand."""
    return "".join(
        f"[{r.section}] {r.table} {r.item} {r.level or ''}: {r.verdict}\n    {r.explanation}\n\n"
        for r in checks.itertuples()
    )
