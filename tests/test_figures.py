"""Figures: each runs, returns a Figure, saves PNG + PDF byte-reproducibly, and draws its input.

Inputs are small hand-made frames in the long formats of DESIGN.md; what is drawn is read back from
the figure's artists (bar widths/heights, interval segments, texts).
"""

from __future__ import annotations

import io
import re

import matplotlib as mpl
import matplotlib.text
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from ccanalysis import figures as F
from ccanalysis.errors import ValidationError
from ccanalysis.figures import theme as T
from ccanalysis.figures.criteria import CRITERIA_LABELS, criteria_data
from ccanalysis.figures.differences import DIFFERENCE_COLUMNS, difference_data
from ccanalysis.figures.flow import flow_counts
from ccanalysis.figures.services import services_data
from ccanalysis.sensitivity import ANALYSIS_NAMES
from ccanalysis.spec import Spec, from_records
from ccanalysis.vocab import SYNTHETIC_LABEL


def figure_texts(fig: Figure) -> list[str]:
    """Every non-empty text of a figure (titles, labels, ticks, legends, annotations)."""
    return [t.get_text() for t in fig.findobj(mpl.text.Text) if t.get_text()]


def has_synthetic_label(fig: Figure) -> bool:
    """Whether the figure carries the visible synthetic-data label."""
    return any(t.get_gid() == T.SYNTHETIC_GID for t in fig.texts)


def artists_with_gid(fig: Figure, prefix: str) -> list:
    """The artists of a figure whose gid starts with ``prefix``."""
    return fig.findobj(lambda a: (a.get_gid() or "").startswith(prefix))


# ---------------------------------------------------------------------------------------------
# Hand-made inputs
# ---------------------------------------------------------------------------------------------

SPEC_COLUMNS = ["table", "section", "item", "level", "label", "stat", "shown"]


def spec_of(rows: list[tuple]) -> Spec:
    """A typed specification from (table, section, item, level, label, stat, shown) rows: Fisher's
    test on categorical rows (collapsed rows count their level and ``always``), ANOVA on Table 1's
    means, Student's t on the others."""
    records = []
    for row in rows:
        rec = dict(zip(SPEC_COLUMNS, row, strict=True))
        continuous = rec["stat"] == "mean_sd"
        rec["test"] = (
            ("anova" if rec["table"] == "table1" else "student_t") if continuous else "fisher"
        )
        rec["combine"] = f"always+{rec['level']}" if rec["shown"] == "collapsed" else ""
        records.append(rec)
    return from_records(records)


SPEC = spec_of(
    [
        # table, section, item, level, label, stat, shown
        ("table1", "Degree", "degree", "rn", "RN", "n_pct", "full"),
        ("table1", "Degree", "degree", "msw_bsw", "MSW or BSW", "n_pct", "full"),
        ("table1", "Degree", "degree", "other_none", "Other or None", "n_pct", "full"),
        (
            "table1",
            "",
            "certified_cc",
            "yes",
            "Certified in care coordination, yes",
            "n_pct",
            "binary",
        ),
        (
            "table1",
            "",
            "years_cc_role",
            "",
            "Years practicing as a care coordinator mean (SD)",
            "mean_sd",
            "mean_sd",
        ),
        (
            "table3",
            "",
            "hours_cc_week",
            "",
            "Hours/week devoted to CC – Mean (SD)",
            "mean_sd",
            "full",
        ),
        (
            "table3",
            "",
            "panel_size",
            "",
            "Patient panel size/care coordinator – Mean (SD)",
            "mean_sd",
            "full",
        ),
        (
            "table3",
            "Patient panel seems:",
            "panel_judgement",
            "about_right",
            "about right",
            "pct",
            "full",
        ),
        (
            "table3",
            "Patient panel seems:",
            "panel_judgement",
            "too_many",
            "too many",
            "pct",
            "full",
        ),
        (
            "table3",
            "Services provided:",
            "svc_disease_mgmt",
            "yes",
            "Disease management",
            "pct",
            "binary",
        ),
        (
            "table3",
            "Services provided:",
            "svc_social_needs",
            "yes",
            "Social needs assessment/referral",
            "pct",
            "binary",
        ),
        (
            "table3",
            "Services provided:",
            "svc_spiritual",
            "yes",
            "Spiritual needs assessment/referral",
            "pct",
            "binary",
        ),
        (
            "table4",
            "Clinic supports for CC:",
            "support_space",
            "yes",
            "Dedicated space to see patients",
            "pct",
            "binary",
        ),
        (
            "table4",
            "",
            "community_available",
            "most_of_the_time",
            "Community services are readily available most of the time",
            "pct",
            "collapsed",
        ),
    ]
)

# svc item -> (total, mn, isw) percentages; sorted by total: social, disease, spiritual
SERVICES = {
    "svc_disease_mgmt": (80.0, 78.5, 82.0),
    "svc_social_needs": (81.5, 70.2, 95.1),
    "svc_spiritual": (40.0, 30.3, 52.6),
}


def long_rows(table: str, rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["table", "item", "level", "group", "measure", "value"]
    ).assign(table=table)


def make_table3() -> pd.DataFrame:
    rows = [("table3", "n", "", g, "n", n) for g, n in (("total", 317), ("mn", 178), ("isw", 139))]
    for item, vals in SERVICES.items():
        for g, v in zip(("total", "mn", "isw"), vals, strict=True):
            rows.append(("table3", item, "yes", g, "pct", v))
            rows.append(("table3", item, "yes", g, "denom", 100.0))
            rows.append(("table3", item, "yes", g, "n", v))
        rows.append(("table3", item, "", "all", "p", 0.0004))
    return long_rows("table3", rows)


def make_table1() -> pd.DataFrame:
    groups = ("total", "mn_only", "isw_only", "both")
    rows = [("table1", "n", "", g, "n", n) for g, n in zip(groups, (213, 117, 88, 8), strict=True)]
    degree = {
        "rn": (41.3, 43.6, 39.8, 25.0),
        "msw_bsw": (6.6, 0.0, 12.5, 37.5),
        "other_none": (52.1, 56.4, 47.7, 37.5),
    }
    for level, vals in degree.items():
        rows += [
            ("table1", "degree", level, g, "pct", v) for g, v in zip(groups, vals, strict=True)
        ]
    rows += [
        ("table1", "certified_cc", "yes", g, "pct", v)
        for g, v in zip(groups, (15.8, 11.4, 21.8, 12.5), strict=True)
    ]
    for g, m, s in zip(groups, (4.8, 4.2, 5.7, 5.2), (4.4, 3.9, 5.0, 2.1), strict=True):
        rows += [
            ("table1", "years_cc_role", "", g, "mean", m),
            ("table1", "years_cc_role", "", g, "sd", s),
        ]
    return long_rows("table1", rows)


#: The care models' group columns of a sensitivity output.
GROUP_VALUES = {"value_mn": 50.0, "value_isw": 55.0, "n_mn": 178, "n_isw": 139}


def sensitivity_frame(rows: list[tuple], groups: dict | None = None) -> pd.DataFrame:
    """A sensitivity output in the stage's format (:data:`ccanalysis.sensitivity.COLUMNS`) from
    (table, item, level, analysis, estimate, ci_low, ci_high, p, unit, note) rows; ``groups``:
    the group columns (default the care models')."""
    cols = ["table", "item", "level", "analysis", "estimate", "ci_low", "ci_high", "p", "unit"]
    frame = pd.DataFrame(rows, columns=[*cols, "note"])
    return frame.assign(
        method="", label="", **(groups or GROUP_VALUES), clusters=42, rho=np.nan, replicates=pd.NA
    ).assign(df=np.nan, q=np.nan, flag="")


def make_sensitivity() -> pd.DataFrame:
    """Differences isw - mn of the stage's analyses: shares in percentage points, means in the
    item's unit (two units), a row without an interval."""
    nan = np.nan
    rows = [
        ("table3", "panel_judgement", "about_right", "unadjusted", 5.0, -3.0, 13.0, 0.2, "pp"),
        (
            "table3",
            "panel_judgement",
            "about_right",
            "standardized_isw",
            4.0,
            -5.0,
            12.0,
            0.3,
            "pp",
        ),
        ("table3", "panel_judgement", "about_right", "gee_care_system", 6.0, -2.0, 14.0, 0.1, "pp"),
        ("table3", "panel_judgement", "too_many", "unadjusted", -2.0, -9.0, 5.0, 0.5, "pp"),
        ("table3", "svc_social_needs", "yes", "unadjusted", 24.9, 15.0, 33.0, 0.001, "pp"),
        ("table3", "svc_social_needs", "yes", "gee_coordinator", 22.0, 10.0, 35.0, 0.01, "pp"),
        ("table3", "hours_cc_week", "", "unadjusted", 10.2, 5.1, 15.3, 0.001, "hours/week"),
        ("table3", "hours_cc_week", "", "standardized_isw", 9.0, 3.0, 15.0, 0.01, "hours/week"),
        ("table3", "panel_size", "", "unadjusted", -40.0, -190.0, 110.0, 0.6, "patients"),
        ("table4", "support_space", "yes", "unadjusted", -8.0, -18.0, 2.0, 0.1, "pp"),
        (
            "table4",
            "community_available",
            "most_of_the_time",
            "unadjusted",
            3.0,
            nan,
            nan,
            nan,
            "pp",
        ),
    ]
    return sensitivity_frame([(*r, "no interval" if np.isnan(r[5]) else "") for r in rows])


def make_clinics(n_isw: int = 139, n_mn: int = 178, n_coordinators: int = 213) -> pd.DataFrame:
    """Clinics whose criteria agree with their care model; the MN clinics miss criteria in turn."""
    n = n_isw + n_mn
    crit = {c: ["yes"] * n for c in CRITERIA_LABELS}
    for i in range(n_isw, n):
        k = (
            i - n_isw
        ) % 5  # 0: no SW on the team (rest not asked), 1-3: one criterion no, 4: missing
        if k == 0:
            crit["sw_on_team"][i] = "no"
            for c in ("sw_responsible", "sw_interacts_patients", "sw_interacts_clinicians"):
                crit[c][i] = None
        elif k == 4:
            crit["sw_interacts_clinicians"][i] = None
        else:
            crit[list(CRITERIA_LABELS)[k]][i] = "no"
    frame = pd.DataFrame(
        {
            "clinic_id": [f"C{i:04d}" for i in range(n)],
            "coordinator_id": [f"K{i % n_coordinators:03d}" for i in range(n)],
            "care_system_id": [f"S{i % 42:02d}" for i in range(n)],
            "care_model": pd.Categorical(
                ["integrated_sw"] * n_isw + ["medical_nursing"] * n_mn,
                categories=["medical_nursing", "integrated_sw"],
            ),
            **{c: pd.Categorical(v, categories=["yes", "no"]) for c, v in crit.items()},
        }
    )
    return frame


FACTS = {
    "mn_primary_care_clinics_approx": 700,
    "mn_certified_clinics_2020": 415,
    "ineligible_clinics": 35,
    "eligible_clinics": "380",  # the facts file is read as text
}


@pytest.fixture
def clinics() -> pd.DataFrame:
    return make_clinics()


@pytest.fixture
def table1_long() -> pd.DataFrame:
    return make_table1()


@pytest.fixture
def table3_long() -> pd.DataFrame:
    return make_table3()


@pytest.fixture
def sensitivity_long() -> pd.DataFrame:
    return make_sensitivity()


@pytest.fixture
def coordinators() -> pd.DataFrame:
    return pd.DataFrame({"coordinator_id": [f"K{i:03d}" for i in range(213)]})


STEMS = ("flow", "services", "differences", "coordinators", "criteria")


def build_figures(synthetic: bool) -> dict[str, Figure]:
    clinics = make_clinics()
    coordinators = pd.DataFrame({"coordinator_id": [f"K{i:03d}" for i in range(213)]})
    return {
        "flow": F.flow_diagram(FACTS, clinics, coordinators, synthetic=synthetic),
        "services": F.services_by_model(make_table3(), SPEC, synthetic=synthetic),
        "differences": F.difference_plot(make_sensitivity(), SPEC, synthetic=synthetic),
        "coordinators": F.coordinator_characteristics(make_table1(), SPEC, synthetic=synthetic),
        "criteria": F.criteria_chart(clinics, synthetic=synthetic),
    }


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Every figure built twice (synthetic) and saved once per build; two also without the label;
    one figure with a constrained layout saved a second time from the same Figure."""
    root = tmp_path_factory.mktemp("figures")
    out: dict[str, dict[str, list]] = {"a": {}, "b": {}, "plain": {}, "again": {}}
    first = build_figures(synthetic=True)
    for stem, fig in first.items():
        out["a"][stem] = F.save(fig, stem, root / "a")
    for stem, fig in build_figures(synthetic=True).items():
        out["b"][stem] = F.save(fig, stem, root / "b")
    plain = build_figures(synthetic=False)
    for stem in ("services", "criteria"):
        out["plain"][stem] = F.save(plain[stem], stem, root / "plain")
    for stem in ("coordinators",):  # constrained layout: frozen after the first draw
        out["again"][stem] = F.save(first[stem], stem, root / "again")
    out["figures"] = {"synthetic": first, "plain": plain}
    out["root"] = root
    return out


# ---------------------------------------------------------------------------------------------
# Smoke, label, saving
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow  # every figure drawn twice and saved: a whole stage
def test_every_figure_runs_and_saves_png_and_pdf(saved) -> None:
    for stem in STEMS:
        assert isinstance(saved["figures"]["synthetic"][stem], Figure)
        assert isinstance(saved["figures"]["plain"][stem], Figure)
        png, svg, pdf = saved["a"][stem]
        assert (png.name, svg.name, pdf.name) == (f"{stem}.png", f"{stem}.svg", f"{stem}.pdf")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in svg.read_bytes()[:400]
        assert pdf.read_bytes()[:5] == b"%PDF-"
        with Image.open(png) as im:
            assert round(im.info["dpi"][0]) == T.DPI
    assert sorted(p.name for p in (saved["root"] / "a").iterdir()) == sorted(
        f"{s}.{e}" for s in STEMS for e in ("png", "svg", "pdf")
    )


@pytest.mark.slow  # every figure drawn twice and saved: a whole stage
def test_no_text_is_clipped(saved) -> None:
    """Every text artist (titles, ticks, legends, labels, the synthetic label) lies inside the
    figure, in every figure and in a difference plot of an ad-hoc summary."""
    from test_analysis import small_clinics

    from ccanalysis import analysis as cc

    items = ["svc_social_needs", "hours_cc_week", "panel_judgement"]
    s = cc.summarize(small_clinics(), items[:2], by="urban").add_difference()
    figs = dict(saved["figures"]["synthetic"]) | {"summary": F.difference_plot(s, synthetic=True)}
    for stem, fig in figs.items():
        with T.style():
            fig.draw_without_rendering()
        box = fig.bbox
        axes = [a for ax in fig.get_axes() for a in (ax.xaxis, ax.yaxis)]
        ticks = {
            id(t)
            for a in axes
            for tick in a.get_major_ticks() + a.get_minor_ticks()
            for t in (tick.label1, tick.label2)
        }
        drawn = {  # the tick labels drawn: in the view, of a visible axis
            id(t)
            for ax in fig.get_axes()
            if ax.axison
            for a in (ax.xaxis, ax.yaxis)
            if a.get_visible()
            for tick in a._update_ticks()
            for t in (tick.label1, tick.label2)
        }
        texts = [
            t
            for t in fig.findobj(matplotlib.text.Text)
            if t.get_visible() and t.get_text() and (id(t) not in ticks or id(t) in drawn)
        ]
        assert texts, stem
        for t in texts:
            ext = t.get_window_extent()
            inside = ext.x0 >= box.x0 - 1 and ext.y0 >= box.y0 - 1
            inside &= ext.x1 <= box.x1 + 1 and ext.y1 <= box.y1 + 1
            assert inside, (stem, t.get_text()[:40], ext.bounds, box.bounds)


def test_a_summary_gives_the_difference_plot_its_groups_and_items() -> None:
    from test_analysis import small_clinics

    from ccanalysis import analysis as cc

    labels = {True: "Urban", False: "Rural"}
    s = cc.summarize(small_clinics(), ["svc_social_needs"], by="urban", labels=labels)
    fig = F.difference_plot(s.add_difference(), synthetic=False)
    text = " ".join(figure_texts(fig))
    assert "Urban - Rural, percentage points" in text and "True" not in text
    assert "n = 8 urban and 6 rural clinics." in fig.caption  # small_clinics' groups


@pytest.mark.slow  # every figure drawn twice and saved: a whole stage
def test_synthetic_label_visible_and_in_metadata_only_when_synthetic(saved) -> None:
    for synthetic, figs in (
        (True, saved["figures"]["synthetic"]),
        (False, saved["figures"]["plain"]),
    ):
        for stem, fig in figs.items():
            assert has_synthetic_label(fig) is synthetic, stem
            assert (T.SYNTHETIC_TEXT in figure_texts(fig)) is synthetic, stem
    for synthetic, key in ((True, "a"), (False, "plain")):
        for stem, (png, _, pdf) in saved[key].items():
            with Image.open(png) as im:
                assert (im.info.get("Description") == SYNTHETIC_LABEL) is synthetic, stem
                assert "Software" not in im.info
                assert im.info["Title"]
            assert (b"SYNTHETIC DATA" in pdf.read_bytes()) is synthetic, stem


@pytest.mark.slow  # every figure drawn twice and saved: a whole stage
def test_saves_are_byte_identical_and_undated(saved) -> None:
    for stem in STEMS:
        for pa, pb in zip(saved["a"][stem], saved["b"][stem], strict=True):
            assert pa.read_bytes() == pb.read_bytes(), pa.name  # rebuilt from scratch
        pdf = saved["a"][stem][1].read_bytes()
        assert b"/CreationDate" not in pdf and b"/Producer" not in pdf
        assert b"Matplotlib" not in pdf
    for stem, paths in saved["again"].items():  # the same Figure saved twice
        for pa, pc in zip(saved["a"][stem], paths, strict=True):
            assert pa.read_bytes() == pc.read_bytes(), pa.name


def test_flow_diagram_counts_come_from_the_data_and_facts(clinics, coordinators) -> None:
    fig = F.flow_diagram(FACTS, clinics, coordinators, synthetic=False)
    text = "\n".join(figure_texts(fig))
    for s in (
        "~700",
        "415",
        "35 ineligible",
        "380 eligible",
        "317 clinics recruited",
        "83%",
        "317 clinic surveys",
        "(100%)",
        "213 care coordinators",
        "139 clinics (44%)",
        "178 clinics (56%)",
        "42 care systems",
    ):
        assert s in text, s
    assert len(artists_with_gid(fig, "box:")) == 8  # 5 steps, the ineligible, 2 models


def test_flow_diagram_percentages_are_computed_not_typed() -> None:
    small = make_clinics(n_isw=4, n_mn=8, n_coordinators=5)
    facts = {
        "mn_primary_care_clinics_approx": 100,
        "mn_certified_clinics_2020": 40,
        "ineligible_clinics": 10,
    }
    c = flow_counts(facts, small, 5)
    assert c["eligible"] == 30 and c["recruited"] == 12
    assert c["recruited_pct"] == pytest.approx(40.0)
    text = "\n".join(figure_texts(F.flow_diagram(facts, small, 5, synthetic=False)))
    assert "12 clinics recruited" in text and "(40% of eligible clinics)" in text
    assert "4 clinics (33%)" in text and "8 clinics (67%)" in text
    assert "by 5 care coordinators" in text


def test_flow_diagram_rejects_inconsistent_facts(clinics, coordinators) -> None:
    with pytest.raises(ValueError, match="eligible"):
        flow_counts({**FACTS, "eligible_clinics": 381}, clinics, coordinators)
    with pytest.raises(KeyError, match="ineligible_clinics"):
        flow_counts({k: v for k, v in FACTS.items() if k != "ineligible_clinics"}, clinics, 1)


def test_services_bars_are_the_percentages_sorted_by_total(table3_long) -> None:
    data = services_data(table3_long, SPEC)
    assert list(data["item"]) == ["svc_social_needs", "svc_disease_mgmt", "svc_spiritual"]
    fig = F.services_by_model(table3_long, SPEC, synthetic=False)
    ax = fig.axes[0]
    for g, col in (("mn", 1), ("isw", 2)):
        bars = sorted(artists_with_gid(fig, f"bar:{g}:"), key=lambda b: b.get_y())
        widths = [b.get_width() for b in bars]
        expected = [SERVICES[i][col] for i in data["item"]]
        assert widths == pytest.approx(expected)
        assert [b.get_gid() for b in bars] == [f"bar:{g}:{i}" for i in data["item"]]
        assert bars[0].get_facecolor()[:3] == pytest.approx(mpl.colors.to_rgb(T.GROUP_COLORS[g]))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "Social needs assessment/referral",
        "Disease management",
        "Spiritual needs assessment/referral",
    ]
    assert "P<0.001" in figure_texts(fig)
    assert "Medical/nursing model (n=178)" in [t.get_text() for t in ax.get_legend().get_texts()]


def _intervals(fig: Figure, prefix: str = "ci:") -> list[tuple]:
    """(table, panel, analysis, low, high, y) of every interval drawn."""
    out = []
    for coll in artists_with_gid(fig, prefix):
        _, table, panel, analysis = coll.get_gid().split(":")
        for (x0, y0), (x1, y1) in coll.get_segments():
            assert y0 == y1
            out.append((table, panel, analysis, x0, x1, y0))
    return out


def test_difference_plot_draws_every_interval_at_its_value(sensitivity_long) -> None:
    from ccanalysis.sensitivity import COLUMNS

    assert set(sensitivity_long.columns) == set(COLUMNS)  # the stage's format
    data = difference_data(sensitivity_long, SPEC)
    assert list(data.columns) == list(DIFFERENCE_COLUMNS)
    gee = data[(data["analysis"] == "gee_care_system")]
    assert gee[["estimate", "ci_low", "ci_high"]].to_numpy().tolist() == [[6.0, -2.0, 14.0]]
    # the panel is the unit's: percentage points, or a mean difference in the item's unit
    assert dict(zip(data["item"], data["panel"], strict=True)) == {
        "panel_judgement": "pp",
        "svc_social_needs": "pp",
        "hours_cc_week": "mean",
        "panel_size": "mean",
        "support_space": "pp",
        "community_available": "pp",
    }
    fig = F.difference_plot(sensitivity_long, SPEC, synthetic=False)
    drawn = _intervals(fig)
    expected = data[data["ci_low"].notna()]
    assert len(drawn) == len(expected) == 10
    got = sorted((t, p, a, lo, hi) for t, p, a, lo, hi, _ in drawn)
    want = sorted(
        (r.table, r.panel, r.analysis, r.ci_low, r.ci_high) for r in expected.itertuples()
    )
    assert got == want
    # the row without an interval still shows its estimate
    est = [x for a in artists_with_gid(fig, "est:table4:pp:unadjusted") for x in a.get_xdata()]
    assert sorted(est) == [-8.0, 3.0]
    # mean differences on a panel of their own, one axis per unit, each labelled with its unit
    means = artists_with_gid(fig, "ci:table3:mean:")
    assert sorted(seg[1][0] for c in means for seg in c.get_segments()) == [15.0, 15.3, 110.0]
    assert len({id(c.axes) for c in means}) == 2
    by_axis = {c.axes.get_xlabel(): c.axes.get_xlim() for c in means}
    assert set(by_axis) == {"ISW - MN, hours/week", "ISW - MN, patients"}
    assert by_axis["ISW - MN, patients"][1] > 110.0 > by_axis["ISW - MN, hours/week"][1]
    pp_axes = {c.axes for c in artists_with_gid(fig, "ci:") if ":pp:" in c.get_gid()}
    assert {ax.get_xlabel() for ax in pp_axes} == {"ISW - MN, percentage points"}
    text = figure_texts(fig)
    assert "Patient panel seems" in text and "about right" in text
    assert "Hours/week devoted to CC" in text and "Patient panel size/care coordinator" in text


def test_difference_plot_legend_clears_the_panels_with_many_analyses() -> None:
    """The study's six analyses (three legend rows) over tall panels (ticks on top too)."""
    analyses = list(ANALYSIS_NAMES)
    spec = spec_of(
        [
            ("table3", "Services provided:", f"svc_{i}", "yes", f"Service {i}", "pct", "binary")
            for i in range(20)
        ]
    )
    sens = sensitivity_frame(
        [
            ("table3", f"svc_{i}", "yes", a, 5.0, -3.0, 13.0, 0.2, "pp", "")
            for i in range(20)
            for a in analyses
        ]
    )
    fig = F.difference_plot(sens, spec, synthetic=True)
    with T.style():
        fig.draw_without_rendering()
        (legend,) = fig.legends
        drawn = [n for a, (n, _) in ANALYSIS_NAMES.items() if a in F.differences.STYLES]
        assert [t.get_text() for t in legend.get_texts()] == drawn
        bottom = legend.get_window_extent().y0
        titles = [t for t in fig.findobj(mpl.text.Text) if t.get_text().startswith("Table 3")]
        assert len(titles) == 1
        assert titles[0].get_window_extent().y1 < bottom


def test_difference_data_contract(sensitivity_long) -> None:
    # a mean difference is in its own unit, unbounded; an interval may reach beyond 100 pp
    wide = sensitivity_long.copy()
    wide.loc[0, "ci_high"] = 130.0
    assert difference_data(wide, SPEC)["ci_high"].max() == 130.0
    # a row the specification lacks is drawn last, under "Other items", with the file's label
    extra = pd.concat(
        [
            sensitivity_long,
            sensitivity_frame(
                [("table4", "new_item", "yes", "unadjusted", 1.0, -1.0, 3.0, 0.5, "pp", "")]
            ).assign(label="A new item"),
        ],
        ignore_index=True,
    )
    data = difference_data(extra, SPEC)
    last = data[data["table"] == "table4"].iloc[-1]
    assert (last["item"], last["section"], last["label"]) == (
        "new_item",
        "Other items",
        "A new item",
    )
    # rows of other tables are not drawn
    other = sensitivity_long.assign(table="table1")
    assert difference_data(other, SPEC).empty


def test_coordinator_characteristics_draws_table1(table1_long) -> None:
    fig = F.coordinator_characteristics(table1_long, SPEC, synthetic=False)
    for g, rn, msw in (("mn_only", 43.6, 0.0), ("both", 25.0, 37.5)):
        (bar_rn,) = artists_with_gid(fig, f"degree:{g}:rn")
        (bar_msw,) = artists_with_gid(fig, f"degree:{g}:msw_bsw")
        assert bar_rn.get_width() == pytest.approx(rn)
        assert bar_msw.get_width() == pytest.approx(msw)
        assert bar_msw.get_x() == pytest.approx(rn)  # stacked
    (cert,) = artists_with_gid(fig, "pct:certified_cc:isw_only")
    assert cert.get_width() == pytest.approx(21.8)
    (mean,) = artists_with_gid(fig, "mean:years_cc_role:isw_only")
    assert list(mean.get_xdata()) == [5.7]
    (sd,) = artists_with_gid(fig, "sd:years_cc_role:isw_only")
    assert sd.get_segments()[0][:, 0].tolist() == pytest.approx([0.7, 10.7])
    assert any("(n=88)" in t for t in figure_texts(fig))


def test_coordinator_characteristics_draws_a_table1_with_suppressed_cells(table1_long) -> None:
    """Privacy mode withholds cells (``<11`` in the file, missing when read): a group's size, one
    group's yes/no share, a level of the distribution, a mean and SD; the rest is drawn as before."""
    hidden = {
        ("n", "", "both", "n"),
        ("certified_cc", "yes", "both", "pct"),
        ("degree", "msw_bsw", "isw_only", "pct"),
        ("years_cc_role", "", "both", "mean"),
        ("years_cc_role", "", "both", "sd"),
    }
    keys = zip(*(table1_long[c] for c in ("item", "level", "group", "measure")), strict=True)
    suppressed = table1_long.astype({"value": object})
    suppressed.loc[[k in hidden for k in keys], "value"] = "<11"
    fig = F.coordinator_characteristics(suppressed, SPEC, synthetic=False)
    texts = figure_texts(fig)
    assert "(n=88)" in "".join(texts) and "(n=8)" not in "".join(texts)
    (cert,) = artists_with_gid(fig, "pct:certified_cc:isw_only")
    assert cert.get_width() == pytest.approx(21.8)
    (cert_both,) = artists_with_gid(fig, "pct:certified_cc:both")
    assert cert_both.get_width() == 0  # no bar, no label
    assert [t.get_text() for t in cert.axes.texts if t.get_text()] == ["11%", "22%"]
    (msw,) = artists_with_gid(fig, "degree:isw_only:msw_bsw")
    (rn,) = artists_with_gid(fig, "degree:isw_only:rn")
    assert not msw.get_width() > 0 and "13%" not in [t.get_text() for t in msw.axes.texts]
    assert rn.get_width() == pytest.approx(39.8)
    (mean,) = artists_with_gid(fig, "mean:years_cc_role:isw_only")
    assert list(mean.get_xdata()) == [5.7]
    assert "5.2" not in texts  # the hidden mean is not labelled


def test_services_by_model_draws_a_table3_with_a_suppressed_cell(table3_long) -> None:
    """A share privacy mode withheld: no bar, no label; the other bars keep their values."""
    hidden = (table3_long["item"] == "svc_spiritual") & (table3_long["group"] == "isw")
    suppressed = table3_long.astype({"value": object})
    suppressed.loc[hidden & (table3_long["measure"] == "pct"), "value"] = "<11"
    fig = F.services_by_model(suppressed, SPEC, synthetic=False)
    (bar,) = artists_with_gid(fig, "bar:isw:svc_spiritual")
    assert bar.get_width() == 0
    (kept,) = artists_with_gid(fig, "bar:mn:svc_spiritual")
    assert kept.get_width() == pytest.approx(30.3)
    labels = [t.get_text() for t in bar.axes.texts if t.get_text().endswith("%")]
    assert "30%" in labels and "53%" not in labels


def test_criteria_chart_counts_combinations_missing_as_not_met() -> None:
    clinics = make_clinics(n_isw=6, n_mn=10, n_coordinators=4)
    data = criteria_data(clinics)
    assert data["n"].sum() == 16
    top = data.iloc[0]
    assert top["n_met"] == 4 and top["n"] == 6 and top["isw"] == 6 and top["mn"] == 0
    # MN clinics: 2 without a SW (others not asked), 2 each with one criterion no; a missing
    # answer to criterion 4 falls in the same combination as a no (4 clinics)
    assert sorted(data["n"].iloc[1:]) == [2, 2, 2, 4]
    none_met = data[data["n_met"] == 0]
    assert none_met["n"].tolist() == [2] and not none_met["sw_on_team"].any()
    four = data[(data["n_met"] == 3) & ~data["sw_interacts_clinicians"]]
    assert four["n"].tolist() == [4] and four["mn"].tolist() == [4]
    fig = F.criteria_chart(clinics, synthetic=False)
    heights = {}
    for bar in artists_with_gid(fig, "combo:"):
        _, g, k = bar.get_gid().split(":")
        heights[(g, int(k))] = bar.get_height()
    for k, row in data.iterrows():
        assert heights[("mn", k)] == row["mn"] and heights[("isw", k)] == row["isw"]
    (on_team,) = artists_with_gid(fig, "criterion:sw_on_team")
    assert on_team.get_width() == 6 + 8  # every clinic but the 2 without a SW on the team
    (clin,) = artists_with_gid(fig, "criterion:sw_interacts_clinicians")
    assert clin.get_width() == 6 + 4  # missing answers are not yes


def test_format_helpers() -> None:
    assert T.format_pct(100 * 317 / 380) == "83%"
    assert T.format_pct(12.5) == "13%"
    assert T.format_p(0.0004) == "P<0.001"
    assert T.format_p(0.0072) == "P=0.007"
    assert T.format_p(0.12849) == "P=0.13"
    assert T.format_p(0.40) == "P=0.4"


def test_the_pages_show_the_saved_png_at_screen_size_and_05_lists_each_figure(tmp_path) -> None:  # noqa: ANN001
    """The landing page embeds the very figure saved, at half its 200 dpi; 05 lists it, numbered,
    with its caption, linked to where the landing page shows it (each figure embedded once)."""
    from PIL import Image

    fig = F.flow_diagram(
        FACTS, make_clinics(), pd.DataFrame({"coordinator_id": ["K1"]}), synthetic=True
    )
    saved = F.save(fig, "flow", tmp_path)
    with Image.open(io.BytesIO(T.screen_png(saved[0]))) as small, Image.open(saved[0]) as full:
        assert small.size == (full.size[0] // 2, full.size[1] // 2)
        assert (
            full.text["Alt"].startswith("Flow diagram")
            and "Synthetic data." in full.text["Caption"]
        )
    listed = F.listing({"flow": saved}).data
    assert (
        '<a href="index.html#figure-flow">Figure 1. Care coordinator survey participant flow</a>'
        in listed
    )
    assert "no intervals. Synthetic data.</li>" in listed


def test_privacy_mode_hides_small_counts_in_the_figures_drawn_from_records() -> None:
    """min_cell=k: a figure built from clinic records shows no count of 1 to k - 1."""
    clinics = make_clinics(n_isw=6, n_mn=10, n_coordinators=4)  # combinations of 6, 4, 2, 2, 2
    fig = F.criteria_chart(clinics, synthetic=False, min_cell=3)
    heights = sorted(
        round(b.get_height()) for b in artists_with_gid(fig, "combo:") if b.get_height() > 0
    )
    assert heights == [4, 6]  # the three combinations of 2 clinics are left out ...
    text = "\n".join(figure_texts(fig))
    assert "Not shown: 3 combinations of fewer than 3 clinics in a care model (6 clinics)" in text
    fig = F.criteria_chart(clinics, synthetic=False, min_cell=11)
    (clin,) = artists_with_gid(fig, "criterion:sw_interacts_clinicians")
    assert clin.get_width() == 0  # 10 clinics: no bar, and its label says <11
    assert "<11" in [t.strip() for t in figure_texts(fig)]
    assert "Not shown: 5 combinations" in "\n".join(figure_texts(fig))

    small = make_clinics(n_isw=4, n_mn=8, n_coordinators=5)
    facts = {
        "mn_primary_care_clinics_approx": 100,
        "mn_certified_clinics_2020": 40,
        "ineligible_clinics": 10,
    }
    text = "\n".join(figure_texts(F.flow_diagram(facts, small, 5, synthetic=False, min_cell=6)))
    assert "<6 clinics\nIntegrated social worker model" in text  # 4 ISW clinics, no percentage
    assert "8 clinics (67%)" in text and "by <6 care coordinators" in text
    assert "12 clinics recruited" in text
    text = "\n".join(figure_texts(F.flow_diagram(facts, small, 5, synthetic=False, min_cell=13)))
    assert "<13 clinics recruited" in text and "of eligible clinics" not in text
    assert "<13 clinic surveys completed\nby <13 care coordinators" in text


# ---------------------------------------------------------------------------------------------
# One source for each fact: group names, compared groups, the sensitivity file, the stage
# ---------------------------------------------------------------------------------------------


def test_group_names_are_the_vocabulary_labels_in_sentence_case(clinics, coordinators) -> None:
    assert T.group_label("x", {"x": "ISW only"}) == "ISW only"  # capitals stay
    assert T.group_label("both", mid_sentence=True) == "work in both clinic models"
    assert T.group_label("isw") == "Integrated social worker model"
    assert T.group_label("mn") == "Medical/nursing model"
    assert T.group_label("isw_only") == "Only work in integrated social worker clinics"
    assert T.group_label("other") == "other"  # an unknown group is its id
    text = "\n".join(figure_texts(F.flow_diagram(FACTS, clinics, coordinators, synthetic=False)))
    assert "139 clinics (44%)\nIntegrated social worker model" in text
    fig = F.coordinator_characteristics(make_table1(), SPEC, synthetic=False)
    ticks = [t.replace("\n", " ") for t in figure_texts(fig)]
    assert "Only work in integrated social worker clinics (n=88)" in ticks
    assert "Total (n=213)" in ticks
    assert "Only work in medical/nursing clinics" in ticks  # the legend


def test_difference_data_reads_the_file_itself_and_names_the_groups(
    sensitivity_long, tmp_path
) -> None:
    path = tmp_path / "sensitivity.csv"
    sensitivity_long.to_csv(path, index=False)
    from_file = difference_data(path, SPEC)
    from_frame = difference_data(sensitivity_long, SPEC)
    pd.testing.assert_frame_equal(from_file, from_frame)
    # the file's group values must be those of the compared groups
    other = sensitivity_long.drop(columns=["value_mn", "value_isw"]).assign(
        value_mn_only=1.0, value_isw_only=2.0
    )
    other.to_csv(path, index=False)
    with pytest.raises(ValidationError, match="compares other groups than isw - mn") as err:
        difference_data(path, SPEC)
    assert err.value.file == str(path) and err.value.field == "value_mn_only, value_isw_only"
    fig = F.difference_plot(sensitivity_long, SPEC, synthetic=False)
    text = figure_texts(fig)
    assert "ISW - MN, percentage points" in text
    assert "ISW - MN, hours/week" in text
    assert "ISW - MN: estimate and 95% interval, by analysis" in text
    assert "the integrated social worker model minus the medical/nursing model" in fig.caption


# Urban and rural clinics: 4 care systems, 6 urban and 6 rural clinics (system, size, urban,
# social needs, disease management, spiritual, hours). Shares urban / rural: social needs 4/6 and
# 2/6, disease management 6/6 and 4/6, spiritual 1/6 and 3/6.
URBAN_RURAL = [
    ("A", "small", True, "yes", "yes", "no", 10.0),
    ("A", "small", True, "no", "yes", "no", 20.0),
    ("A", "small", False, "yes", "no", "yes", 15.0),
    ("B", "small", False, "no", "yes", "yes", 5.0),
    ("B", "small", False, "yes", "yes", "no", 25.0),
    ("C", "medium", True, "yes", "yes", "yes", 30.0),
    ("C", "medium", True, "yes", "yes", "no", 40.0),
    ("C", "medium", False, "no", "no", "yes", 10.0),
    ("D", "medium", True, "no", "yes", "no", 20.0),
    ("D", "medium", True, "yes", "yes", "no", 30.0),
    ("D", "medium", False, "no", "yes", "no", 20.0),
    ("D", "medium", False, "no", "yes", "no", 10.0),
]
URBAN_LABELS = {True: "Urban", False: "Rural"}


def urban_rural() -> pd.DataFrame:
    yn = pd.CategoricalDtype(["yes", "no"])
    cols = ["care_system_id", "system_size", "urban", "svc_social_needs", "svc_disease_mgmt"]
    frame = pd.DataFrame(URBAN_RURAL, columns=[*cols, "svc_spiritual", "hours_cc_week"])
    for c in ("svc_social_needs", "svc_disease_mgmt", "svc_spiritual"):
        frame[c] = frame[c].astype(yn)
    frame["system_size"] = frame["system_size"].astype(
        pd.CategoricalDtype(["small", "medium", "large"])
    )
    return frame.assign(group="mn", clinic_id=[f"C{i}" for i in range(len(frame))])


def test_services_figure_draws_the_groups_of_a_summary() -> None:
    from ccanalysis import analysis as cc

    items = ["svc_disease_mgmt", "svc_social_needs", "svc_spiritual"]
    t = cc.summarize(urban_rural(), items=items, by="urban", labels=URBAN_LABELS).add_p()
    fig = F.services_by_model(t, SPEC, synthetic=False)
    share = {
        ("True", "svc_social_needs"): 4 / 6,
        ("False", "svc_social_needs"): 2 / 6,
        ("True", "svc_disease_mgmt"): 1.0,
        ("False", "svc_disease_mgmt"): 4 / 6,
        ("True", "svc_spiritual"): 1 / 6,
        ("False", "svc_spiritual"): 3 / 6,
    }
    for (g, item), v in share.items():
        (bar,) = artists_with_gid(fig, f"bar:{g}:{item}")
        assert bar.get_width() == pytest.approx(100 * v)
        assert bar.get_facecolor()[:3] == pytest.approx(
            mpl.colors.to_rgb({"True": T.PALETTE[0], "False": T.PALETTE[1]}[g])
        )
    # sorted by the share of all 12 clinics: disease management 10, social needs 6, spiritual 4
    data = services_data(t, SPEC)
    assert list(data["item"]) == ["svc_disease_mgmt", "svc_social_needs", "svc_spiritual"]
    assert data["total"].tolist() == pytest.approx([1000 / 12, 50.0, 400 / 12])
    legend = [x.get_text() for x in fig.axes[0].get_legend().get_texts()]
    assert legend == ["Rural (n=6)", "Urban (n=6)"]
    assert "Services provided by care coordinators, urban and rural clinics" in figure_texts(fig)
    # three groups: a two-group figure draws none of them
    three = urban_rural()
    three.loc[:3, "system_size"] = "large"
    by_size = cc.summarize(three, items=items, by="system_size")
    with pytest.raises(ValueError, match="summarize the two to draw"):
        F.services_by_model(by_size, SPEC, synthetic=False)


def test_difference_plot_draws_the_groups_of_a_sensitivity_analysis() -> None:
    from ccanalysis import sensitivity as sens

    spec = spec_of(
        [
            ("table3", "", "hours_cc_week", "", "Hours/week – Mean (SD)", "mean_sd", "full"),
            ("table3", "Services:", "svc_social_needs", "yes", "Social needs", "pct", "binary"),
        ]
    )
    u = sens.analyze(
        urban_rural(),
        spec,
        by="urban",
        labels=URBAN_LABELS,
        n_boot=50,
        min_stratum=1,
        strata=["system_size"],
    )
    fig = F.difference_plot(u, spec, synthetic=False)
    text = figure_texts(fig)
    assert "Urban - Rural, percentage points" in text and "Urban - Rural, hours/week" in text
    assert "Urban - Rural: estimate and 95% interval, by analysis" in text
    assert "urban clinics minus rural clinics (Urban - Rural)" in fig.caption
    assert any(t.startswith("Positive: more common (or larger) with urban clinics.") for t in text)
    (legend,) = fig.legends
    assert "Std. to Urban" in [x.get_text() for x in legend.get_texts()]
    assert "Standardized to the Urban clinics' system size (cluster bootstrap)" in fig.caption
    # the crude interval drawn is the result's: 4/6 - 2/6 with Newcombe's interval
    crude = u.results[(u.results["analysis"] == "unadjusted") & (u.results["unit"] == "pp")]
    (drawn,) = [
        (lo, hi) for t, p, a, lo, hi, _ in _intervals(fig) if (p, a) == ("pp", "unadjusted")
    ]
    assert drawn == (crude["ci_low"].item(), crude["ci_high"].item())
    assert crude["estimate"].item() == pytest.approx(100 / 3)
    # the frame alone does not say which groups it compares: the care models are assumed
    with pytest.raises(ValidationError, match="compares other groups than isw - mn"):
        difference_data(u.results, spec)


def test_read_recruitment_flow_reads_numbers_once(tmp_path) -> None:
    path = tmp_path / "recruitment_flow.csv"
    path.write_text("key,value,source\nineligible_clinics,35,x\neligible_clinics,380,y\n")
    assert F.read_recruitment_flow(path) == {"ineligible_clinics": 35.0, "eligible_clinics": 380.0}
    for bad, message in (
        (
            "key,value\nineligible,35\neligible,about 380\n",
            "record eligible, field value, value 'about 380'",
        ),
        ("name,value\nx,35\n", "key"),
        ("key,value\nx,1\nx,2\n", "a key given twice (file"),
    ):
        path.write_text(bad)
        with pytest.raises(ValidationError, match=re.escape(message)) as err:
            F.read_recruitment_flow(path)
        assert str(path) in str(err.value)


def _write_project(root, spec: Spec, clinics: pd.DataFrame) -> dict[str, float]:  # noqa: ANN001
    """A project tree with the stage's inputs: Tables 1 and 3 and the sensitivity output built
    from the specification, the processed frames, the recruitment counts. Returns the Table 3
    percentages by (group, item)."""
    from ccanalysis.paths import Paths

    paths = Paths.of(root)
    paths.tables.mkdir(parents=True)
    paths.processed.mkdir(parents=True)
    paths.raw.mkdir(parents=True, exist_ok=True)
    clinics.to_parquet(paths.processed / "clinics.parquet")
    coordinators = pd.DataFrame({"coordinator_id": sorted(set(clinics["coordinator_id"]))})
    coordinators.to_parquet(paths.processed / "coordinators.parquet")
    paths.recruitment_flow.write_text(
        "key,value,source\n"
        + "".join(f"{k},{v},study\n" for k, v in FACTS.items() if k != "eligible_clinics")
    )
    t3, pcts = [], {}
    t3 += [("n", "", g, "n", n) for g, n in (("total", 16), ("mn", 10), ("isw", 6))]
    for j, r in enumerate(spec.of("table3")):
        if r.item.startswith("svc_"):
            for g, v in (("mn", 20.0 + j), ("isw", 60.0 - j)):
                t3.append((r.item, r.level, g, "pct", v))
                pcts[(g, r.item)] = v
            t3.append((r.item, r.level, "total", "pct", 40.0))
    long_rows("table3", [("table3", *r) for r in t3]).to_csv(
        paths.tables / "table3.csv", index=False
    )
    t1 = [("n", "", g, "n", n) for g, n in (("total", 9), ("mn_only", 4), ("isw_only", 3))]
    t1.append(("n", "", "both", "n", 2))
    for r in spec.of("table1"):
        for g in ("total", "mn_only", "isw_only", "both"):
            if r.continuous:
                t1 += [(r.item, "", g, "mean", 5.0), (r.item, "", g, "sd", 1.0)]
            else:
                t1.append((r.item, r.level, g, "pct", 20.0))
    long_rows("table1", [("table1", *r) for r in t1]).to_csv(
        paths.tables / "table1.csv", index=False
    )
    sens = [
        (
            r.table,
            r.item,
            r.level,
            "unadjusted",
            2.0,
            -1.0,
            5.0,
            0.2,
            "units" if r.continuous else "pp",
            "",
        )
        for r in spec.of("table3", "table4")
    ]
    sensitivity_frame(sens).to_csv(paths.tables / "sensitivity.csv", index=False)
    return pcts


@pytest.mark.slow
def test_run_draws_and_saves_every_figure_from_the_run_paths(tmp_path) -> None:
    from ccanalysis.paths import DEFAULT_DICTIONARY, Paths, project_root
    from ccanalysis.spec import read_spec
    from ccanalysis.stage import Params

    dictionary = project_root() / DEFAULT_DICTIONARY
    clinics = make_clinics(n_isw=6, n_mn=10, n_coordinators=9)
    pcts = _write_project(tmp_path, read_spec(instrument=dictionary), clinics)
    paths = Paths.of(tmp_path, dictionary=dictionary)
    artifacts = F.run(paths, Params(privacy=True, min_cell=11))
    assert sorted(artifacts) == sorted(f"{s}.{e}" for s in F.FIGURES for e in ("png", "svg", "pdf"))
    assert all(p == tmp_path / "figures" / name for name, p in artifacts.items())
    assert tuple(artifacts.results) == F.FIGURES
    for stem, fig in artifacts.results.items():
        assert has_synthetic_label(fig), stem
        with Image.open(artifacts[f"{stem}.png"]) as im:
            assert im.info["Description"] == SYNTHETIC_LABEL
    # privacy mode reaches the figures drawn from records; the counts come from the recruitment file
    flow = "\n".join(figure_texts(artifacts.results["flow"]))
    assert "<11 clinics\nIntegrated social worker model" in flow and "380 eligible" in flow
    assert "by <11 care coordinators" in flow
    assert "Not shown: 5 combinations" in "\n".join(figure_texts(artifacts.results["criteria"]))
    # the services drawn are Table 3's percentages as the file has them
    for (g, item), v in pcts.items():
        (bar,) = artists_with_gid(artifacts.results["services_by_model"], f"bar:{g}:{item}")
        assert bar.get_width() == v
    # without the privacy mode nothing is hidden
    plain = F.draw(paths, Params(data_mode="redcap"))
    assert not has_synthetic_label(plain["flow"])
    assert "6 clinics (38%)" in "\n".join(figure_texts(plain["flow"]))


def test_a_figure_of_clinics_by_another_definition_names_it() -> None:
    """Issue 19: classified by another care model definition than the paper's, the criteria chart
    names it in its caption and on the figure (``classify.describe``), as the tables do."""
    from ccanalysis.classify import classify_clinics

    clinics = make_clinics(n_isw=6, n_mn=10, n_coordinators=4)
    paper = F.criteria_chart(classify_clinics(clinics, "paper"), synthetic=False)
    other = F.criteria_chart(classify_clinics(clinics, "sw_on_team"), synthetic=False)
    assert "definition" not in paper.caption
    assert "alternative definition (sw_on_team)" in other.caption
    assert any("(sw_on_team)" in t.get_text() for t in other.texts + [other._supxlabel])
