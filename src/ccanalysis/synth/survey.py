"""Generating the survey: structure, then answers by table, then the export (seeded).

One random generator, seeded once, is drawn from in a fixed order: the structure
(:mod:`ccanalysis.synth.structure`), the random numbering of the ids, the care-model answers, the
nonresponse propensities, the coordinator form (one answer per coordinator, repeated on each of their
records), then the clinic items of Tables 3 and 4. The same seed therefore gives byte-identical files.

Care model (Table 2): integrated clinics answer yes to all four criteria; the printed number of
medical/nursing clinics have a social worker on the team (drawn with higher odds in large systems),
and the printed numbers of them answer yes to each later criterion, on overlapping but never
identical subsets, so that none meets all four. The later criteria and the ease of engaging the social
worker are blank where no social worker is on the team (branching logic). Ease of engaging: the
medical/nursing clinics with a social worker who find it somewhat difficult number as the paper's
text gives; the others split very easy : somewhat easy : very difficult as ``ENGAGE_MN_REST``
(clinics meeting more criteria find it easier); of the integrated clinics the printed share find it
easy (``ENGAGE_ISW_VERY_EASY`` of those very easy), the rest somewhat
(``ENGAGE_ISW_SOMEWHAT_DIFFICULT``) or very difficult.

Degrees: one category per coordinator as printed, the social work degrees where the structure put
them; a nursing bachelor/master also checks RN with probability ``P_BSN_ALSO_RN`` (the instrument's
``@CC-SINGLE`` order analyses it as the bachelor/master). Practicing in multiple clinics is the
structure's answer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ccanalysis import __version__
from ccanalysis.instrument import Field, Instrument
from ccanalysis.synth import uncalibrated
from ccanalysis.synth.answers import (
    PAIRED,
    Latent,
    assign_by_group,
    checkbox_question,
    degree_answers,
    numeric_item,
    rank_assign,
)
from ccanalysis.synth.calibration import Calibration, calibrate
from ccanalysis.synth.categorical import counts_printing_as
from ccanalysis.synth.export import SyntheticSurvey, export_frame, ids
from ccanalysis.synth.sampling import apportion, gumbel_top
from ccanalysis.synth.structure import Structure, build_structure
from ccanalysis.synth.targets import Targets, structure_targets
from ccanalysis.vocab import (
    CLINIC_GROUPS,
    COORDINATOR_GROUPS,
    CRITERIA,
    DEFAULT_SEED,
    SYNTHETIC_LABEL,
)

#: The care-model question asked where a social worker is on the team (in no printed table; the
#: paper's text gives its counts, ``study_facts.csv``).
ENGAGE_ITEM = "sw_engage_ease"
#: Split of the medical/nursing clinics with a social worker who do NOT find it somewhat difficult
#: to engage one (very easy : somewhat easy : very difficult), and of the integrated clinics:
#: share of very easy among "easy", share of somewhat difficult among "difficult".
ENGAGE_MN_REST = (2, 4, 3)
ENGAGE_ISW_VERY_EASY = 0.55
ENGAGE_ISW_SOMEWHAT_DIFFICULT = 0.8
#: Probability that a coordinator with a nursing bachelor/master also checks "RN".
P_BSN_ALSO_RN = 0.3


def synthesize(
    instrument: Instrument,
    targets: Targets,
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1,
    calibration: Calibration | None = None,
) -> SyntheticSurvey:
    """Generate the synthetic REDCap export, clinic frame and truth.

    Parameters
    ----------
    instrument : Instrument
        The data dictionary (:func:`ccanalysis.instrument.read_dictionary`).
    targets : Targets
        The printed tables (:func:`ccanalysis.synth.load_targets`).
    seed : int
        Seed of the random generator; the same seed gives identical output.
    scale : float
        Multiplies clinics, coordinators and care systems (1 = the study).
    calibration : Calibration, optional
        A precomputed :func:`ccanalysis.synth.calibrate` result (saves its time when generating
        repeatedly).

    Returns
    -------
    SyntheticSurvey
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    cal = calibration or calibrate(instrument, targets)
    rng = np.random.default_rng(seed)
    counts = structure_targets(targets)
    st = build_structure(counts, scale, rng)
    n_cl = len(st.clinic_coord)
    nc = len(st.coord_group)
    items = instrument.analysis_items()

    # ids: random numbering so that ids carry no structure
    sys_perm = rng.permutation(len(st.system_cat))
    coord_perm = rng.permutation(nc)
    clinic_perm = rng.permutation(n_cl)
    sys_id = ids("S", len(st.system_cat), 2)[sys_perm]
    coord_id = ids("K", nc, 3)[coord_perm]
    clinic_id = ids("C", n_cl, 4)[clinic_perm]

    crit, ease, lat_clin = _care_model(rng, st, counts, items)

    # ---- propensities to skip items (shared by a coordinator's records) ----
    coord_prop = rng.standard_normal(nc)
    clin_prop = 0.8 * coord_prop[st.clinic_coord] + 0.6 * rng.standard_normal(n_cl)

    level_index: dict[str, np.ndarray] = {ENGAGE_ITEM: ease}
    also_checked: dict[str, dict[int, np.ndarray]] = {}
    values: dict[str, np.ndarray] = {}
    _coordinator_form_answers(rng, cal, st, items, coord_prop, level_index, also_checked, values)
    _clinic_answers(rng, cal, st, items, lat_clin, clin_prop, level_index, values)
    form = coordinator_form(instrument, cal)
    todo, blank = uncalibrated.draws(instrument, {*cal.cat, *cal.num, *crit, ENGAGE_ITEM})
    _uncalibrated_answers(todo, cal, seed, form, nc, n_cl, level_index, values)

    export = export_frame(
        instrument,
        record_ids=clinic_id,
        coordinator_ids=coord_id,
        system_ids=sys_id[st.clinic_system],
        coord_of=st.clinic_coord,
        coordinator_form=form,
        fixed=crit,
        level_index=level_index,
        also_checked=also_checked,
        values=values,
    )
    flags = uncalibrated.apply_branching(export, todo)
    flags += [f"left blank: {b} (the synthesizer draws choice and numeric fields)" for b in blank]
    order = np.argsort(clinic_id, kind="stable")
    export = export.iloc[order].reset_index(drop=True)
    frame = (
        pd.DataFrame(
            {
                "clinic_id": clinic_id,
                "care_system_id": sys_id[st.clinic_system],
                "ruca": st.ruca,
            }
        )
        .iloc[order]
        .reset_index(drop=True)
    )
    truth = (
        pd.DataFrame(
            {
                "clinic_id": clinic_id,
                "care_model": np.where(st.clinic_isw, "integrated_sw", "medical_nursing"),
            }
        )
        .iloc[order]
        .reset_index(drop=True)
    )
    meta = {
        "label": SYNTHETIC_LABEL,
        "generator": "ccanalysis.synth",
        "package_version": __version__,
        "seed": int(seed),
        "scale": scale,
        "clinics": int(n_cl),
        "coordinators": int(nc),
        "care_systems": int(len(st.system_cat)),
        "calibration_notes": list(cal.notes),
    }
    if todo or flags:  # only then: the stand-in of an unchanged instrument stays byte-identical
        meta["uncalibrated_items"] = list(todo)
        meta["uncalibrated_notes"] = flags
    return SyntheticSurvey(export, frame, truth, meta, uncalibrated.table(todo, form))


def _uncalibrated_answers(
    todo: dict[str, uncalibrated.Draw],
    cal: Calibration,
    seed: int,
    form: str,
    nc: int,
    n_cl: int,
    level_index: dict[str, np.ndarray],
    values: dict[str, np.ndarray],
) -> None:
    """The items without printed numbers, each from its own stream (other columns unaffected)."""
    for item, d in todo.items():
        ans = uncalibrated.draw(
            d, uncalibrated.stream(seed, item), nc if d.field.form == form else n_cl
        )
        if d.field.is_numeric:
            values[item] = ans
            continue
        calibrated_boxes = [i for i in d.field.items.values() if i in cal.cat]
        if d.kind == "box" and calibrated_boxes:  # only where the question is answered
            ans = np.where(level_index[calibrated_boxes[0]] >= 0, ans, -1)
        level_index[item] = ans


def _care_model(
    rng: np.random.Generator, st: Structure, s: dict[str, float], items: dict[str, Field]
) -> tuple[dict[str, np.ndarray], np.ndarray, Latent]:
    """The criteria (codes per clinic, -1 = blank), the ease of engaging the social worker (level
    index per clinic) and the clinics' latents (drawn here, as the ease is the first item to use
    them)."""
    n_cl = len(st.clinic_coord)
    nc = len(st.coord_group)
    isw = st.clinic_isw
    n_mn = int((~isw).sum())
    r1 = lambda x: int(round(x * n_mn / (s["clinics"] - s["isw_clinics"])))  # noqa: E731
    gate, *gated = [c for c in CRITERIA if c in items]
    mn_idx = np.flatnonzero(~isw)
    large = st.system_cat[st.clinic_system] == 2
    mn_sw = mn_idx[gumbel_top(rng, 0.7 * large[mn_idx], r1(s[f"mn_{gate}"]))]
    mn_sw = rng.permutation(mn_sw)
    crit = {c: np.full(n_cl, -1, np.int64) for c in (gate, *gated)}  # -1 = blank (branching)
    crit[gate][:] = 0
    crit[gate][isw] = 1
    crit[gate][mn_sw] = 1
    for c in gated:
        crit[c][isw] = 1
        crit[c][mn_sw] = 0
    # yes to criteria 2, 3, 4 on overlapping but never identical subsets: none meets all four
    k = [r1(s[f"mn_{c}"]) for c in gated]
    starts = [0, 0, k[0]] if len(gated) == 3 else [0] * len(gated)
    for c, start, kk in zip(gated, starts, k, strict=True):
        crit[c][mn_sw[start : start + kk]] = 1
    # ease of engaging the social worker (asked where a social worker is on the team)
    lv = items[ENGAGE_ITEM].level_order()
    ease = np.full(n_cl, -1, np.int64)
    n_diff = r1(s["mn_engage_difficult"])
    rest = apportion(len(mn_sw) - n_diff, np.array(ENGAGE_MN_REST, float))
    mn_counts = np.zeros(len(lv), np.int64)
    for name, c in zip(("very_easy", "somewhat_easy", "very_difficult"), rest, strict=True):
        mn_counts[lv.index(name)] = c
    mn_counts[lv.index("somewhat_difficult")] = n_diff
    n_crit = sum((crit[c][mn_sw] == 1).astype(int) for c in crit)
    easy_key = n_crit + rng.random(len(mn_sw))  # more criteria met: easier to engage
    ease[mn_sw[np.argsort(-easy_key, kind="stable")]] = np.repeat(np.arange(len(lv)), mn_counts)
    isw_idx = np.flatnonzero(isw)
    n_isw = len(isw_idx)
    pct_easy = s["isw_engage_easy_pct"]
    n_easy = min(
        counts_printing_as(n_isw, pct_easy, 0) or [round(pct_easy * n_isw / 100)],
        key=lambda c: abs(c - pct_easy * n_isw / 100),
    )
    ve = int(round(ENGAGE_ISW_VERY_EASY * n_easy))
    sdiff = int(round(ENGAGE_ISW_SOMEWHAT_DIFFICULT * (n_isw - n_easy)))
    isw_counts = np.zeros(len(lv), np.int64)
    isw_counts[
        [
            lv.index("very_easy"),
            lv.index("somewhat_easy"),
            lv.index("somewhat_difficult"),
            lv.index("very_difficult"),
        ]
    ] = [ve, n_easy - ve, sdiff, n_isw - n_easy - sdiff]
    lat_clin = Latent(rng, st.clinic_coord, nc)
    z = lat_clin.draw(ENGAGE_ITEM)
    ease[isw_idx] = rank_assign(z, isw_idx, isw_counts)
    return crit, ease, lat_clin


def _coordinator_form_answers(
    rng: np.random.Generator,
    cal: Calibration,
    st: Structure,
    items: dict[str, Field],
    coord_prop: np.ndarray,
    level_index: dict[str, np.ndarray],
    also_checked: dict[str, dict[int, np.ndarray]],
    values: dict[str, np.ndarray],
) -> None:
    """Table 1: one answer per coordinator, into ``level_index``, ``also_checked``, ``values``."""
    nc = len(st.coord_group)
    lat_coord = Latent(rng, np.arange(nc), nc)
    cgroup = st.coord_group
    coord_z: dict[str, np.ndarray] = {}
    for item, plan in cal.num.items():
        if plan.table != "table1":
            continue
        partner = PAIRED.get(item)
        if partner in coord_z:
            zc = coord_z[partner] + 0.05 * rng.standard_normal(nc)
        else:
            zc = lat_coord.draw(item, rho=1.0)
        coord_z[item] = zc
        upper = values.get(partner) if partner else None
        values[item] = numeric_item(rng, plan, zc, cgroup, COORDINATOR_GROUPS, coord_prop, upper)
    for item, cplan in cal.cat.items():
        if cplan.table != "table1":
            continue
        if item == "degree":
            idx = degree_answers(rng, cplan, st)
            f = items[item]
            if f.single_order and "rn" in cplan.levels and "msn_bsn" in cplan.levels:
                # a nursing bachelor/master sometimes also checks RN; @CC-SINGLE order makes it msn_bsn
                j_bsn, j_rn = cplan.levels.index("msn_bsn"), cplan.levels.index("rn")
                assert f.single_order.index("msn_bsn") < f.single_order.index("rn")
                also_checked[f.name] = {j_rn: (idx == j_bsn) & (rng.random(nc) < P_BSN_ALSO_RN)}
        elif items[item].field_type == "yesno" and item == "multi_clinic":
            idx = np.where(st.coord_size > 1, cplan.levels.index("yes"), cplan.levels.index("no"))
        else:
            zc = lat_coord.draw(item, rho=1.0)
            idx = assign_by_group(rng, cplan, zc, cgroup, COORDINATOR_GROUPS, coord_prop)
        level_index[item] = idx


def _clinic_answers(
    rng: np.random.Generator,
    cal: Calibration,
    st: Structure,
    items: dict[str, Field],
    lat_clin: Latent,
    clin_prop: np.ndarray,
    level_index: dict[str, np.ndarray],
    values: dict[str, np.ndarray],
) -> None:
    """Tables 3 and 4: one answer per clinic, into ``level_index`` and ``values``."""
    cl_group = st.clinic_isw.astype(np.int64)  # 0 mn, 1 isw
    for item, plan in cal.num.items():
        if plan.table == "table1":
            continue
        z = lat_clin.draw(item)
        values[item] = numeric_item(rng, plan, z, cl_group, CLINIC_GROUPS, clin_prop)
    done: set[str] = set()
    for item, cplan in cal.cat.items():
        if cplan.table == "table1" or item in done:
            continue
        f = items[item]
        if f.field_type == "checkbox" and f.items:
            q_items = [i for i in f.items.values() if i in cal.cat]
            boxes = checkbox_question(rng, cal, q_items, lat_clin, cl_group, clin_prop, f.name)
            level_index.update(boxes)
            done.update(q_items)
            continue
        z = lat_clin.draw(item)
        level_index[item] = assign_by_group(rng, cplan, z, cl_group, CLINIC_GROUPS, clin_prop)


def coordinator_form(instrument: Instrument, cal: Calibration) -> str:
    """The form answered once per coordinator: the form of the items of Table 1."""
    t1 = [p.item for p in (*cal.cat.values(), *cal.num.values()) if p.table == "table1"]
    return instrument.analysis_items()[t1[0]].form
