"""The project's own error for bad input: one clear message naming file, record, field and value."""

from __future__ import annotations


class ValidationError(ValueError):
    """Bad input, located by file, record, field and value: what every reader of the project
    raises instead of a traceback from deep inside pandas."""

    def __init__(
        self, file: str, record: str | None, field: str | None, value: object, problem: str
    ) -> None:
        self.file = file
        self.record = record
        self.field = field
        self.value = value
        self.problem = problem
        named = {"record": record, "field": field, "value": None if value is None else repr(value)}
        parts = [f"file {file}"] + [f"{k} {v}" for k, v in named.items() if v is not None]
        super().__init__(f"{problem} ({', '.join(parts)})")


def others(n: int, what: str) -> str:
    """`` (n other whats too)`` for a message that names the first of several bad values."""
    return f" ({n} other {what}{'s' if n != 1 else ''} too)" if n > 0 else ""
