"""The survey drawn from one seeded generator in a fixed order.

Care model (Table 2): integrated clinics meet all four criteria; medical/nursing ones meet the
printed numbers of each on overlapping subsets, never all four. The ease of engaging the social
worker splits as the text gives, the rest as ``ENGAGE_*`` (assumed).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ccanalysis import __version__
from ccanalysis.instrument import Field, Instrument
from ccanalysis.synth import uncalibrated
from ccanalysis.synth.answers import (
    PAIRED,
    SYSTEM_SHARE,
    assign_by_group,
    checkbox_question,
    degree_answers,
    latent,
    numeric_item,
    rank_assign,
)
from ccanalysis.synth.calibration import Calibration
from ccanalysis.synth.categorical import apportion, counts_printing_as
from ccanalysis.synth.export import SyntheticSurvey, export_frame, ids
from ccanalysis.synth.structure import Structure, build_structure, gumbel_top
from ccanalysis.synth.targets import Targets
from ccanalysis.vocab import CARE_MODELS, CRITERIA, DEFAULT_SEED, SYNTHETIC_LABEL

#: The care-model question asked where a social worker is on the team (counts in the text only).
ENGAGE_ITEM = "sw_engage_ease"
ENGAGE_LADDER = ("very_easy", "somewhat_easy", "somewhat_difficult", "very_difficult")
#: Medical/nursing very easy : somewhat easy : very difficult; integrated: very easy among easy,
#: somewhat difficult among difficult.
ENGAGE_MN_REST = (2, 4, 3)
ENGAGE_ISW_VERY_EASY = 0.55
ENGAGE_ISW_SOMEWHAT_DIFFICULT = 0.8
#: Probability that a coordinator with a nursing bachelor/master also checks "RN".
P_BSN_ALSO_RN = 0.3


def synthesize(
    instrument: Instrument,
    targets: Targets,
    *,
    calibration: Calibration,
    seed: int = DEFAULT_SEED,
    scale: float = 1,
) -> SyntheticSurvey:
    """The survey of ``calibration``, drawn with ``seed`` at ``scale`` times the study's size."""
    cal = calibration
    rng = np.random.default_rng(seed)
    st = build_structure(targets, scale, rng)
    n_cl, nc, n_sys = len(st.clinic_coord), len(st.coord_group), len(st.system_cat)
    items = instrument.analysis_items()
    # ids: random numbering so that ids carry no structure
    sys_id = ids("S", n_sys, 2)[rng.permutation(n_sys)]
    coord_id = ids("K", nc, 3)[rng.permutation(nc)]
    clinic_id = ids("C", n_cl, 4)[rng.permutation(n_cl)]

    crit, ease, lat_clin = _care_model(rng, st, targets, items)
    # propensities to skip items (shared by a coordinator's records)
    coord_prop = rng.standard_normal(nc)
    clin_prop = 0.8 * coord_prop[st.clinic_coord] + 0.6 * rng.standard_normal(n_cl)
    lat_coord = latent(rng, np.arange(nc), nc, rho=1.0)
    level_index, also_checked, values = _answers(rng, cal, st, items, True, lat_coord, coord_prop)
    clinic_levels, _, clinic_values = _answers(rng, cal, st, items, False, lat_clin, clin_prop)
    level_index |= {ENGAGE_ITEM: ease, **clinic_levels}
    values |= clinic_values
    # the form answered once per coordinator: Table 1's
    form = items[next(i for i, p in cal.cat.items() if p.table == "table1")].form
    todo, blank = uncalibrated.draws(instrument, {*cal.cat, *cal.num, *crit, ENGAGE_ITEM})
    for item, d in todo.items():  # each from its own stream: other columns unaffected
        ans = uncalibrated.draw(d, seed, item, nc if d.field.form == form else n_cl)
        calibrated_boxes = [i for i in d.field.items.values() if i in cal.cat]
        if d.field.is_numeric:
            values[item] = ans
        elif d.kind == "box" and calibrated_boxes:  # only where the question is answered
            level_index[item] = np.where(level_index[calibrated_boxes[0]] >= 0, ans, -1)
        else:
            level_index[item] = ans

    fixed = {
        instrument.record_id: clinic_id,
        "coordinator_id": coord_id[st.clinic_coord],
        "care_system_id": sys_id[st.clinic_system],
        **crit,
    }
    export = export_frame(
        instrument, st.clinic_coord, form, fixed, level_index, also_checked, values
    )
    flags = uncalibrated.apply_branching(export, todo)
    flags += [f"left blank: {b} (the synthesizer draws choice and numeric fields)" for b in blank]
    frame = pd.DataFrame(
        {"clinic_id": clinic_id, "care_system_id": sys_id[st.clinic_system], "ruca": st.ruca}
    )
    model = np.where(st.clinic_isw, "integrated_sw", "medical_nursing")
    truth = pd.DataFrame({"clinic_id": clinic_id, "care_model": model})
    order = np.argsort(clinic_id, kind="stable")
    export, frame, truth = (df.iloc[order].reset_index(drop=True) for df in (export, frame, truth))
    meta = {
        "label": SYNTHETIC_LABEL,
        "generator": "ccanalysis.synth",
        "package_version": __version__,
        "seed": int(seed),
        "scale": scale,
        "clinics": int(n_cl),
        "coordinators": int(nc),
        "care_systems": int(n_sys),
        "care_systems_by_model": {
            m: int((st.system_model == i).sum()) for i, m in enumerate((*CARE_MODELS, "mixed"))
        },
        "clinics_in_mixed_systems": int((st.system_model[st.clinic_system] == 2).sum()),
        "calibration_notes": list(cal.notes),
        "system_share_of_latent": SYSTEM_SHARE,
    }
    if todo or flags:  # only then: the stand-in of an unchanged instrument stays byte-identical
        meta["uncalibrated_items"] = list(todo)
        meta["uncalibrated_notes"] = flags
    return SyntheticSurvey(export, frame, truth, meta, uncalibrated.table(todo, form))


def _care_model(
    rng: np.random.Generator, st: Structure, t: Targets, items: dict[str, Field]
) -> tuple[dict[str, np.ndarray], np.ndarray, Callable[..., np.ndarray]]:
    """The criteria (codes, -1: blank), the ease (level indices) and the clinics' latents."""
    isw = st.clinic_isw
    n_mn = t.get("table2", "n", "", "mn", "n")
    r1 = lambda x: int(round(x * int((~isw).sum()) / n_mn))  # noqa: E731
    mn = lambda item: r1(t.get("table2", item, "yes", "mn", "n"))  # noqa: E731
    gate, *gated = [c for c in CRITERIA if c in items]
    mn_idx = np.flatnonzero(~isw)
    large = st.system_cat[st.clinic_system] == 2
    mn_sw = rng.permutation(mn_idx[gumbel_top(rng, 0.7 * large[mn_idx], mn(gate))])
    crit = {c: np.full(len(isw), -1, np.int64) for c in (gate, *gated)}  # -1: blank (branching)
    crit[gate][:] = 0
    crit[gate][isw] = crit[gate][mn_sw] = 1
    k = [mn(c) for c in gated]
    for c, start, kk in zip(gated, [0, 0, k[0]], k, strict=True):
        crit[c][isw] = 1
        crit[c][mn_sw] = 0
        crit[c][mn_sw[start : start + kk]] = 1
    lv = items[ENGAGE_ITEM].level_order()
    ladder = [lv.index(x) for x in ENGAGE_LADDER]
    ease = np.full(len(isw), -1, np.int64)
    n_diff = r1(float(t.facts["mn_sw_on_team_difficult_to_engage"]))
    rest = apportion(len(mn_sw) - n_diff, np.array(ENGAGE_MN_REST, float))
    mn_counts = np.zeros(len(lv), np.int64)
    mn_counts[ladder] = [rest[0], rest[1], n_diff, rest[2]]
    easy_key = sum((crit[c][mn_sw] == 1).astype(int) for c in crit) + rng.random(len(mn_sw))
    ease[mn_sw[np.argsort(-easy_key, kind="stable")]] = np.repeat(np.arange(len(lv)), mn_counts)
    isw_idx = np.flatnonzero(isw)
    n_isw, pct_easy = len(isw_idx), float(t.facts["isw_easy_to_engage_sw_pct"])
    n_easy = min(
        counts_printing_as(n_isw, pct_easy, 0) or [round(pct_easy * n_isw / 100)],
        key=lambda c: abs(c - pct_easy * n_isw / 100),
    )
    ve = int(round(ENGAGE_ISW_VERY_EASY * n_easy))
    sdiff = int(round(ENGAGE_ISW_SOMEWHAT_DIFFICULT * (n_isw - n_easy)))
    isw_counts = np.zeros(len(lv), np.int64)
    isw_counts[ladder] = [ve, n_easy - ve, sdiff, n_isw - n_easy - sdiff]
    lat_clin = latent(rng, st.clinic_coord, len(st.coord_group), st.coord_system)
    ease[isw_idx] = rank_assign(lat_clin(ENGAGE_ITEM), isw_idx, isw_counts)
    return crit, ease, lat_clin


def _answers(
    rng: np.random.Generator,
    cal: Calibration,
    st: Structure,
    items: dict[str, Field],
    coordinators: bool,
    lat: Callable[..., np.ndarray],
    prop: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, dict[int, np.ndarray]], dict[str, np.ndarray]]:
    """Table 1's items, one answer per coordinator, or (not ``coordinators``) those of Tables 3
    and 4, one per clinic: level indices, boxes checked besides, values."""
    level_index: dict[str, np.ndarray] = {}
    also_checked: dict[str, dict[int, np.ndarray]] = {}
    values: dict[str, np.ndarray] = {}
    group = st.coord_group if coordinators else st.clinic_isw.astype(np.int64)  # 0 mn, 1 isw
    z: dict[str, np.ndarray] = {}
    for item, plan in cal.num.items():
        if (plan.table == "table1") == coordinators:
            partner = PAIRED.get(item)
            if partner in z:
                z[item] = z[partner] + 0.05 * rng.standard_normal(len(group))
            else:
                z[item] = lat(item)
            upper = values.get(partner) if partner else None
            values[item] = numeric_item(rng, plan, z[item], group, prop, upper)
    for item, cplan in cal.cat.items():
        if (cplan.table == "table1") != coordinators or item in level_index:
            continue
        f = items[item]
        if item == "degree":  # a nursing bachelor/master sometimes also checks RN
            idx = degree_answers(rng, cplan, st)
            j_bsn, j_rn = cplan.levels.index("msn_bsn"), cplan.levels.index("rn")
            also_checked[item] = {j_rn: (idx == j_bsn) & (rng.random(len(idx)) < P_BSN_ALSO_RN)}
        elif item == "multi_clinic":
            idx = np.where(st.coord_size > 1, cplan.levels.index("yes"), cplan.levels.index("no"))
        elif f.field_type == "checkbox" and f.items:
            plans = {i: cal.cat[i] for i in f.items.values() if i in cal.cat}
            level_index.update(checkbox_question(rng, plans, lat, group, prop, f.name))
            continue
        else:
            idx = assign_by_group(rng, cplan, lat(item), group, prop)
        level_index[item] = idx
    return level_index, also_checked, values
