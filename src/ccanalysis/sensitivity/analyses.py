"""The analyses of the sensitivity table: their ids in table order, and how they are named.

One place for the names, so that the display tables, the conclusions and the differences figure
call an analysis the same thing. The standardizations name the compared group and the strata:
:func:`analysis_names` gives the names of another grouping (``analyze(..., by=...)``).
"""

from __future__ import annotations


def analysis_names(
    comparison: str = "ISW", strata: str = "rurality x system size"
) -> dict[str, tuple[str, str]]:
    """Analysis id -> (column header of the display tables, legend text of a figure), in display
    order; ``comparison``: the short name of the comparison group, whose strata
    ``standardized_isw`` standardizes to; ``strata``: what the strata are."""
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


#: The names of the care models' comparison (the stage's), display order.
ANALYSIS_NAMES: dict[str, tuple[str, str]] = analysis_names()
#: Analysis ids, in display order.
ANALYSES: tuple[str, ...] = tuple(ANALYSIS_NAMES)
