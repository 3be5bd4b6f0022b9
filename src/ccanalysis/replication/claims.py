"""The text's quoted numbers checked against the printed tables (section ``text``).

``text_claims.csv``: ``id``, ``section``, ``quote``, ``printed`` (empty: in ``study_facts.csv``),
``expression``, ``compare``, ``tolerance`` (default half the last digit), ``label``, ``note``. An
expression: arithmetic (``+ - * /``, unary minus, a comma list) over :data:`FUNCTIONS` with string
arguments, every :mod:`ast` node checked, evaluated with those functions as the only names."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ccanalysis.io import read_as_printed
from ccanalysis.printing import parse_printed
from ccanalysis.replication.compare import KEYS
from ccanalysis.replication.rows import CONSISTENCY_COLUMNS, EPS, check_row, interval_text
from ccanalysis.vocab import CLINIC_COMPARISON

#: Equal within tolerance; p intervals meet; all > 0; within 'a-b' (or +- tolerance); > ; <=.
COMPARES = ("value", "p", "direction", "range", "above", "below")
#: An expression's functions and parameters; ``diff``: isw - mn pct; ``p``: text (compare p).
FUNCTIONS = {
    "cell": ("table", "item", "level", "group", "measure"),
    "n": ("table", "item", "level", "group"),
    "pct": ("table", "item", "level", "group"),
    "mean": ("table", "item", "group"),
    "sd": ("table", "item", "group"),
    "diff": ("table", "item", "level"),
    "p": ("table", "item"),
    "fact": ("key",),
}
_NODES = (ast.Expression, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.UnaryOp, ast.USub)
_NODES += (ast.Constant, ast.Call, ast.Name, ast.Load)


def parse_expression(text: str, claim: str) -> ast.Expression:
    """A claim's expression, checked: a ValueError names the claim and the part not allowed."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ValueError(f"text claim {claim}: {text!r} is not an expression") from None
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    args = {id(a) for c in calls for a in c.args}
    for node in ast.walk(tree):
        ok = isinstance(node, _NODES) or (isinstance(node, ast.Tuple) and node is tree.body)
        if isinstance(node, ast.Constant):
            kind = str if id(node) in args else int | float
            ok = isinstance(node.value, kind) and not isinstance(node.value, bool)
        elif isinstance(node, ast.Name):
            ok = node.id in FUNCTIONS and any(c.func is node for c in calls)
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else ""
            ok = name in FUNCTIONS and len(node.args) == len(FUNCTIONS[name]) and not node.keywords
            ok &= name != "p" or node is tree.body  # p() gives text: the whole expression
        if not ok:
            raise ValueError(
                f"text claim {claim}: {ast.unparse(node)!r} is not allowed in {text!r}"
            )
    return tree


def load_text_claims(published_dir: str | Path) -> pd.DataFrame:
    """``text_claims.csv`` of ``published_dir`` as text, every expression and compare checked."""
    claims = read_as_printed(Path(published_dir) / "text_claims.csv")
    for c in claims.itertuples():
        parse_expression(c.expression, c.id)
        if c.compare not in COMPARES:
            raise ValueError(f"text claim {c.id}: compare is one of {COMPARES}")
    return claims


def _cells(name: str, args: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The (table, item, level, group, measure) of each printed cell a call reads: ``diff`` the
    isw and mn percentages, ``fact`` ``("fact", key)``."""
    if name == "diff":
        return [(*args, g, "pct") for g in CLINIC_COMPARISON]
    if name in ("mean", "sd"):
        return [(args[0], args[1], "", args[2], name)]
    special = {"cell": args, "p": (*args, "", "all", "p"), "fact": ("fact", *args)}
    return [special.get(name, (*args, name))]


def _reader(published_long: pd.DataFrame, facts: pd.DataFrame) -> Callable[[str, tuple], list[str]]:
    """The printed texts a call reads: ``text(name, args)``."""
    cells = {tuple(r[:5]): r[5] for r in published_long[[*KEYS, "value"]].itertuples(index=False)}
    cells |= {("fact", k): v for k, v in zip(facts["key"], facts["value"], strict=True)}

    def text(name: str, args: tuple[str, ...]) -> list[str]:
        for key in _cells(name, args):
            if key not in cells:
                what = f"study_facts.csv has no key {key[1]!r}" if name == "fact" else None
                raise ValueError(what or f"no printed cell {'/'.join(key)} in the tables")
        return [cells[key] for key in _cells(name, args)]

    return text


def _substitute(tree: ast.Expression, text: Callable, leaf: Callable) -> ast.expr:
    """A checked expression with each call replaced by what it reads (``text``), each printed text
    as ``leaf(function, text)`` makes it; ``diff`` as isw - mn."""

    class Substitute(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.expr:
            texts = text(node.func.id, tuple(a.value for a in node.args))
            parts = [leaf(node.func.id, t) for t in texts]
            return ast.BinOp(parts[0], ast.Sub(), parts[1]) if len(parts) == 2 else parts[0]

    return Substitute().visit(tree).body


def evaluate(
    expression: str, published_long: pd.DataFrame, facts: pd.DataFrame, claim: str = ""
) -> list[float | str]:
    """The table side of a claim: one value per element of its expression (``p``: its text)."""
    tree, text = parse_expression(expression, claim), _reader(published_long, facts)
    try:
        body = _substitute(tree, text, lambda f, t: ast.Constant(t if f == "p" else float(t)))
        code = compile(ast.fix_missing_locations(ast.Expression(body)), "<claim>", "eval")
        value = eval(code, {"__builtins__": {}})  # noqa: S307 (numbers and + - * / only)
    except (ValueError, TypeError, ZeroDivisionError) as e:
        raise ValueError(f"text claim {claim}: {e}") from None
    return list(value) if isinstance(value, tuple) else [value]


def derivation(expression: str, published_long: pd.DataFrame, facts: pd.DataFrame) -> str:
    """The expression with the printed texts in place of cells and facts: to redo by hand."""
    tree, text = parse_expression(expression, ""), _reader(published_long, facts)
    tree = _substitute(tree, text, lambda f, t: ast.Name(t))
    return "; ".join(ast.unparse(p) for p in (tree.elts if isinstance(tree, ast.Tuple) else [tree]))


def _judge(claim: pd.Series, text: str, vals: list[float | str]) -> tuple[bool, str, str]:
    """(agrees, reference, why) of one claim whose table side is ``vals``."""
    kind, tol = claim.compare, float(claim.tolerance) if claim.tolerance else None
    if kind == "value":
        pr = parse_printed(text)
        tol = 0.5 * 10.0 ** (-pr.decimals) if tol is None else tol
        x = float(vals[0])
        ok = abs(x - pr.value) <= tol + EPS
        why = (
            f"equal within {tol:g}" if ok else f"differs by {x - pr.value:+.4g} (tolerance {tol:g})"
        )
        return ok, f"{x:.4g}", f"table {x:.4g} vs text {text}: {why}"
    if kind == "p":
        tp, pp = parse_printed(text), parse_printed(str(vals[0]))
        ok = tp.meets(pp.low, pp.high) and pp.meets(tp.low, tp.high)
        why = f"text {interval_text(tp)}, table prints {pp.text} ({interval_text(pp)})"
        return ok, str(vals[0]), f"{why}: {'compatible' if ok else 'incompatible'}"
    fv = [float(x) for x in vals]
    if kind == "direction":
        ok, ref = all(x > 0 for x in fv), ";".join(f"{x:+.4g}" for x in fv)
        stated = "have the stated direction" if ok else "do not all have the stated direction"
        return ok, ref, f"table difference(s) {ref} {stated}"
    if kind == "range":
        m = re.match(r"^\s*([0-9.]+)\s*-\s*([0-9.]+)\s*$", text)
        if not m and tol is None:
            raise ValueError(
                f"text claim {claim.id}: a range is printed 'a-b' or given a tolerance"
            )
        low, high = map(float, m.groups()) if m else (float(text) - tol, float(text) + tol)
        ok, where = all(low - EPS <= x <= high + EPS for x in fv), f"within [{low:g}, {high:g}]"
    else:
        lim = float(text)
        ok = all((x > lim) if kind == "above" else (x <= lim) for x in fv)
        where = f"{kind} {lim:g}"
    ref = ";".join(f"{x:.4g}" for x in fv)
    return ok, ref, f"table value(s) {ref} {'all' if ok else 'not all'} {where}"


def check_text(
    published_long: pd.DataFrame, facts: pd.DataFrame, claims: pd.DataFrame
) -> pd.DataFrame:
    """A ``text`` row per claim (agree/disagree): ``test`` its label, ``reference`` the tables'."""
    known = dict(zip(facts["key"], facts["value"], strict=True))
    rows = []
    for c in claims.itertuples():
        text = c.printed.strip() or known.get(c.id, "")
        if not text:
            raise ValueError(f"text claim {c.id}: no printed number, and study_facts.csv has none")
        ok, ref, why = _judge(c, text, evaluate(c.expression, published_long, facts, c.id))
        rows.append(
            check_row(
                "text",
                item=c.id,
                check=c.section,
                test=c.label or derivation(c.expression, published_long, facts),
                printed=text,
                reference=ref,
                verdict="agree" if ok else "disagree",
                explanation=f'"{c.quote}" ({c.section}): {why}.' + (f" {c.note}" if c.note else ""),
            )
        )
    return pd.DataFrame(rows, columns=CONSISTENCY_COLUMNS)


def claim_cells(expression: str) -> set[tuple[str, ...]]:
    """The printed cells a claim reads (``diff``: both shares; ``fact``: ``("fact", key)``)."""
    calls = [n for n in ast.walk(parse_expression(expression, "")) if isinstance(n, ast.Call)]
    return {k for c in calls for k in _cells(c.func.id, tuple(a.value for a in c.args))}


def beside_results(claims: pd.DataFrame, sentences: list[dict]) -> pd.DataFrame:
    """Each claim beside the first Results sentence stating every cell it reads (a difference
    states both groups'); ``sentence`` empty where none does."""
    stated = []
    for s in sentences:
        keys = set(s["cells"])
        keys |= {(*k[:3], g, m) for k in s["cells"] if k[-1] == "diff" for g in CLINIC_COMPARISON
                 for m in ("pct", "mean")}  # fmt: skip
        stated.append(keys)
    rows = []
    for c in claims.itertuples():
        need = claim_cells(c.expression)
        hit = next((i for i, keys in enumerate(stated) if need and need <= keys), None)
        s = sentences[hit] if hit is not None else {"section": "", "text": ""}
        rows.append((c.id, c.section, c.quote, s["section"], s["text"]))
    return pd.DataFrame(rows, columns=["id", "section", "quote", "results_section", "sentence"])
