"""``python -m ccanalysis.pipeline run SRC DST -p name value ...``: one notebook as a pipeline stage
(the Makefile calls it), executed by papermill into a temporary file moved to ``DST`` on success
only; a failure names the stage, the cell and the error and keeps ``DST.failed.ipynb``.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from pathlib import Path

from ccanalysis.paths import project_root

KERNEL = "ccanalysis"
#: ipykernel's log quiet below CRITICAL: jupyter_client interrupts the kernel before shutting it
#: down, which can log "KeyboardInterrupt caught in kernel" into a successful run.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


def coerce(value: str) -> object:
    """Parameter text from make to a Python value: None (also ""), bool, int, float or the text."""
    if value in {"None", ""}:
        return None
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def run(src: Path, dst: Path, params: dict, kernel: str = KERNEL) -> float:
    """Execute ``src`` into ``dst`` atomically; return the seconds taken."""
    import nbformat
    import papermill as pm

    stage, start = src.stem, time.perf_counter()
    tmp = dst.with_name(f".{dst.stem}.running.ipynb")
    failed = dst.with_name(f"{dst.stem}.failed.ipynb")
    dst.parent.mkdir(parents=True, exist_ok=True)
    print(f"[{stage}] running {src} -> {dst}", file=sys.stderr, flush=True)
    try:
        nb = pm.execute_notebook(
            str(src),
            str(tmp),
            parameters=params,
            kernel_name=kernel,
            cwd=str(project_root()),
            progress_bar=False,  # whole lines only: make runs stages side by side
            extra_arguments=KERNEL_ARGUMENTS,
        )
    except pm.PapermillExecutionError as err:
        os.replace(tmp, failed)
        head = (err.source.strip().splitlines() or [""])[0]
        sys.stderr.write(
            f"*** {stage}: cell In [{err.exec_count}] failed: {err.ename}: {err.evalue}\n"
            f"    it begins: {head}\n    the partly executed notebook is kept at {failed}\n"
        )
        raise SystemExit(1) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    nbformat.write(deterministic(nb), tmp)
    os.replace(tmp, dst)
    failed.unlink(missing_ok=True)
    seconds = time.perf_counter() - start
    print(f"[{stage}] done in {seconds:.1f} s", file=sys.stderr, flush=True)
    return seconds


def deterministic(nb: dict) -> dict:
    """``nb`` without what differs between two runs: times, durations, paths, random cell ids."""
    meta = nb["metadata"].get("papermill", {})
    for key in ("start_time", "end_time", "duration", "input_path", "output_path"):
        meta.pop(key, None)
    for cell in nb["cells"]:
        if "injected-parameters" in cell["metadata"].get("tags", []):
            cell["id"] = "injected-parameters"
        cell["metadata"].pop("papermill", None)
        cell["metadata"].pop("execution", None)
    return nb


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ccanalysis.pipeline")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_run = sub.add_parser("run", help="execute a notebook with papermill")
    p_run.add_argument("src", type=Path)
    p_run.add_argument("dst", type=Path)
    p_run.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    p_run.add_argument("-k", "--kernel", default=KERNEL)
    args = parser.parse_args(argv)
    run(args.src, args.dst, {k: coerce(v) for k, v in args.p}, args.kernel)


if __name__ == "__main__":
    main()
