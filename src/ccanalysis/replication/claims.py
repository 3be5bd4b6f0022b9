"""The numbers the paper's text quotes, checked against its printed tables (section ``text``).

The claims are data: ``data/published/text_claims.csv``, one row per number the text quotes from
(or about) the tables, with

* ``id``, ``section`` (where in the paper), ``quote`` (the paper's words);
* ``printed``: the number as the text prints it; empty when ``study_facts.csv`` holds it under the
  claim's id (so that a correction of the transcription flows through);
* ``expression``: one expression over the printed table cells and the study facts that gives the
  table side of the claim (a comma-separated list when the claim covers several rows);
* ``compare``: how the two sides are compared, see :data:`COMPARES`;
* ``tolerance``: for ``value`` (default: half a unit of the text's last printed digit) and for a
  ``range`` given as one number (the range is then printed +- tolerance);
* ``label``: the words the report shows for the table side; empty: the expression with every cell
  and fact replaced by its printed value (:func:`derivation`);
* ``note``: the reading of a loose phrase ("about", "a third"), or what a disagreement means.

Expressions are parsed with :mod:`ast` and only numbers, ``+ - * /``, unary minus, parentheses and
calls of the functions in :data:`FUNCTIONS` (every argument a quoted string) are allowed; anything
else is rejected with a :class:`~ccanalysis.errors.ValidationError` naming the claim and the
offending part. Python's ``eval`` is never called: the evaluator walks the tree itself.
"""

from __future__ import annotations

import ast
import copy
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ccanalysis.errors import ValidationError
from ccanalysis.printing import parse_printed
from ccanalysis.replication.load import KEYS, norm_keys
from ccanalysis.replication.rows import CONSISTENCY_COLUMNS, EPS, check_row, interval_text
from ccanalysis.published import read_printed
from ccanalysis.vocab import CLINIC_COMPARISON

TEXT_CLAIMS_FILE = "text_claims.csv"
COLUMNS = (
    "id",
    "section",
    "quote",
    "printed",
    "expression",
    "compare",
    "tolerance",
    "label",
    "note",
)
#: How the text's number is compared with the expression's value(s).
COMPARES = {
    "value": "agree when |text - table| <= tolerance",
    "p": "the text's printed p and the table's printed p stand for intervals that meet",
    "direction": "every table value > 0 (the stated direction)",
    "range": "every table value within the printed range 'a-b' (or printed +- tolerance)",
    "above": "every table value above the printed number",
    "below": "every table value at or below the printed number",
}
#: The functions an expression may call: name -> (parameters, what it gives).
FUNCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "cell": (tuple(KEYS), "a printed table cell"),
    "n": (("table", "item", "level", "group"), "a printed count"),
    "pct": (("table", "item", "level", "group"), "a printed percentage"),
    "mean": (("table", "item", "group"), "a printed mean"),
    "sd": (("table", "item", "group"), "a printed SD"),
    "diff": (("table", "item", "level"), "pct of isw - pct of mn (percentage points)"),
    "p": (("table", "item"), "a printed p-value, as text (compare p only)"),
    "fact": (("key",), "a number of study_facts.csv"),
}
_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_RANGE = re.compile(r"^\s*([0-9.]+)\s*-\s*([0-9.]+)\s*$")

Cells = Mapping[tuple[str, str, str, str, str], str]


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text, its tree, and the cells, facts and numbers it reads."""

    text: str
    tree: ast.expr
    cells: tuple[tuple[str, str, str, str, str], ...] = ()
    facts: tuple[str, ...] = ()
    literals: tuple[float, ...] = ()

    @property
    def parts(self) -> tuple[ast.expr, ...]:
        """The values the expression gives: the elements of a comma-separated list, or itself."""
        return tuple(self.tree.elts) if isinstance(self.tree, ast.Tuple) else (self.tree,)


@dataclass(frozen=True)
class TextClaim:
    """One row of ``text_claims.csv``, its expression checked."""

    id: str
    section: str
    quote: str
    printed: str
    expression: Expression
    compare: str
    tolerance: float | None
    label: str
    note: str


# ---------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------


def _cell_keys(name: str, args: Sequence[str]) -> list[tuple[str, str, str, str, str]]:
    """The cells a call reads (``diff`` reads two), as (table, item, level, group, measure)."""
    if name == "cell":
        return [tuple(args)]
    if name in ("n", "pct"):
        return [(*args, name)]
    if name in ("mean", "sd"):
        table, item, group = args
        return [(table, item, "", group, name)]
    if name == "diff":
        return [(*args, g, "pct") for g in CLINIC_COMPARISON]
    if name == "p":
        return [(*args, "", "all", "p")]
    return []


def parse_expression(text: str, claim: str, file: str = TEXT_CLAIMS_FILE) -> Expression:
    """Parse and check an expression of claim ``claim``; raise :class:`ValidationError` naming it.

    Allowed: numbers, ``+ - * /``, unary minus, parentheses, calls of :data:`FUNCTIONS` with
    string arguments, and at the top level a comma-separated list of such expressions.
    """

    text = text.strip()

    def bad(node: ast.AST | None, problem: str) -> ValidationError:
        part = ast.get_source_segment(text, node) if node is not None else None
        return ValidationError(file, f"claim {claim}", "expression", part or text, problem)

    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as e:
        raise bad(None, f"the expression is not valid syntax ({e.msg})") from None
    cells: list[tuple[str, str, str, str, str]] = []
    facts: list[str] = []
    literals: list[float] = []

    def walk(node: ast.expr, top: bool) -> None:
        if isinstance(node, ast.Tuple) and top:
            if not node.elts:
                raise bad(node, "an empty list")
            for e in node.elts:
                walk(e, False)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise bad(node, "only numbers may stand alone (strings are function arguments)")
            literals.append(float(node.value))
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _OPERATORS:
                raise bad(node, "only + - * / are allowed")
            walk(node.left, False)
            walk(node.right, False)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub):
                raise bad(node, "only unary minus is allowed")
            walk(node.operand, False)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise bad(node.func, f"only calls of {', '.join(FUNCTIONS)} are allowed")
            name = node.func.id
            params = FUNCTIONS[name][0]
            if node.keywords or len(node.args) != len(params):
                raise bad(node, f"{name} takes {len(params)} arguments ({', '.join(params)})")
            args = []
            for a in node.args:
                if not (isinstance(a, ast.Constant) and isinstance(a.value, str)):
                    raise bad(a, f"the arguments of {name} are quoted strings")
                args.append(a.value)
            if name == "p" and tree is not node:
                raise bad(node, "p() gives the printed p text and must be the whole expression")
            cells.extend(_cell_keys(name, args))
            if name == "fact":
                facts.append(args[0])
        elif isinstance(node, ast.Attribute):
            raise bad(node, "attribute access is not allowed")
        elif isinstance(node, ast.Name):
            raise bad(node, f"the name {node.id!r} is not allowed (use fact('key') or a cell)")
        else:
            raise bad(node, f"{type(node).__name__} is not allowed")

    walk(tree, True)
    return Expression(text, tree, tuple(cells), tuple(facts), tuple(literals))


def _tolerance(value: str, claim: str, file: str) -> float | None:
    if value.strip() == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise ValidationError(
            file, f"claim {claim}", "tolerance", value, "the tolerance is not a number"
        ) from None


def claims_from_frame(frame: pd.DataFrame, file: str = TEXT_CLAIMS_FILE) -> list[TextClaim]:
    """Check every row of a claims frame (the CSV's columns) and return the claims, in order."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValidationError(file, None, None, missing, "the text claims lack columns")
    out: list[TextClaim] = []
    seen: set[str] = set()
    for rec in frame[list(COLUMNS)].fillna("").astype(str).to_dict("records"):
        cid = rec["id"].strip()
        if not cid or cid in seen:
            raise ValidationError(file, f"claim {cid}", "id", cid, "ids are unique and not empty")
        seen.add(cid)
        compare = rec["compare"].strip()
        if compare not in COMPARES:
            raise ValidationError(
                file, f"claim {cid}", "compare", compare, f"compare is one of {sorted(COMPARES)}"
            )
        expr = parse_expression(rec["expression"], cid, file)
        is_p = isinstance(expr.tree, ast.Call) and getattr(expr.tree.func, "id", "") == "p"
        if (compare == "p") != is_p:
            raise ValidationError(
                file,
                f"claim {cid}",
                "expression",
                expr.text,
                "a p claim is one p(table, item) call, and p() serves p claims only",
            )
        if compare == "value" and len(expr.parts) != 1:
            raise ValidationError(
                file, f"claim {cid}", "expression", expr.text, "a value claim has one expression"
            )
        out.append(
            TextClaim(
                id=cid,
                section=rec["section"],
                quote=rec["quote"],
                printed=rec["printed"].strip(),
                expression=expr,
                compare=compare,
                tolerance=_tolerance(rec["tolerance"], cid, file),
                label=rec["label"],
                note=rec["note"],
            )
        )
    return out


def load_text_claims(published_dir: str | Path) -> list[TextClaim]:
    """``text_claims.csv`` of ``published_dir``, every expression checked."""
    path = Path(published_dir) / TEXT_CLAIMS_FILE
    return claims_from_frame(read_printed(path), str(path))


# ---------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Values:
    """What an expression reads: the printed cells (text by key) and the study facts (text)."""

    cells: Cells
    facts: Mapping[str, str]

    @classmethod
    def of(cls, published_long: pd.DataFrame, facts: pd.DataFrame) -> Values:
        pub = norm_keys(published_long)
        cells = {tuple(r[:5]): str(r[5]) for r in pub[[*KEYS, "value"]].itertuples(index=False)}
        return cls(cells, dict(zip(facts["key"], facts["value"], strict=True)))

    def text(self, claim: str, name: str, args: Sequence[str]) -> str:
        """The printed text a call of ``name`` (not ``diff``) stands for."""
        if name == "fact":
            if args[0] not in self.facts:
                raise ValueError(f"text claim {claim}: study_facts.csv has no key {args[0]!r}")
            return str(self.facts[args[0]])
        (key,) = _cell_keys(name, args)
        if key not in self.cells:
            raise ValueError(f"text claim {claim}: no printed cell {'/'.join(key)} in the tables")
        return self.cells[key]

    def number(self, claim: str, name: str, args: Sequence[str]) -> float:
        text = self.text(claim, name, args)
        try:
            return float(text)
        except ValueError:
            raise ValueError(
                f"text claim {claim}: {name}({', '.join(map(repr, args))}) is {text!r}, not a number"
            ) from None


def _args(node: ast.Call) -> list[str]:
    return [a.value for a in node.args]


def _value(node: ast.expr, values: Values, claim: str) -> float | str:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp):
        return -_value(node.operand, values, claim)
    if isinstance(node, ast.BinOp):
        left, right = _value(node.left, values, claim), _value(node.right, values, claim)
        try:
            return _OPERATORS[type(node.op)](left, right)
        except ZeroDivisionError:
            raise ValueError(
                f"text claim {claim}: division by zero in {ast.unparse(node)}"
            ) from None
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)  # parse_expression
    name, args = node.func.id, _args(node)
    if name == "p":
        return values.text(claim, name, args)
    if name == "diff":
        isw, mn = CLINIC_COMPARISON
        table, item, level = args
        return values.number(claim, "pct", [table, item, level, isw]) - values.number(
            claim, "pct", [table, item, level, mn]
        )
    return values.number(claim, name, args)


def evaluate(claim: TextClaim, values: Values) -> list[float | str]:
    """The table side of a claim: one value per element of its expression."""
    return [_value(part, values, claim.id) for part in claim.expression.parts]


def derivation(claim: TextClaim, values: Values) -> str:
    """The expression with every cell and fact replaced by its printed value (made-up numbers:
    ``100 * 30 / 40``).

    A ``diff`` becomes ``isw - mn``; the values of a list are joined with ``"; "``.
    """

    class Substitute(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.expr:
            name, args = node.func.id, _args(node)
            if name == "diff":
                table, item, level = args
                isw, mn = (
                    values.text(claim.id, "pct", [table, item, level, g]) for g in CLINIC_COMPARISON
                )
                return ast.BinOp(ast.Name(isw), ast.Sub(), ast.Name(mn))
            return ast.Name(values.text(claim.id, name, args))

    return "; ".join(
        ast.unparse(Substitute().visit(copy.deepcopy(part))) for part in claim.expression.parts
    )


def claims_table(claims: Sequence[TextClaim], values: Values) -> pd.DataFrame:
    """Each claim's expression beside its derivation and value(s), for a reader to redo by hand."""
    rows = []
    for c in claims:
        got = evaluate(c, values)
        rows.append(
            {
                "id": c.id,
                "section": c.section,
                "printed": c.printed or str(values.facts.get(c.id, "")),
                "compare": c.compare,
                "expression": c.expression.text,
                "derivation": derivation(c, values),
                "value": "; ".join(x if isinstance(x, str) else f"{x:.4g}" for x in got),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# the check
# ---------------------------------------------------------------------------


def _range(claim: TextClaim, text: str) -> tuple[float, float]:
    m = _RANGE.match(text)
    if m:
        return float(m.group(1)), float(m.group(2))
    if claim.tolerance is None:
        raise ValueError(f"text claim {claim.id}: a range is printed 'a-b' or given a tolerance")
    x = float(text)
    return x - claim.tolerance, x + claim.tolerance


def _judge(claim: TextClaim, text: str, vals: list[float | str]) -> tuple[bool, str, str]:
    """(agrees, reference, why) of one claim whose table side is ``vals``."""
    kind = claim.compare
    if kind == "value":
        pr = parse_printed(text)
        tol = claim.tolerance if claim.tolerance is not None else 0.5 * 10.0 ** (-pr.decimals)
        x = float(vals[0])
        ok = abs(x - pr.value) <= tol + EPS
        why = f"table {x:.4g} vs text {text}: " + (
            f"equal within {tol:g}" if ok else f"differs by {x - pr.value:+.4g} (tolerance {tol:g})"
        )
        return ok, f"{x:.4g}", why
    if kind == "p":
        tp, pp = parse_printed(text), parse_printed(str(vals[0]))
        ok = tp.meets(pp.low, pp.high) and pp.meets(tp.low, tp.high)
        why = f"text {interval_text(tp)}, table prints {pp.text} ({interval_text(pp)}): " + (
            "compatible" if ok else "incompatible"
        )
        return ok, str(vals[0]), why
    fv = [float(x) for x in vals]
    if kind == "direction":
        ok = all(x > 0 for x in fv)
        ref = ";".join(f"{x:+.4g}" for x in fv)
        return (
            ok,
            ref,
            f"table difference(s) {ref} "
            + ("have the stated direction" if ok else "do not all have the stated direction"),
        )
    ref = ";".join(f"{x:.4g}" for x in fv)
    if kind == "range":
        low, high = _range(claim, text)
        ok = all(low - EPS <= x <= high + EPS for x in fv)
        span = f"within [{low:g}, {high:g}]"
        return ok, ref, f"table value(s) {ref} " + (f"all {span}" if ok else f"not all {span}")
    lim = float(text)
    ok = all((x > lim) if kind == "above" else (x <= lim) for x in fv)
    return (
        ok,
        ref,
        f"table value(s) {ref} " + (f"all {kind} {lim:g}" if ok else f"not all {kind} {lim:g}"),
    )


def check_text(
    published_long: pd.DataFrame, facts: pd.DataFrame, claims: Sequence[TextClaim]
) -> pd.DataFrame:
    """The text's numbers against the tables (section ``text``; verdict agree/disagree)."""
    values = Values.of(published_long, facts)
    rows = []
    for c in claims:
        text = c.printed
        if not text:
            if c.id not in values.facts:
                raise ValueError(
                    f"text claim {c.id}: no printed number, and study_facts.csv has no key {c.id!r}"
                )
            text = str(values.facts[c.id])
        ok, ref, why = _judge(c, text, evaluate(c, values))
        rows.append(
            check_row(
                section="text",
                table="",
                item=c.id,
                check=c.section,
                test=c.label or derivation(c, values),
                printed=text,
                reference=ref,
                verdict="agree" if ok else "disagree",
                explanation=f'"{c.quote}" ({c.section}): {why}.' + (f" {c.note}" if c.note else ""),
            )
        )
    return pd.DataFrame(rows, columns=CONSISTENCY_COLUMNS)
