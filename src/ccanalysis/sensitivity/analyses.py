"""The analyses of the sensitivity table: their ids in display order, and how they are named.

One place for the names, so that the display tables, the conclusions and the differences figure
call an analysis the same thing.
"""

from __future__ import annotations

#: Analysis id -> (column header of the display tables, legend text of a figure), display order.
ANALYSIS_NAMES: dict[str, tuple[str, str]] = {
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
        "Std. to ISW",
        "Standardized to the ISW clinics' rurality x system size (cluster bootstrap)",
    ),
    "standardized_total": (
        "Std. to total",
        "Standardized to all clinics' rurality x system size (cluster bootstrap)",
    ),
}
#: Analysis ids, in display order.
ANALYSES: tuple[str, ...] = tuple(ANALYSIS_NAMES)
