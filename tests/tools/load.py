"""Run All under load: every notebook, three times in a row, beside six busy numpy processes.

    python tests/tools/load.py [--runs 3] [--workers 6] [NOTEBOOK ...]

A one-off measurement for maintainers (not part of CI): it first runs each notebook once on a quiet
machine, then starts ``--workers`` processes that multiply matrices in a bounded loop (each stops by
itself after ``--max-seconds``, and all are stopped at the end), and runs each notebook ``--runs``
times. It prints, per run, whether Run All finished and the CPU p50 (ms) of every
``utils.timing.Latency`` the notebook measured (what its scorecard may assert), and the ratio of
each loaded figure to the quiet one; a ratio of 2 or more counts as a failure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp  # fork: burners inherit nothing heavy
import os
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.tools.runner import NOTEBOOK_DIR, load, run  # noqa: E402


def _burn(max_seconds: float) -> None:
    os.setsid()  # a session of its own: with autogroup scheduling, each burner competes as fully
    # with the notebook's kernel as a separate application would (a browser, a screen share)
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # this burner only: one core's worth of load
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.random((400, 400))
    stop = time.monotonic() + max_seconds
    while time.monotonic() < stop:
        a = a @ a
        a /= np.abs(a).max()


def _run(path: Path) -> tuple[bool, float, dict[str, object], str]:
    notebook = load(path)
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import json as _json\nfrom utils.timing import Latency as _L\n"
        "_t = {k: v.p50 for k, v in globals().items() if isinstance(v, _L)}\n"
        "_t.update({f'{k}[{j}]': w.p50 for k, v in list(globals().items()) if isinstance(v, dict)\n"
        "           for j, w in v.items() if isinstance(w, _L)})\n"
        "print('TIMINGS-JSON', _json.dumps(_t))"))
    try:
        seconds = run(notebook)
    except Exception as error:  # noqa: BLE001 - report any failure of Run All
        return False, float("nan"), {}, str(error).strip().splitlines()[-1][:200]
    text = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    timings = json.loads(text.split("TIMINGS-JSON", 1)[1]) if "TIMINGS-JSON" in text else {}
    return True, seconds, {k: round(v, 4) for k, v in timings.items()}, ""


def _number(text: object) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--max-seconds", type=float, default=1800)
    args = parser.parse_args()
    paths = [Path(p).with_suffix(".ipynb") for p in args.notebooks] or sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    failures, quiet = 0, {}
    for path in paths:
        ok, seconds, timings, error = _run(path)
        failures += not ok
        quiet[path.name] = timings
        print(f"quiet   {path.name}: {'finished' if ok else 'FAILED ' + error} in {seconds:.1f} s; {timings}", flush=True)
    burners = [mp.Process(target=_burn, args=(args.max_seconds,), daemon=True) for _ in range(args.workers)]
    for b in burners:
        b.start()
    try:
        for path in paths:
            for attempt in range(1, args.runs + 1):
                ok, seconds, timings, error = _run(path)
                ratios = {k: float(v) / float(quiet[path.name][k]) for k, v in timings.items()
                          if k in quiet[path.name] and _number(v) and _number(quiet[path.name][k])
                          and float(quiet[path.name][k]) > 0}
                slow = {k: r for k, r in ratios.items() if r >= 2}
                failures += (not ok) + bool(slow)
                print(f"loaded  {path.name} run {attempt}: {'finished' if ok else 'FAILED ' + error} "
                      f"in {seconds:.1f} s; {timings}; loaded/quiet "
                      f"{ {k: round(r, 2) for k, r in ratios.items()} }{' OVER 2x' if slow else ''}", flush=True)
    finally:
        for b in burners:
            b.terminate()
        for b in burners:
            b.join()
    print(f"{failures} failed runs (Run All stopped, or an asserted timing moved 2x or more under load)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
