"""Test session set-up shared by every test module."""

import sys

# jsonschema imports rfc3987_syntax, only to check an "iri" string format no notebook schema uses,
# and it compiles a grammar at import (~0.9 s of every process that imports nbformat): the pipeline
# skips it too (ccanalysis.pipeline._skip_slow_optional_imports).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
