"""Run the notebooks as a pipeline stage by stage (called by the Makefile).

``python -m ccanalysis.pipeline run SRC DST -p name value ...`` executes one notebook with papermill
in the project's own kernel, into a temporary file that is moved into place only on success (papermill
writes its output even when a cell fails, and make would take a failed stage as done). On failure it
prints the notebook, the cell and the error, keeps the partly executed notebook as
``DST.failed.ipynb`` for inspection, and exits non-zero. Each stage's time is appended to the run's
timing file, printed by ``python -m ccanalysis.pipeline times`` at the end of ``make all``.

``python -m ccanalysis.pipeline html NB`` renders an executed notebook to HTML, and ``index`` writes
``reports/index.html``, linking every rendered notebook, table and figure.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import time
from pathlib import Path

from ccanalysis.io import write_text
from ccanalysis.paths import project_root
from ccanalysis.vocab import SYNTHETIC_LABEL

KERNEL = "ccanalysis"
TIMES = Path(".make/last-run.tsv")


def _coerce(value: str) -> object:
    """Parameter text from make to a Python value: None, bool, int, float or the string itself."""
    if value in {"None", ""}:
        return None
    if value in {"True", "False"}:
        return value == "True"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _failure_report(nb_path: Path, stage: str) -> str:
    """The first failed cell of an executed notebook: its number, source head and error.

    Cells are numbered as code cells of the source notebook (papermill's injected parameters cell
    is not counted), so that "cell 4" is the fourth code cell a reader sees in ``notebooks/``.
    """
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    code_cells = [
        c
        for c in nb["cells"]
        if c["cell_type"] == "code"
        and "injected-parameters" not in c.get("metadata", {}).get("tags", [])
    ]
    for i, cell in enumerate(code_cells, start=1):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                src = "".join(cell["source"]).strip().splitlines()
                head = src[0] if src else ""
                return (
                    f"\n*** {stage}: cell {i} failed: {out.get('ename')}: {out.get('evalue')}\n"
                    f"    cell {i} begins: {head}\n"
                )
    return f"\n*** {stage}: the notebook failed outside a cell (see above)\n"


def _skip_slow_optional_imports() -> None:
    """Keep jsonschema from importing ``rfc3987_syntax``, which compiles a Lark grammar at import
    (0.9 s of every papermill or nbconvert process here). jsonschema imports it only, and optionally,
    to check the "iri" string format, which the notebook schema nbformat validates against never uses;
    it is installed because jupyterlab's jupyter-events asks for jsonschema[format-nongpl]."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _kernel_config() -> object:
    """Encrypt the kernel's local TCP traffic with CurveZMQ keys made for this run (the venv's
    kernelspec declares support), so that nothing else on the machine can read or drive it;
    ipykernel warns on every start otherwise."""
    import zmq
    from traitlets.config import Config

    return Config(
        {"KernelManager": {"transport_encryption": "auto" if zmq.has("curve") else "disabled"}}
    )


def run(
    src: Path,
    dst: Path,
    params: dict[str, object],
    kernel: str = KERNEL,
    times: Path = TIMES,
) -> float:
    """Execute ``src`` into ``dst`` atomically; return the seconds taken (also appended to ``times``)."""
    _skip_slow_optional_imports()
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    root = project_root()
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.stem}.running.ipynb")
    failed = dst.with_name(f"{dst.stem}.failed.ipynb")
    stage = src.stem
    start = time.perf_counter()
    print(f"[{stage}] running {src} -> {dst}", file=sys.stderr, flush=True)
    try:
        pm.execute_notebook(
            str(src),
            str(tmp),
            parameters=params,
            kernel_name=kernel,
            cwd=str(root),
            progress_bar=False,  # whole lines only: make runs stages side by side
            request_save_on_cell_execute=False,
            config=_kernel_config(),
        )
    except PapermillExecutionError:
        os.replace(tmp, failed)
        sys.stderr.write(_failure_report(failed, stage))
        sys.stderr.write(f"    the partly executed notebook is kept at {failed}\n")
        raise SystemExit(1) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _strip_volatile(tmp)
    os.replace(tmp, dst)
    failed.unlink(missing_ok=True)
    seconds = time.perf_counter() - start
    times.parent.mkdir(parents=True, exist_ok=True)
    with times.open("a", encoding="utf-8") as fh:
        fh.write(f"{stage}\t{seconds:.1f}\n")
    print(f"[{stage}] done in {seconds:.1f} s", file=sys.stderr, flush=True)
    return seconds


def _strip_volatile(nb_path: Path) -> None:
    """Remove execution timestamps, durations and random cell ids so reruns give identical notebooks."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    pm_meta = nb.get("metadata", {}).get("papermill", {})
    for key in ("start_time", "end_time", "duration", "input_path", "output_path"):
        pm_meta.pop(key, None)
    for cell in nb["cells"]:
        meta = cell.get("metadata", {})
        if "injected-parameters" in meta.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill gives it a random id
        meta.get("papermill", {}).clear()
        meta.pop("execution", None)
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def render_html(nb_path: Path, out: Path | None = None) -> Path:
    """Render an executed notebook to HTML beside it (nbconvert's lab template), atomically."""
    _skip_slow_optional_imports()
    from nbconvert import HTMLExporter

    out = out or nb_path.with_suffix(".html")
    body, _ = HTMLExporter(template_name="lab").from_filename(str(nb_path))
    return _touch(write_text(out, body))


def _touch(path: Path) -> Path:
    """Mark a make target as rebuilt even when its bytes did not change (``write_text`` keeps an
    identical file's old time, which would leave make rebuilding it on every run)."""
    os.utime(path)
    return path


def print_times(path: Path = TIMES) -> None:
    """Print the time per stage of this run (and remove the record), or say nothing was run."""
    if not path.exists():
        print("make all: everything is up to date.")
        return
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line]
    total = sum(float(s) for _, s in rows)
    print("\nTime per stage (this run):")
    for stage, s in rows:
        print(f"  {stage:<20} {float(s):6.1f} s")
    print(f"  {'total':<20} {total:6.1f} s")
    path.unlink()


def write_index(root: Path, synthetic: bool) -> Path:
    """Write ``reports/index.html`` linking every rendered notebook, table and figure."""
    reports, tables, figures = root / "reports", root / "tables", root / "figures"

    def links(paths: list[Path], base: Path) -> str:
        if not paths:
            return "<p><em>none yet</em></p>"
        items = "".join(
            f'<li><a href="{html.escape(os.path.relpath(p, base))}">{html.escape(p.name)}</a></li>'
            for p in paths
        )
        return f"<ul>{items}</ul>"

    notebooks = sorted(p for p in reports.glob("[0-9][0-9]_*.html"))
    table_files = sorted(p for p in tables.glob("*") if p.is_file() and not p.name.startswith("."))
    figure_files = sorted(
        p for p in figures.glob("*") if p.is_file() and not p.name.startswith(".")
    )
    images = "".join(
        f'<figure><img src="{html.escape(os.path.relpath(p, reports))}" style="max-width:48%">'
        f"<figcaption>{html.escape(p.name)}</figcaption></figure>"
        for p in figure_files
        if p.suffix == ".png"
    )
    banner = (
        f'<p style="background:#fde2c8;padding:0.5em;font-weight:bold">{html.escape(SYNTHETIC_LABEL)}</p>'
        if synthetic
        else ""
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ccanalysis: reports</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;line-height:1.4}}</style>
</head><body>
<h1>Care coordination survey (Solberg et al. 2024): reproduction</h1>
{banner}
<h2>Notebooks</h2>
{links(notebooks, reports)}
<h2>Tables</h2>
{links(table_files, reports)}
<h2>Figures</h2>
{links(figure_files, reports)}
{images}
</body></html>
"""
    return _touch(write_text(reports / "index.html", page))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ccanalysis.pipeline")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_run = sub.add_parser("run", help="execute a notebook with papermill")
    p_run.add_argument("src", type=Path)
    p_run.add_argument("dst", type=Path)
    p_run.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    p_run.add_argument("-k", "--kernel", default=KERNEL)
    p_html = sub.add_parser("html", help="render an executed notebook to HTML")
    p_html.add_argument("notebook", type=Path)
    sub.add_parser("times", help="print the time per stage of this run")
    p_index = sub.add_parser("index", help="write reports/index.html")
    p_index.add_argument("--synthetic", action="store_true")
    p_index.add_argument(
        "--render",
        nargs="*",
        type=Path,
        default=[],
        help="executed notebooks to render to HTML first, where out of date",
    )
    args = parser.parse_args(argv)
    if args.cmd == "run":
        run(args.src, args.dst, {k: _coerce(v) for k, v in args.p}, args.kernel)
    elif args.cmd == "html":
        render_html(args.notebook)
    elif args.cmd == "times":
        print_times()
    elif args.cmd == "index":
        for nb in args.render:
            html_path = nb.with_suffix(".html")
            if not html_path.exists() or html_path.stat().st_mtime < nb.stat().st_mtime:
                render_html(nb, html_path)
        write_index(project_root(), args.synthetic)


if __name__ == "__main__":
    main()
