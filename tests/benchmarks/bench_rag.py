"""RAG case study: corpus loading, index build and per-query serving latency (retrieval + re-rank).

The retrieval code is the notebook's own: the code cells of notebooks/13_case_rag_assistant.ipynb
are executed up to the trained re-ranker and confidence model (figures and widgets skipped), so the
benchmark times exactly what the notebook teaches. Also times the same path on the corpus
replicated 10x, to show how latency grows with the index.
"""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path

from utils.timing import Latency, measure

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "13_case_rag_assistant.ipynb"
LATENCY_BUDGET_MS = 30.0
STOP_AFTER = "confidence = fit_confidence(run_questions(train))"  # the cell that trains the confidence model


def _notebook_namespace() -> dict:
    """Run the notebook's code cells up to (and including) the confidence model; return its globals."""
    import matplotlib
    import nbformat

    matplotlib.use("Agg")
    namespace: dict = {}
    for cell in nbformat.read(NOTEBOOK, as_version=4).cells:
        if cell.cell_type != "code" or cell.source.startswith(("# Figure helper", "# NBVAL_IGNORE_OUTPUT")):
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(cell.source, str(NOTEBOOK.name), "exec"), namespace)  # noqa: S102 - our own notebook
        if STOP_AFTER in cell.source:
            return namespace
    raise RuntimeError(f"{NOTEBOOK.name}: no cell contains {STOP_AFTER!r}")


def _latency(ns: dict, index: object, n: int, repeats: int = 2) -> Latency:
    """The notebook's own measurement (utils.timing.measure): wall-clock p50 best of repeats, pooled p99."""
    questions = ns["questions"].sample(n, replace=True, random_state=0)
    asked = list(zip(questions["question"], questions["asker_role"], strict=True))
    ns["respond"]("warm-up", "employee", idx=index)
    return measure(lambda pair: ns["respond"](*pair, idx=index), asked, repeats=repeats)


def run() -> list[dict]:
    from utils import rag

    start = time.perf_counter()
    docs, sections = rag.load_handbook()
    questions = rag.load_eval()
    load_ms = (time.perf_counter() - start) * 1000

    ns = _notebook_namespace()
    start = time.perf_counter()
    index = ns["Index"](ns["chunks"])
    build_ms = (time.perf_counter() - start) * 1000
    handbook = _latency(ns, index, 1_000)

    big_chunks = ns["pd"].concat([ns["chunks"]] * 10, ignore_index=True)
    start = time.perf_counter()
    big_index = ns["Index"](big_chunks)
    big_build_ms = (time.perf_counter() - start) * 1000
    big_p99 = _latency(ns, big_index, 500).p99

    rows = [
        ("rag: load corpus + eval set", load_ms, "ms", "<= 2000",
         f"{len(docs)} docs, {len(sections)} sections, {len(questions)} questions"),
        ("rag: index build (BM25 + dense), handbook", build_ms, "ms", "<= 2000", f"{len(ns['chunks'])} chunks"),
        ("rag: retrieval + re-rank p50, handbook", handbook.wall_p50, "ms", f"<= {LATENCY_BUDGET_MS:g}", "best of 2 x 1,000 queries"),
        ("rag: retrieval + re-rank p99, handbook", handbook.p99, "ms", f"<= {LATENCY_BUDGET_MS:g}", "2,000 queries"),
        ("rag: index build, corpus x10", big_build_ms, "ms", "<= 10000", f"{len(big_chunks)} chunks"),
        ("rag: retrieval + re-rank p99, corpus x10", big_p99, "ms", f"<= {LATENCY_BUDGET_MS:g}", "2 x 500 queries"),
    ]
    return [{"benchmark": f"{name} ({note})", "value": round(float(value), 1), "unit": unit, "bar": bar,
             "holds": bool(float(value) <= float(bar.split()[-1]))} for name, value, unit, bar, note in rows]


if __name__ == "__main__":
    for row in run():
        print(row)
