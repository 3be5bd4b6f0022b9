"""Run one notebook as a pipeline stage (called by the Makefile), with papermill's public API.

``python -m ccanalysis.pipeline run SRC DST -p name value ...`` executes ``SRC`` in the project's
kernel into a temporary file, moved to ``DST`` only on success (papermill writes its output even
when a cell fails, and make would take a failed stage as done). On failure it names the stage, the
cell and the error, keeps the partly executed notebook as ``DST.failed.ipynb`` and exits 1. Each
stage's time goes to ``.make/last-run.tsv``, printed by ``python -m ccanalysis.pipeline times``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ccanalysis.paths import project_root

KERNEL = "ccanalysis"
TIMES = Path(".make/last-run.tsv")
#: Kernel options (ipykernel's command line): jupyter_client interrupts the kernel before every
#: shutdown, and when the SIGINT lands as the idle kernel finishes its last message ipykernel logs
#: "KeyboardInterrupt caught in kernel" into a successful run; the kernel's own log is quiet below
#: CRITICAL (cell errors still reach the notebook and this runner). tests/test_pipeline.py pins it.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


def coerce(value: str) -> object:
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


def failure(nb: dict, stage: str) -> str:
    """The first failed cell, numbered as the code cells of the source notebook (papermill's
    injected parameters cell not counted): its error and its first line."""
    cells = [
        c
        for c in nb["cells"]
        if c["cell_type"] == "code" and "injected-parameters" not in c["metadata"].get("tags", [])
    ]
    for i, cell in enumerate(cells, start=1):
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                head = (cell["source"].strip().splitlines() or [""])[0]
                return (
                    f"*** {stage}: cell {i} failed: {out['ename']}: {out['evalue']}\n"
                    f"    cell {i} begins: {head}\n"
                )
    return f"*** {stage}: the notebook failed outside a cell (see above)\n"


def kernel_config() -> object:
    """Encrypt the kernel's local TCP traffic with CurveZMQ keys made for the run (jupyter_client's
    ``KernelManager.transport_encryption``; the venv's kernelspec declares support)."""
    import zmq
    from traitlets.config import Config

    policy = "auto" if zmq.has("curve") else "disabled"
    return Config({"KernelManager": {"transport_encryption": policy}})


def run(src: Path, dst: Path, params: dict, kernel: str = KERNEL, times: Path = TIMES) -> float:
    """Execute ``src`` into ``dst`` atomically; return the seconds taken (appended to ``times``)."""
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
            config=kernel_config(),
        )
    except pm.PapermillExecutionError:
        os.replace(tmp, failed)
        sys.stderr.write(failure(nbformat.read(failed, as_version=4), stage))
        sys.stderr.write(f"    the partly executed notebook is kept at {failed}\n")
        raise SystemExit(1) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    nbformat.write(deterministic(nb), tmp)
    os.replace(tmp, dst)
    failed.unlink(missing_ok=True)
    seconds = time.perf_counter() - start
    times.parent.mkdir(parents=True, exist_ok=True)
    with times.open("a", encoding="utf-8") as fh:
        fh.write(f"{stage}\t{seconds:.1f}\n")
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


def print_times(path: Path = TIMES) -> None:
    """Print the time per stage of this run (and remove the record), or say nothing ran."""
    if not path.exists():
        print("make all: everything is up to date.")
        return
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line]
    print("\nTime per stage (this run):")
    for stage, s in rows:
        print(f"  {stage:<20} {float(s):6.1f} s")
    print(f"  {'total':<20} {sum(float(s) for _, s in rows):6.1f} s")
    path.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ccanalysis.pipeline")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_run = sub.add_parser("run", help="execute a notebook with papermill")
    p_run.add_argument("src", type=Path)
    p_run.add_argument("dst", type=Path)
    p_run.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    p_run.add_argument("-k", "--kernel", default=KERNEL)
    sub.add_parser("times", help="print the time per stage of this run")
    args = parser.parse_args(argv)
    if args.cmd == "run":
        run(args.src, args.dst, {k: coerce(v) for k, v in args.p}, args.kernel)
    else:
        print_times()


if __name__ == "__main__":
    main()
