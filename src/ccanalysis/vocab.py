"""The study's vocabulary, named once for every stage: care models, groups and their labels, the
criteria, the cut-points, the seed and the small-cell threshold."""

from __future__ import annotations

#: Care model of a clinic (``care_model`` of ``clinics.parquet``), in display order.
CARE_MODELS: tuple[str, ...] = ("medical_nursing", "integrated_sw")
#: The table group of each care model.
MODEL_GROUP: dict[str, str] = {"medical_nursing": "mn", "integrated_sw": "isw"}
#: Groups of clinics (``group`` of ``clinics.parquet``; the columns of Tables 2-4).
CLINIC_GROUPS: tuple[str, ...] = ("mn", "isw")
#: Groups of coordinators by the models of the clinics they report on (Table 1's columns).
COORDINATOR_GROUPS: tuple[str, ...] = ("mn_only", "isw_only", "both")
#: The whole sample, the first column of every table.
TOTAL = "total"
#: The difference columns: (comparison group, reference group), comparison minus reference.
CLINIC_COMPARISON: tuple[str, str] = ("isw", "mn")
COORDINATOR_COMPARISON: tuple[str, str] = ("isw_only", "mn_only")

#: Each group's label and short label.
_LABELS: dict[str, tuple[str, str]] = {
    "total": ("Total", "Total"),
    "mn": ("Medical/Nursing Model", "MN"),
    "isw": ("Integrated Social Worker Model", "ISW"),
    "mn_only": ("Only Work in Medical/Nursing Clinics", "MN only"),
    "isw_only": ("Only Work in Integrated Social Worker Clinics", "ISW only"),
    "both": ("Work in Both Clinic Models", "both"),
}
GROUP_LABELS: dict[str, str] = {group: long for group, (long, _) in _LABELS.items()}
SHORT_LABELS: dict[str, str] = {group: short for group, (_, short) in _LABELS.items()}

#: The four criteria of the integrated social worker model (Table 2), in the paper's order.
CRITERIA: tuple[str, ...] = (
    "sw_on_team",
    "sw_responsible",
    "sw_interacts_patients",
    "sw_interacts_clinicians",
)
#: Items the analysis derives (not in the data dictionary), with their levels.
DERIVED_ITEMS: dict[str, tuple[str, ...]] = {"isw_model": ("yes", "no")}

#: RUCA codes 1-3 are metropolitan (urban); 4-10 rural.
RUCA_MIN, RUCA_MAX = 1, 10
URBAN_MAX_RUCA = 3
#: Care-system size by its number of clinics: small 1-2, medium 3-9, large more.
SYSTEM_SIZES: tuple[str, ...] = ("small", "medium", "large")
#: Upper bound (inclusive) of the number of clinics of a small and of a medium care system.
SMALL_MAX, MEDIUM_MAX = 2, 9

#: The paper's care model definition, the default (``make all DEFINITION=...`` picks another).
DEFAULT_DEFINITION = "paper"

#: The seed of every random step of a run (``make all SEED=...`` overrides it).
DEFAULT_SEED = 20240325
#: Privacy mode: counts of 1 to MIN_CELL - 1 clinics or coordinators are never shown.
MIN_CELL = 11

#: Marker written into every artifact built from the synthetic stand-in.
SYNTHETIC_LABEL = (
    "SYNTHETIC DATA: calibrated stand-in for the confidential survey export, not real responses"
)
