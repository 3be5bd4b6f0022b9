"""Tests of ccanalysis.replication.claims: the text claims as data (data/published/text_claims.csv)
and the small evaluator of their expressions, on hand-made tables and on the real files."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from ccanalysis import replication as rp
from ccanalysis.errors import ValidationError
from ccanalysis.paths import Paths
from ccanalysis.printing import round_half_up

PUBLISHED = Paths.of().published

# a printed table and study facts small enough to redo every expression by hand
CELLS = [
    ("table3", "n", "", "total", "n", "30"),
    ("table3", "svc_x", "yes", "total", "pct", "50"),
    ("table3", "svc_x", "yes", "mn", "pct", "40.5"),
    ("table3", "svc_x", "yes", "isw", "pct", "62"),
    ("table3", "svc_x", "yes", "total", "n", "15"),
    ("table3", "svc_x", "", "all", "p", "<0.001"),
    ("table3", "hours", "", "total", "mean", "21.7"),
    ("table3", "hours", "", "total", "sd", "14.8"),
    ("table3", "hours", "", "all", "p", "0.38"),
]
FACTS = pd.DataFrame(
    {"key": ["clinics", "eligible", "window"], "value": ["317", "380", "2022-04/2022-05"]}
)


def values() -> rp.Values:
    pub = pd.DataFrame(CELLS, columns=[*rp.KEYS, "value"]).astype(object)
    return rp.Values.of(pub, FACTS)


def claim(
    expression: str,
    compare: str = "value",
    printed: str = "1",
    tolerance: str = "",
    cid: str = "c1",
    label: str = "",
) -> rp.TextClaim:
    row = {
        "id": cid,
        "section": "Results",
        "quote": "the quote",
        "printed": printed,
        "expression": expression,
        "compare": compare,
        "tolerance": tolerance,
        "label": label,
        "note": "",
    }
    return rp.claims_from_frame(pd.DataFrame([row]))[0]


def value(expression: str) -> float | str:
    (x,) = rp.evaluate(claim(expression), values())
    return x


@pytest.fixture(scope="module")
def real() -> tuple[list[rp.TextClaim], rp.Values, pd.DataFrame]:
    pub = rp.load_published(PUBLISHED)
    facts = rp.load_study_facts(PUBLISHED)
    return rp.load_text_claims(PUBLISHED), rp.Values.of(pub, facts), facts


# ---------------------------------------------------------------------------
# the evaluator
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2 + 3 * 4", 14),
        ("(2 + 3) * 4 / 8", 2.5),
        ("10 - 4 - 3", 3),  # left to right
        ("-(2 - 5)", 3),
        ("- -2.5", 2.5),
        ("7 / 2", 3.5),
    ],
)
def test_arithmetic(expression: str, expected: float) -> None:
    assert value(expression) == expected


def test_each_function_reads_its_cell() -> None:
    assert value("cell('table3', 'svc_x', 'yes', 'mn', 'pct')") == 40.5
    assert value("pct('table3', 'svc_x', 'yes', 'isw')") == 62.0
    assert value("n('table3', 'svc_x', 'yes', 'total')") == 15.0
    assert value("n('table3', 'n', '', 'total')") == 30.0
    assert value("mean('table3', 'hours', 'total')") == 21.7
    assert value("sd('table3', 'hours', 'total')") == 14.8
    assert value("diff('table3', 'svc_x', 'yes')") == pytest.approx(62 - 40.5)  # isw - mn
    assert value("fact('clinics')") == 317.0
    assert value("100 * fact('clinics') / fact('eligible')") == pytest.approx(83.421, abs=1e-3)
    p = claim("p('table3', 'svc_x')", compare="p", printed="<.001")
    assert rp.evaluate(p, values()) == ["<0.001"]  # the printed text, not a number
    several = claim("pct('table3', 'svc_x', 'yes', 'mn'), 60 / 4", compare="above", printed="10")
    assert rp.evaluate(several, values()) == [40.5, 15.0]


def test_expression_records_what_it_reads() -> None:
    e = claim("100 * n('table3', 'svc_x', 'yes', 'total') / fact('clinics') + 60").expression
    assert e.cells == (("table3", "svc_x", "yes", "total", "n"),)
    assert e.facts == ("clinics",)
    assert e.literals == (100.0, 60.0)
    d = claim("diff('table3', 'svc_x', 'yes')").expression
    assert d.cells == (
        ("table3", "svc_x", "yes", "isw", "pct"),
        ("table3", "svc_x", "yes", "mn", "pct"),
    )


@pytest.mark.parametrize(
    ("expression", "part"),
    [
        ("fact('clinics').real", "fact('clinics').real"),  # attribute access
        ("__import__('os').system('ls')", "__import__('os').system"),
        ("os.system('ls')", "os.system"),
        ("clinics * 2", "clinics"),  # a bare name
        ("open('x')", "open"),  # a call of anything else
        ("eval('1')", "eval"),
        ("2 ** 10", "2 ** 10"),
        ("7 // 2", "7 // 2"),
        ("1 < 2", "1 < 2"),
        ("[1, 2][0]", "[1, 2][0]"),
        ("lambda: 1", "lambda: 1"),
        ("'text'", "'text'"),
        ("True + 1", "True"),
        ("+3", "+3"),
        ("fact(key='clinics')", "fact(key='clinics')"),
        ("fact('clinics', 'eligible')", "fact('clinics', 'eligible')"),
        ("fact(317)", "317"),
        ("pct('table3', 'svc_x', 'yes', 'mn') + (1, 2)", "(1, 2)"),
        ("1 +", "1 +"),  # not valid syntax: the whole expression is named
    ],
)
def test_rejected_expressions_name_claim_and_part(expression: str, part: str) -> None:
    with pytest.raises(ValidationError) as err:
        claim(expression, cid="claim_42")
    message = str(err.value)
    assert "claim claim_42" in message
    assert repr(part) in message
    assert "text_claims.csv" in message and "expression" in message


def test_p_serves_p_claims_only() -> None:
    with pytest.raises(ValidationError, match="p\\(\\) gives the printed p text.*claim c9"):
        claim("1 + p('table3', 'hours')", compare="p", cid="c9")
    with pytest.raises(ValidationError, match="a p claim is one p"):
        claim("p('table3', 'hours')", compare="value")
    with pytest.raises(ValidationError, match="a p claim is one p"):
        claim("mean('table3', 'hours', 'total')", compare="p")
    with pytest.raises(ValidationError, match="a value claim has one expression"):
        claim("1, 2", compare="value")


def test_bad_rows_are_named() -> None:
    with pytest.raises(ValidationError, match="compare is one of"):
        claim("1", compare="roughly")
    with pytest.raises(ValidationError, match="tolerance is not a number"):
        claim("1", tolerance="a bit")
    row = {c: "" for c in rp.claims.COLUMNS} | {"id": "a", "expression": "1", "compare": "value"}
    with pytest.raises(ValidationError, match="ids are unique"):
        rp.claims_from_frame(pd.DataFrame([row, row]))
    with pytest.raises(ValidationError, match="lack columns"):
        rp.claims_from_frame(pd.DataFrame([row]).drop(columns="compare"))


def test_evaluation_errors_name_the_claim() -> None:
    with pytest.raises(ValueError, match="text claim c1: study_facts.csv has no key 'nope'"):
        value("fact('nope')")
    with pytest.raises(ValueError, match="text claim c1: no printed cell table3/svc_x/no/mn/pct"):
        value("pct('table3', 'svc_x', 'no', 'mn')")
    with pytest.raises(ValueError, match="text claim c1: fact\\('window'\\) is '2022-04/2022-05'"):
        value("fact('window')")
    with pytest.raises(ValueError, match="text claim c1: division by zero"):
        value("1 / (fact('clinics') - 317)")


def test_derivation_is_generated_from_the_expression() -> None:
    v = values()
    assert rp.derivation(claim("100 * fact('clinics') / (fact('eligible') - 63)"), v) == (
        "100 * 317 / (380 - 63)"
    )
    assert rp.derivation(claim("-diff('table3', 'svc_x', 'yes')"), v) == "-(62 - 40.5)"
    several = claim("mean('table3', 'hours', 'total') * 2, 3", compare="above", printed="0")
    assert rp.derivation(several, v) == "21.7 * 2; 3"


def test_check_text_wording() -> None:
    """Each way of comparing, worded as the report prints it (numbers redone by hand)."""
    pub = pd.DataFrame(CELLS, columns=[*rp.KEYS, "value"]).astype(object)
    claims = [
        claim("100 * fact('clinics') / fact('eligible')", printed="83", cid="v"),
        claim("100 * fact('clinics') / fact('eligible')", printed="80", tolerance="3", cid="v3"),
        claim("p('table3', 'hours')", compare="p", printed=".38", cid="p", label="Table 3 p"),
        claim(
            "diff('table3', 'svc_x', 'yes'), -1", compare="direction", printed="isw > mn", cid="d"
        ),
        claim("pct('table3', 'svc_x', 'yes', 'mn')", compare="range", printed="40-45", cid="r"),
        claim(
            "pct('table3', 'svc_x', 'yes', 'isw')",
            compare="range",
            printed="60",
            tolerance="1",
            cid="r1",
        ),
        claim("pct('table3', 'svc_x', 'yes', 'isw')", compare="above", printed="50", cid="a"),
        claim("pct('table3', 'svc_x', 'yes', 'isw')", compare="below", printed="62", cid="b"),
        claim("fact('clinics')", printed="", cid="clinics"),  # printed: the fact of that id
    ]
    out = rp.check_text(pub, FACTS, claims).set_index("item")
    assert out.loc["v", "explanation"] == (
        '"the quote" (Results): table 83.42 vs text 83: equal within 0.5.'
    )
    assert out.loc["v", "test"] == "100 * 317 / 380"  # no label: the derivation
    assert out.loc["v3", "verdict"] == "disagree"  # 83.42 - 80 = 3.42 > 3
    assert "differs by +3.421 (tolerance 3)" in out.loc["v3", "explanation"]
    assert out.loc["p", "test"] == "Table 3 p"
    assert "text p in [0.375, 0.385], table prints 0.38" in out.loc["p", "explanation"]
    assert out.loc["d", "reference"] == "+21.5;-1"
    assert out.loc["d", "verdict"] == "disagree"
    assert "not all within [40, 45]" not in out.loc["r", "explanation"]  # 40.5 is within
    assert out.loc["r1", "verdict"] == "disagree"  # 62 outside [59, 61]
    assert "not all within [59, 61]" in out.loc["r1", "explanation"]
    assert (out.loc["a", "verdict"], out.loc["b", "verdict"]) == ("agree", "agree")
    assert (out.loc["clinics", "printed"], out.loc["clinics", "verdict"]) == ("317", "agree")
    with pytest.raises(ValueError, match="text claim orphan: no printed number"):
        rp.check_text(pub, FACTS, [claim("1", printed="", cid="orphan")])


# ---------------------------------------------------------------------------
# the real claims
# ---------------------------------------------------------------------------


def test_every_claim_evaluates(real) -> None:
    claims, vals, _ = real
    assert len({c.id for c in claims}) == len(claims) == 68
    for c in claims:
        got = rp.evaluate(c, vals)
        if c.compare == "p":
            assert isinstance(got[0], str), c.id
        else:
            assert all(math.isfinite(x) for x in got), c.id
        assert rp.derivation(c, vals), c.id


#: Unit conversions, not data: they may appear as literals even if a study fact had that value.
UNIT_CONSTANTS = {100.0: "percent", 60.0: "minutes per hour"}


def test_no_study_fact_is_a_literal(real) -> None:
    """No number of study_facts.csv appears as a literal in an expression: the expression says
    fact('key'), so that a correction of the transcription reaches every claim that uses it.

    Every expression is parsed (``Expression.literals`` holds its numeric literals) and each literal
    is compared with every numeric value of study_facts.csv (".002" counts as 0.002). The unit
    constants 100 (percent) and 60 (minutes per hour) are exempt: they are conversions, not
    figures of the study. No other constant is exempt, whatever its size.
    """
    claims, _, facts = real
    numbers = set()
    for text in facts["value"]:
        try:
            numbers.add(float(text))
        except ValueError:
            pass
    assert {317.0, 380.0, 213.0, 21.7, 0.002} <= numbers
    offending = [
        (c.id, x)
        for c in claims
        for x in c.expression.literals
        if x in numbers and x not in UNIT_CONSTANTS
    ]
    assert offending == []
    # and the check bites: a literal 317 is caught
    assert 317.0 in claim("100 * 317 / fact('eligible')").expression.literals


_ID = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")


def test_labels_name_only_what_the_expression_reads(real) -> None:
    """A hand-written label (the words the report shows for the table side, kept where the
    derivation cannot give them) must not drift from the expression: every snake_case id is an
    item, level or group the expression reads; every "Table N" a table it reads (a derivation from
    study facts may cite a table in parentheses, "(Table 2: 43.8)"); every number is a literal of
    the expression, a fact it reads, a printed cell of an item it reads, or its result as printed.
    """
    claims, vals, _ = real
    problems = []
    for c in claims:
        if not c.label:
            continue
        e = c.expression
        tables = {k[0] for k in e.cells}
        ids = {x for k in e.cells for x in k[1:4]}
        items = {k[:2] for k in e.cells}
        allowed = set(e.literals) | {float(vals.facts[k]) for k in e.facts}
        for key, text in vals.cells.items():
            if key[:2] in items and re.fullmatch(r"[0-9.]+", text):
                allowed.add(float(text))
        results = [x for x in rp.evaluate(c, vals) if isinstance(x, float)]
        named = re.sub(r"\(Table \d: [0-9.]+\)", "", c.label) if not e.cells else c.label
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
    assert sum(1 for c in claims if c.label) > 50  # the rule is exercised


def test_fact_only_claims_show_their_derivation(real) -> None:
    """Where the derivation gives the report's words, the label is left empty (generated)."""
    claims, vals, _ = real
    by_id = {c.id: c for c in claims}
    assert by_id["recruited_pct_of_eligible"].label == ""
    assert rp.derivation(by_id["recruited_pct_of_eligible"], vals) == "100 * 317 / (415 - 35)"
    assert rp.derivation(by_id["minutes_per_patient"], vals) == "60 * 21.7 / 48.5"
    assert rp.derivation(by_id["discussion_refer_outside_pp_diff"], vals) == "36 - 24"  # isw - mn


def test_text_values_come_from_study_facts(real) -> None:
    claims, _, facts = real
    pub = rp.load_published(PUBLISHED)
    facts = facts.copy()
    facts.loc[facts["key"] == "text_pt_phone_p", "value"] = ".008"
    tx = rp.check_text(pub, facts, claims).set_index("item")
    assert tx.loc["text_pt_phone_p", "verdict"] == "agree"


def test_facts_flow_into_expressions(real) -> None:
    """An expression reads the study facts: a corrected fact changes the claim's table side."""
    claims, _, facts = real
    pub = rp.load_published(PUBLISHED)
    by_id = {c.id: c for c in claims}
    before = rp.check_text(pub, facts, [by_id["care_systems_sum"]]).iloc[0]
    assert (before["reference"], before["test"], before["verdict"]) == (
        "42",
        "16 + 15 + 11",
        "agree",
    )
    facts = facts.copy()
    facts.loc[facts["key"] == "care_systems_small_1_2_clinics", "value"] = "17"
    after = rp.check_text(pub, facts, [by_id["care_systems_sum"]]).iloc[0]
    assert (after["reference"], after["test"], after["verdict"]) == (
        "43",
        "17 + 15 + 11",
        "disagree",
    )
