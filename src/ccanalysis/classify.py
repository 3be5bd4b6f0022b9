"""Care model classification (the paper's Table 2) under the paper's definition or an alternative
(:data:`DEFINITIONS`, whose outputs carry its label): integrated social worker when the rule holds
(a missing answer is not yes), else medical/nursing; a system-level definition classifies care
systems (all integrated, none, or ``mixed``: clinics in neither group).
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ccanalysis.errors import ValidationError
from ccanalysis.instrument import CARE_SYSTEM_ID
from ccanalysis.io import write_csv, write_parquet
from ccanalysis.paths import Paths, project_root
from ccanalysis.privacy import suppress_small
from ccanalysis.stage import Artifacts, Params
from ccanalysis.vocab import (
    CARE_MODELS,
    CLINIC_GROUPS,
    COORDINATOR_GROUPS,
    CRITERIA,
    DEFAULT_DEFINITION,
    MODEL_GROUP,
)

#: A care system's model in the system-level view (``system_model``).
SYSTEM_MODELS: tuple[str, ...] = (*CARE_MODELS, "mixed")
#: Columns a classification adds to the clinic frame (replaced when a frame is classified again).
CLASS_COLUMNS: tuple[str, ...] = ("isw_model", "care_model", "group", "system_model", "definition")
#: How a clinic with no care model (a clinic of a mixed care system) is counted.
UNCLASSIFIED = "unclassified"


class RuleError(ValueError):
    """A care model rule that does not parse: the rule, the column and the valid criteria."""


def _rule_error(rule: str, column: int, problem: str) -> RuleError:
    return RuleError(
        f"care model rule {rule!r}: {problem} at column {column + 1}\n  {rule}\n  "
        f"{' ' * column}^\nthe criteria: {', '.join(CRITERIA)}, combined with and, or, not, "
        "at_least(k, a, b, ...) and parentheses"
    )


def evaluate(rule: str, yes: pd.DataFrame) -> pd.Series:
    """``rule`` over ``yes`` (a column per criterion: answered yes), read by ``ast`` (never
    ``eval``) on a whitelist: criteria, ``and``, ``or``, ``not``, parentheses,
    ``at_least(k, a, b, ...)``; anything else raises :class:`RuleError`."""
    text = rule.strip()
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as e:
        column = e.offset - 1 if e.offset else len(text)  # 0: at the end of the rule
        raise _rule_error(text, column, e.msg) from None

    def value(node: ast.expr) -> pd.Series:
        if isinstance(node, ast.BoolOp):  # and, or (the only boolean operators)
            parts = pd.concat([value(v) for v in node.values], axis=1)
            return parts.all(axis=1) if isinstance(node.op, ast.And) else parts.any(axis=1)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~value(node.operand)
        if isinstance(node, ast.Name) and node.id in CRITERIA:
            return yes[node.id]
        if isinstance(node, ast.Name):
            raise _rule_error(text, node.col_offset, f"unknown criterion {node.id!r}")
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "at_least":
            k, *terms = node.args or [node]
            if node.keywords or not (
                isinstance(k, ast.Constant) and type(k.value) is int and 0 < k.value <= len(terms)
            ):
                problem = "at_least(k, a, b, ...) needs a whole k from 1 to the number of terms"
                raise _rule_error(text, node.col_offset, problem)
            return sum(value(t).astype(int) for t in terms) >= k.value
        raise _rule_error(text, node.col_offset, f"{ast.unparse(node)!r} is not allowed")

    return value(tree)


@dataclass(frozen=True)
class Definition:
    """A care model definition: a clinic (or every clinic of a care system, ``level="system"``) is
    integrated when ``rule``, over the criteria of Table 2 answered yes, holds."""

    id: str
    label: str
    rule: str
    level: str = "clinic"

    def __post_init__(self) -> None:
        if self.level not in ("clinic", "system"):
            raise ValueError(
                f"definition {self.id!r}: level must be clinic or system, not {self.level!r}"
            )
        self.integrated(pd.DataFrame(columns=list(CRITERIA)))  # raises on a bad rule

    def integrated(self, clinics: pd.DataFrame) -> pd.Series:
        """Whether each clinic's answers meet the rule (before any system-level view)."""
        yes = clinics[list(CRITERIA)].astype(object).eq("yes")
        return evaluate(self.rule, yes).astype(bool)


def read_definitions(path: str | Path) -> dict[str, Definition]:
    """The definitions of a CSV file with the columns ``id, level, rule, label``, by id."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if missing := sorted({"id", "level", "rule", "label"} - set(table.columns)):
        raise ValidationError(str(path), None, "columns", ", ".join(missing), "missing columns")
    out = {}
    for i, row in enumerate(table.itertuples(index=False), start=2):
        try:
            out[row.id] = Definition(row.id, row.label or row.rule, row.rule, row.level or "clinic")
        except ValueError as e:
            raise ValidationError(str(path), f"line {i}", "rule", row.rule, str(e)) from None
    return out


#: The care model definitions by id (``specs/definitions.csv``); the first, the paper's, is the default.
DEFINITIONS: dict[str, Definition] = read_definitions(
    Path(__file__).parent / "specs" / "definitions.csv"
)


def get_definition(definition: str | Definition) -> Definition:
    """A definition from an id of :data:`DEFINITIONS`, ``path/to/file.csv:id`` (relative to the
    project's root) or a rule (``system:`` before it: at care system level)."""
    if isinstance(definition, Definition):
        return definition
    text = str(definition).strip()
    if text in DEFINITIONS:
        return DEFINITIONS[text]
    if ".csv:" in text:
        file, _, key = text.rpartition(":")
        path = Path(file) if Path(file).is_absolute() else project_root() / file
        if not path.is_file():
            raise ValueError(f"care model definition {text!r}: no such file {path}")
        found = read_definitions(path)
        if key not in found:
            raise ValueError(f"{path}: no care model definition {key!r} (ids: {', '.join(found)})")
        return found[key]
    if text.isidentifier() and text not in CRITERIA:
        close = difflib.get_close_matches(text, dict.fromkeys([*DEFINITIONS, *CRITERIA]), n=3)
        raise ValueError(
            f"unknown care model definition {text!r}"
            + (f" (did you mean {', '.join(close)}?)" if close else "")
            + f"; the definitions: {', '.join(DEFINITIONS)}; or a rule over the criteria "
            f"{', '.join(CRITERIA)} with and, or, not, at_least(k, a, b, ...)"
        )
    level = "system" if text.startswith("system:") else "clinic"
    rule = text.removeprefix("system:").strip()
    label = f"{'Care systems' if level == 'system' else 'Clinics'} integrated when {rule}"
    return Definition(text, label, rule, level)


def definition_of(frame: pd.DataFrame) -> Definition:
    """The definition a classified frame carries (its attrs, which pandas keeps through parquet,
    merges and concatenations; else a built-in definition's label; unclassified: the paper's)."""
    if "definition" in frame.attrs:
        d = Definition(**frame.attrs["definition"])
        return DEFINITIONS[d.id] if DEFINITIONS.get(d.id) == d else d
    if "definition" not in frame.columns or frame.empty:
        return DEFINITIONS[DEFAULT_DEFINITION]
    label = str(frame["definition"].iloc[0])
    if found := [d for d in DEFINITIONS.values() if d.label == label]:
        return found[0]
    raise ValueError(f"the frame's care model definition {label!r} is unknown: classify it again")


def describe(d: Definition) -> str:
    """The note of a table built on frames classified by ``d``."""
    if d.id not in DEFINITIONS and d.rule in d.id:  # a rule given as such: its label says it all
        return f"Care models by an alternative definition: {d.label}."
    return f"Care models by an alternative definition ({d.id}): {d.label}."


def _categorical(values: object, categories: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical(values, categories=list(categories), ordered=True)


def classify_clinics(
    clinics: pd.DataFrame, definition: str | Definition = DEFAULT_DEFINITION
) -> pd.DataFrame:
    """Add ``isw_model``, ``care_model``, ``group`` (and ``system_model``, ``definition``)."""
    d = get_definition(definition)
    integrated = d.integrated(clinics)
    model = integrated.map({True: "integrated_sw", False: "medical_nursing"})
    out = clinics.drop(columns=[c for c in CLASS_COLUMNS if c in clinics.columns])
    if d.level == "system":
        share = integrated.groupby(clinics[CARE_SYSTEM_ID]).transform("mean")
        system = share.map({1.0: "integrated_sw", 0.0: "medical_nursing"}).fillna("mixed")
        model = model.where(system.ne("mixed"), None)
    isw = model.map({"integrated_sw": "yes", "medical_nursing": "no"})
    out["isw_model"] = _categorical(isw, ("yes", "no"))
    out["care_model"] = _categorical(model, CARE_MODELS)
    out["group"] = _categorical(model.map(MODEL_GROUP), CLINIC_GROUPS)
    if d.level == "system":
        out["system_model"] = _categorical(system, SYSTEM_MODELS)
    if d.id != DEFAULT_DEFINITION:
        out["definition"] = d.label
    out.attrs["definition"] = asdict(d)
    return out


def classification_log(clinics: pd.DataFrame) -> pd.DataFrame:
    """Answers per criterion (and clinics by their care system's model, at system level)."""
    answers = clinics[list(CRITERIA)].astype(object)
    counts = pd.DataFrame(
        {
            "yes": answers.eq("yes").sum(),
            "no": answers.eq("no").sum(),
            "missing (counted as not yes)": answers.isna().sum(),
        }
    )
    log = counts.rename_axis("criterion").rename_axis(columns="answer").stack()
    if "system_model" in clinics.columns:
        models = clinics["system_model"].value_counts(sort=False)
        log = pd.concat([log, models.set_axis([("system_model", m) for m in models.index])])
    log = log.rename("clinics").rename_axis(["criterion", "answer"]).reset_index()
    if "definition" in clinics.columns:
        log["definition"] = definition_of(clinics).label
    return log


def coordinator_groups(clinics: pd.DataFrame, coordinators: pd.DataFrame) -> pd.DataFrame:
    """Add ``group`` (mn_only, isw_only, both) and clinics per model to the coordinators."""
    counts = pd.crosstab(clinics["coordinator_id"], clinics["care_model"].astype(object))
    counts = counts.reindex(index=coordinators["coordinator_id"], columns=list(CARE_MODELS))
    n_mn, n_isw = (counts[m].fillna(0).to_numpy(dtype="int64") for m in CARE_MODELS)
    both, mn_only, isw_only = (n_mn > 0) & (n_isw > 0), n_mn > 0, n_isw > 0
    group = np.select([both, mn_only, isw_only], ["both", "mn_only", "isw_only"], None)
    out = coordinators.assign(
        n_clinics_mn=n_mn, n_clinics_isw=n_isw, group=_categorical(group, COORDINATOR_GROUPS)
    )
    if "definition" in clinics.columns:
        out["definition"] = definition_of(clinics).label
    out.attrs["definition"] = asdict(definition_of(clinics))
    return out


def model_counts(clinics: pd.DataFrame, coordinators: pd.DataFrame) -> pd.DataFrame:
    """Clinics per care model and coordinators per group (``unclassified``: none)."""
    rows = []
    for unit, values in (
        ("clinics", clinics["care_model"]),
        ("coordinators", coordinators["group"]),
    ):
        rows += [(unit, g, int(n)) for g, n in values.value_counts(sort=False).items()]
        if values.isna().any():
            rows.append((unit, UNCLASSIFIED, int(values.isna().sum())))
    return pd.DataFrame(rows, columns=["unit", "group", "n"])


def compare_definitions(
    clinics: pd.DataFrame,
    definitions: dict[str, Definition] = DEFINITIONS,
    reference: str = DEFAULT_DEFINITION,
) -> pd.DataFrame:
    """Per definition: clinics per model and those changing class from ``reference``'s."""

    def models(d: str | Definition) -> pd.Series:
        return classify_clinics(clinics, d)["care_model"].astype(object).fillna(UNCLASSIFIED)

    ref = models(reference)
    rows = {}
    for d in definitions.values():
        m = models(d)
        rows[d.id] = {
            "label": d.label,
            **{k: int(m.eq(k).sum()) for k in ("integrated_sw", "medical_nursing", UNCLASSIFIED)},
            "changed": int(m.ne(ref).sum()),
            "mn_to_isw": int((ref.eq("medical_nursing") & m.eq("integrated_sw")).sum()),
            "isw_to_mn": int((ref.eq("integrated_sw") & m.eq("medical_nursing")).sum()),
            "to_unclassified": int((ref.ne(UNCLASSIFIED) & m.eq(UNCLASSIFIED)).sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("definition").reset_index()


def criteria_table(log: pd.DataFrame) -> pd.DataFrame:
    """The answers to the criteria, a row per criterion, a column per answer."""
    answers = log[log["criterion"].isin(CRITERIA)]
    return answers.pivot(index="criterion", columns="answer", values="clinics").loc[list(CRITERIA)]


def write_outputs(
    clinics: pd.DataFrame, coordinators: pd.DataFrame, log: pd.DataFrame, outdir: Path
) -> dict[str, Path]:
    """Write the classified frames and the log into ``outdir``."""
    return {
        "clinics": write_parquet(clinics, outdir / "clinics.parquet"),
        "coordinators": write_parquet(coordinators, outdir / "coordinators.parquet"),
        "log": write_csv(log, outdir / "classification_log.csv"),
    }


def run(paths: Paths, params: Params) -> Artifacts:
    """Stage 02: classify the clinics under ``params.definition``, group the coordinators."""
    definition = get_definition(params.definition)
    clean = pd.read_parquet(paths.processed / "clinics_clean.parquet")
    clinics = classify_clinics(clean, definition)
    coordinators = coordinator_groups(
        clinics, pd.read_parquet(paths.processed / "coordinators_clean.parquet")
    )
    log = classification_log(clinics)
    files = write_outputs(clinics, coordinators, log, paths.processed)
    small = params.suppress_below
    return Artifacts(
        files,
        clinics=clinics,
        coordinators=coordinators,
        log=log,
        definition=definition,
        criteria=suppress_small(criteria_table(log), small),
        counts=suppress_small(model_counts(clinics, coordinators), small),
        definitions=suppress_small(
            compare_definitions(clean, DEFINITIONS | {definition.id: definition}).set_index(
                "definition"
            ),
            small,
        ),
    )
