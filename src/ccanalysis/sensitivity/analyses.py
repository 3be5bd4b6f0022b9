"""The analyses of the sensitivity table: their ids in table order, and their names.

One place for the names, so that the comparison tables, the page and the differences figure call
an analysis the same thing; :func:`analysis_names` names the standardizations of another
grouping (``analyze(..., by=...)``) after its comparison group and strata.
"""

from __future__ import annotations


def analysis_names(
    comparison: str = "ISW", strata: str = "rurality x system size"
) -> dict[str, tuple[str, str]]:
    """Analysis id -> (column header of the comparison tables, legend text of a figure), in
    table order; ``comparison``: the short name of the group whose strata ``standardized_isw``
    standardizes to; ``strata``: what the strata are."""
    return {
        "unadjusted": ("Crude", "Crude (Newcombe / Student t interval)"),
        "gee_care_system": (
            "Clustered",
            "Clustered by care system (GEE, independence; Mancl-DeRouen SE, t(K - 2))",
        ),
        "gee_care_system_exchangeable": (
            "Exchangeable",
            "Clustered by care system, exchangeable correlation (cluster-weighted estimand)",
        ),
        "gee_coordinator": ("Coordinator", "Clustered by coordinator (GEE, independence)"),
        "standardized_isw": (
            f"Std. to {comparison}",
            f"Standardized to the {comparison} clinics' {strata} (cluster bootstrap)",
        ),
        "standardized_total": (
            "Std. to total",
            f"Standardized to all clinics' {strata} (cluster bootstrap)",
        ),
    }


#: The names of the care models' comparison (the stage's), in table order.
ANALYSIS_NAMES: dict[str, tuple[str, str]] = analysis_names()
#: Analysis ids, in table order.
ANALYSES: tuple[str, ...] = tuple(ANALYSIS_NAMES)
