"""Test session set-up shared by every test module."""

from ccanalysis.pipeline import skip_slow_optional_imports

# jsonschema imports rfc3987_syntax, only to check an "iri" string format no notebook schema uses,
# and it compiles a grammar at import (~0.9 s of every process that imports nbformat): the tests
# skip it as the pipeline does.
skip_slow_optional_imports()
