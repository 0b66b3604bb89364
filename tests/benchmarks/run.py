"""`make bench`: per-notebook wall time and peak kernel memory, then every bench_*.py's rows.

Each notebook is executed once from a fresh kernel in a child process (nothing is written back);
the child reports the peak resident memory of its descendants, i.e. the kernel.
Bars (course-spec section 6): each notebook <= 60 s (aim 30 s) and <= 2 GiB peak memory.
"""

from __future__ import annotations

import importlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_SECONDS, NOTEBOOK_GIB = 60.0, 2.0


def run_one(path: Path) -> dict[str, float]:
    """Execute one notebook (in this process, kernel as a child); return time and peak memory."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
    return {"seconds": seconds, "peak_gib": peak_kib / 2**20}


def notebook_rows(paths: list[Path]) -> list[dict[str, object]]:
    rows = []
    for path in paths:
        result = subprocess.run([sys.executable, __file__, "--one", str(path)],
                                capture_output=True, text=True, cwd=ROOT)
        if result.returncode != 0:
            rows.append({"benchmark": f"notebook {path.name}", "value": float("nan"), "unit": "s",
                         "bar": "runs", "holds": False})
            print(result.stderr[-2000:], file=sys.stderr)
            continue
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        rows.append({"benchmark": f"notebook {path.name}: wall time", "value": figures["seconds"],
                     "unit": "s", "bar": f"<= {NOTEBOOK_SECONDS:.0f} s (aim 30 s)",
                     "holds": figures["seconds"] <= NOTEBOOK_SECONDS})
        rows.append({"benchmark": f"notebook {path.name}: peak kernel memory",
                     "value": figures["peak_gib"], "unit": "GiB", "bar": f"<= {NOTEBOOK_GIB:.0f} GiB",
                     "holds": figures["peak_gib"] <= NOTEBOOK_GIB})
        print(f"  {path.name}: {figures['seconds']:.1f} s, {figures['peak_gib']:.2f} GiB", flush=True)
    return rows


def world_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    sys.path.insert(0, str(ROOT))
    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        module = importlib.import_module(f"tests.benchmarks.{path.stem}")
        print(f"  {path.stem} ...", flush=True)
        rows.extend(module.run())
    return rows


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(run_one(Path(argv[1]))))
        return 0
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    print("Executing notebooks (fresh kernel each):", flush=True)
    rows = notebook_rows(paths)
    if not argv:
        print("World and serving benchmarks:", flush=True)
        rows += world_rows()
    width = max(len(str(row["benchmark"])) for row in rows)
    print()
    print(f"{'benchmark':<{width}}  {'value':>10}  {'unit':<5} {'bar':<22} holds")
    for row in rows:
        print(f"{row['benchmark']!s:<{width}}  {float(row['value']):>10.3f}  {row['unit']!s:<5} "
              f"{row['bar']!s:<22} {'yes' if row['holds'] else 'NO'}")
    total = sum(float(r["value"]) for r in rows if str(r["benchmark"]).endswith("wall time"))
    print(f"\nAll notebooks, one after another: {total:.1f} s")
    return 0 if all(row["holds"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
