"""Tests of ccanalysis.replication.claims: the text claims as data (data/published/text_claims.csv),
their expressions checked and evaluated, on hand-made tables (every value redone by hand) and on the
real files."""

from __future__ import annotations

import ast
import math
import re

import pandas as pd
import pytest

from ccanalysis.paths import Paths
from ccanalysis.printing import round_half_up
from ccanalysis.replication import claims as rc
from ccanalysis.replication.compare import KEYS, read_published, read_study_facts
from ccanalysis.replication.compare import PUBLISHED as PRINTED_DIR

PUBLISHED = Paths.of().root / PRINTED_DIR

# a printed table and study facts small enough to redo every expression by hand
PUB = pd.DataFrame(
    [
        ("table3", "n", "", "total", "n", "30"),
        ("table3", "svc_x", "yes", "total", "pct", "50"),
        ("table3", "svc_x", "yes", "mn", "pct", "40.5"),
        ("table3", "svc_x", "yes", "isw", "pct", "62"),
        ("table3", "svc_x", "yes", "total", "n", "15"),
        ("table3", "svc_x", "", "all", "p", "<0.001"),
        ("table3", "hours", "", "total", "mean", "21.7"),
        ("table3", "hours", "", "total", "sd", "14.8"),
        ("table3", "hours", "", "all", "p", "0.38"),
    ],
    columns=[*KEYS, "value"],
)
FACTS = pd.DataFrame(
    {"key": ["clinics", "eligible", "window"], "value": ["317", "380", "2022-04/2022-05"]}
)


def claim(expression: str, compare: str = "value", printed: str = "1", **kw: str) -> dict:
    row = {"id": "c1", "section": "Results", "quote": "the quote", "printed": printed}
    return (
        row
        | {"expression": expression, "compare": compare, "tolerance": "", "label": ""}
        | {"note": ""}
        | kw
    )


def value(expression: str) -> float | str:
    (x,) = rc.evaluate(expression, PUB, FACTS, "c1")
    return x


def literals(expression: str) -> list[float]:
    tree = ast.parse(expression, mode="eval")
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and not isinstance(n.value, str)
    ]


def cells(expression: str) -> list[tuple[str, ...]]:
    """The printed cells an expression reads (``diff``: the isw and mn percentages)."""
    calls = [n for n in ast.walk(ast.parse(expression, mode="eval")) if isinstance(n, ast.Call)]
    out = []
    for c in calls:
        name, args = c.func.id, tuple(a.value for a in c.args)
        if name == "diff":
            out += [(*args, g, "pct") for g in ("isw", "mn")]
        elif name != "fact":
            out += rc._cells(name, args)
    return out


@pytest.fixture(scope="module")
def real() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return (
        rc.load_text_claims(PUBLISHED),
        read_published(PUBLISHED),
        read_study_facts(PUBLISHED),
    )


# ---------------------------------------------------------------------------
# the expressions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2 + 3 * 4", 14),
        ("(2 + 3) * 4 / 8", 2.5),
        ("10 - 4 - 3", 3),
        ("-(2 - 5)", 3),
        ("7 / 2", 3.5),
    ],
)
def test_arithmetic(expression: str, expected: float) -> None:
    assert value(expression) == expected


def test_each_function_reads_its_cell() -> None:
    assert value("cell('table3', 'svc_x', 'yes', 'mn', 'pct')") == 40.5
    assert value("pct('table3', 'svc_x', 'yes', 'isw')") == 62.0
    assert value("n('table3', 'svc_x', 'yes', 'total')") == 15.0
    assert value("mean('table3', 'hours', 'total')") == 21.7
    assert value("sd('table3', 'hours', 'total')") == 14.8
    assert value("diff('table3', 'svc_x', 'yes')") == pytest.approx(62 - 40.5)  # isw - mn
    assert value("100 * fact('clinics') / fact('eligible')") == pytest.approx(83.421, abs=1e-3)
    assert value("p('table3', 'svc_x')") == "<0.001"  # the printed text, not a number
    several = "pct('table3', 'svc_x', 'yes', 'mn'), 60 / 4"
    assert rc.evaluate(several, PUB, FACTS) == [40.5, 15.0]


@pytest.mark.parametrize(
    ("expression", "part"),
    [
        ("fact('clinics').real", "fact('clinics').real"),  # attribute access
        ("__import__('os').system('ls')", "__import__('os').system"),
        ("clinics * 2", "clinics"),  # a bare name
        ("open('x')", "open('x')"),  # a call of anything else
        ("eval('1')", "eval('1')"),
        ("2 ** 10", "**"),
        ("7 // 2", "//"),
        ("1 < 2", "1 < 2"),
        ("[1, 2][0]", "[1, 2][0]"),
        ("lambda: 1", "lambda: 1"),
        ("'text'", "'text'"),
        ("True + 1", "True"),
        ("fact(key='clinics')", "fact(key='clinics')"),
        ("fact('clinics', 'eligible')", "fact('clinics', 'eligible')"),
        ("fact(317)", "317"),
        ("pct('table3', 'svc_x', 'yes', 'mn') + (1, 2)", "(1, 2)"),
        ("p('table3', 'hours') * 10 ** 9", "p('table3', 'hours')"),  # text only as a whole
    ],
)
def test_rejected_expressions_name_claim_and_part(expression: str, part: str) -> None:
    """Nothing but numbers, + - * /, unary minus and calls of the functions with quoted arguments
    reaches Python's eval."""
    with pytest.raises(ValueError) as err:
        rc.parse_expression(expression, "claim_42")
    assert "text claim claim_42" in str(err.value)
    assert part in str(err.value)


def test_evaluation_errors_name_the_claim() -> None:
    with pytest.raises(ValueError, match="text claim c1: study_facts.csv has no key 'nope'"):
        value("fact('nope')")
    with pytest.raises(ValueError, match="text claim c1: no printed cell table3/svc_x/no/mn/pct"):
        value("pct('table3', 'svc_x', 'no', 'mn')")
    with pytest.raises(ValueError, match="text claim c1: could not convert"):
        value("fact('window')")
    with pytest.raises(ValueError, match="text claim c1: .*division by zero"):
        value("1 / (fact('clinics') - 317)")


def test_derivation_puts_the_printed_values_in() -> None:
    assert rc.derivation("100 * fact('clinics') / (fact('eligible') - 63)", PUB, FACTS) == (
        "100 * 317 / (380 - 63)"
    )
    assert rc.derivation("-diff('table3', 'svc_x', 'yes')", PUB, FACTS) == "-(62 - 40.5)"
    assert rc.derivation("mean('table3', 'hours', 'total') * 2, 3", PUB, FACTS) == "21.7 * 2; 3"


def test_check_text_wording() -> None:
    """Each way of comparing, worded as the report prints it (numbers redone by hand)."""
    rows = [
        claim("100 * fact('clinics') / fact('eligible')", printed="83", id="v"),
        claim("100 * fact('clinics') / fact('eligible')", printed="80", tolerance="3", id="v3"),
        claim("p('table3', 'hours')", "p", ".38", id="p", label="Table 3 p"),
        claim("diff('table3', 'svc_x', 'yes'), -1", "direction", "isw > mn", id="d"),
        claim("pct('table3', 'svc_x', 'yes', 'mn')", "range", "40-45", id="r"),
        claim("pct('table3', 'svc_x', 'yes', 'isw')", "range", "60", tolerance="1", id="r1"),
        claim("pct('table3', 'svc_x', 'yes', 'isw')", "above", "50", id="a"),
        claim("pct('table3', 'svc_x', 'yes', 'isw')", "below", "62", id="b"),
        claim("fact('clinics')", printed="", id="clinics"),  # printed: the fact of that id
    ]
    out = rc.check_text(PUB, FACTS, pd.DataFrame(rows)).set_index("item")
    assert out.loc["v", "explanation"] == (
        '"the quote" (Results): table 83.42 vs text 83: equal within 0.5.'
    )
    assert out.loc["v", "test"] == "100 * 317 / 380"  # no label: the derivation
    assert out.loc["v3", "verdict"] == "disagree"  # 83.42 - 80 = 3.42 > 3
    assert "differs by +3.421 (tolerance 3)" in out.loc["v3", "explanation"]
    assert out.loc["p", "test"] == "Table 3 p"
    assert "text p in [0.375, 0.385], table prints 0.38" in out.loc["p", "explanation"]
    assert (out.loc["d", "reference"], out.loc["d", "verdict"]) == ("+21.5;-1", "disagree")
    assert out.loc["r", "verdict"] == "agree"  # 40.5 is within [40, 45]
    assert out.loc["r1", "verdict"] == "disagree"  # 62 outside [59, 61]
    assert "not all within [59, 61]" in out.loc["r1", "explanation"]
    assert (out.loc["a", "verdict"], out.loc["b", "verdict"]) == ("agree", "agree")
    assert (out.loc["clinics", "printed"], out.loc["clinics", "verdict"]) == ("317", "agree")
    with pytest.raises(ValueError, match="text claim orphan: no printed number"):
        rc.check_text(PUB, FACTS, pd.DataFrame([claim("1", printed="", id="orphan")]))


# ---------------------------------------------------------------------------
# the real claims
# ---------------------------------------------------------------------------


def test_every_claim_evaluates(real) -> None:
    claims, pub, facts = real
    assert claims["id"].is_unique and len(claims) == 68
    for c in claims.itertuples():
        got = rc.evaluate(c.expression, pub, facts, c.id)
        if c.compare == "p":
            assert isinstance(got[0], str), c.id
        else:
            assert all(math.isfinite(x) for x in got), c.id


#: Unit conversions, not data: they may appear as literals even if a study fact had that value.
UNIT_CONSTANTS = {100.0: "percent", 60.0: "minutes per hour"}


def test_no_study_fact_is_a_literal(real) -> None:
    """No number of study_facts.csv appears as a literal in an expression: the expression says
    fact('key'), so that a correction of the transcription reaches every claim that uses it. The
    unit constants 100 (percent) and 60 (minutes per hour) are exempt."""
    claims, _, facts = real
    numbers = set(pd.to_numeric(facts["value"], errors="coerce").dropna())
    assert {317.0, 380.0, 213.0, 21.7, 0.002} <= numbers
    offending = [
        (c.id, x)
        for c in claims.itertuples()
        for x in literals(c.expression)
        if x in numbers and x not in UNIT_CONSTANTS
    ]
    assert offending == []
    assert 317.0 in literals("100 * 317 / fact('eligible')")  # and the check bites


_ID = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")


def test_labels_name_only_what_the_expression_reads(real) -> None:
    """A hand-written label (the words the report shows for the table side) must not drift from
    the expression: every snake_case id is an item, level or group the expression reads; every
    "Table N" a table it reads (a derivation from study facts may cite a table in parentheses,
    "(Table 2: 43.8)"); every number a literal of the expression, a fact it reads, a printed cell
    of an item it reads, or its result as printed."""
    claims, pub, facts = real
    fact = dict(zip(facts["key"], facts["value"], strict=True))
    problems = []
    for c in claims[claims["label"] != ""].itertuples():
        read = cells(c.expression)
        tables, ids, items = (
            {k[0] for k in read},
            {x for k in read for x in k[1:4]},
            {k[:2] for k in read},
        )
        facts_read = re.findall(r"fact\('([^']+)'\)", c.expression)
        allowed = set(literals(c.expression)) | {float(fact[k]) for k in facts_read}
        mine = pub[[(t, i) in items for t, i in zip(pub["table"], pub["item"], strict=True)]]
        allowed |= set(pd.to_numeric(mine["value"], errors="coerce").dropna())
        results = [x for x in rc.evaluate(c.expression, pub, facts, c.id) if isinstance(x, float)]
        named = re.sub(r"\(Table \d: [0-9.]+\)", "", c.label) if not read else c.label
        problems += [
            (c.id, t) for t in re.findall(r"Table (\d)", named) if f"table{t}" not in tables
        ]
        problems += [(c.id, t) for t in _ID.findall(c.label) if t not in ids]
        for number in _NUMBER.findall(re.sub(r"Table \d", "", c.label)):
            decimals = len(number.split(".")[1]) if "." in number else 0
            printed_result = any(round_half_up(x, decimals) == number for x in results)
            if float(number) not in allowed and not printed_result:
                problems.append((c.id, number))
    assert problems == []
    assert (claims["label"] != "").sum() > 50  # the rule is exercised


def test_fact_only_claims_show_their_derivation(real) -> None:
    """Where the derivation gives the report's words, the label is left empty (generated)."""
    claims, pub, facts = real
    by_id = claims.set_index("id")
    assert by_id.loc["recruited_pct_of_eligible", "label"] == ""
    derive = {i: rc.derivation(by_id.loc[i, "expression"], pub, facts) for i in by_id.index}
    assert derive["recruited_pct_of_eligible"] == "100 * 317 / (415 - 35)"
    assert derive["minutes_per_patient"] == "60 * 21.7 / 48.5"
    assert derive["discussion_refer_outside_pp_diff"] == "36 - 24"  # isw - mn


def test_facts_flow_into_the_check(real) -> None:
    """The text's number and the expressions read the study facts: a corrected fact changes the
    verdict."""
    claims, pub, facts = real
    by_id = claims.set_index("id", drop=False)
    tx = rc.check_text(pub, facts, claims).set_index("item")
    assert tx.loc["text_pt_phone_p", "verdict"] == "disagree"
    fixed = facts.copy()
    fixed.loc[fixed["key"] == "text_pt_phone_p", "value"] = ".008"
    tx = rc.check_text(pub, fixed, claims.loc[claims["id"] == "text_pt_phone_p"]).set_index("item")
    assert tx.loc["text_pt_phone_p", "verdict"] == "agree"
    one = claims.loc[claims["id"] == "care_systems_sum"]
    before = rc.check_text(pub, facts, one).iloc[0]
    assert (before["reference"], before["test"], before["verdict"]) == (
        "42",
        "16 + 15 + 11",
        "agree",
    )
    fixed.loc[fixed["key"] == "care_systems_small_1_2_clinics", "value"] = "17"
    after = rc.check_text(pub, fixed, one).iloc[0]
    assert (after["reference"], after["test"], after["verdict"]) == (
        "43",
        "17 + 15 + 11",
        "disagree",
    )
    assert by_id.loc["care_systems_sum", "compare"] == "value"
