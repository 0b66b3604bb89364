"""The printable handouts: the eight-step card and one page per case study (09–13).

Nothing on them is retyped from the notebooks: the eight steps and their questions come from the
table in ``00_course_map.ipynb`` (checked against the case notebooks' ``## N.`` headings), the five
signals from ``utils.interview.SIGNALS``, and every number on a case page from the scorecard the
executed case notebook printed (read by ``utils.interview.case_numbers``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import notebook_io
from tools.notebook_io import KitError, find_row, read_cells
from tools.render import HANDOUTS, esc, inline, page

STEP_TABLE_HEADER = re.compile(r"^\|\s*#\s*\|\s*Step\s*\|\s*The question it answers\s*\|", re.M)
CASE_STEP = re.compile(r"^## (\d)\. (.+?)\s*$", re.M)
PLACEHOLDER = re.compile(r"\[\[(.+?)\]\]")
CODE_SPAN = re.compile(r"`([^`]+)`")
BARE_NUMBER = re.compile(r"(?<![\w@.\-/−])\d")
CASE_FIELDS = ("notebook", "prompt", "metric_tree", "baseline", "offline_metric", "ab_plan", "serving", "failure_modes")


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    question: str
    say: str


def eight_steps(notebook_dir: Path = notebook_io.NOTEBOOK_DIR) -> list[Step]:
    """The eight steps from the table "The eight steps at a glance" in notebook 00, checked against
    the ``## N. Step`` headings of every case notebook (09–13) that exists."""
    course_map = notebook_dir / "00_course_map.ipynb"
    table = next((c.source for c in read_cells(course_map) if c.kind == "markdown" and STEP_TABLE_HEADER.search(c.source)), None)
    if table is None:
        raise KitError(f"{course_map.name}: no table headed '| # | Step | The question it answers |'")
    rows = [line for line in table[STEP_TABLE_HEADER.search(table).start():].split("\n") if line.startswith("|")]
    steps = []
    for row in rows[2:]:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].isdigit():
            break
        steps.append(Step(int(cells[0]), cells[1], cells[2], cells[3].strip('"“”')))
    if [s.number for s in steps] != list(range(1, 9)):
        raise KitError(f"{course_map.name}: the eight-step table has steps {[s.number for s in steps]}, expected 1-8")
    for path in sorted(notebook_dir.glob("1[0-3]_case_*.ipynb")) + sorted(notebook_dir.glob("09_case_*.ipynb")):
        headings = [(int(m.group(1)), m.group(2)) for c in read_cells(path) if c.kind == "markdown"
                    for m in CASE_STEP.finditer(c.source)]
        short = {s.number: s.name for s in steps}
        for number, name in headings:
            if short.get(number) != name:
                raise KitError(f"{path.name}: heading '## {number}. {name}' differs from step {number} "
                               f"'{short[number]}' of 00's table")
    return steps


def signals() -> list[tuple[str, str, tuple[str, ...]]]:
    """The five signals interviewers grade, as (name, what it looks like, what is penalised), from
    ``utils.interview.SIGNALS``."""
    from utils.interview import SIGNALS

    return [(signal.name, signal.looks_like, tuple(signal.penalised)) for signal in SIGNALS]


# ----------------------------------------------------------------------------------------------
# Case pages


def load_cases(path: Path = HANDOUTS / "cases.toml") -> list[dict[str, Any]]:
    """The authored case content; a clear error for a missing field."""
    cases = tomllib.loads(path.read_text(encoding="utf-8")).get("case", [])
    for number, case in enumerate(cases, start=1):
        missing = [f for f in CASE_FIELDS if f not in case]
        if missing:
            raise KitError(f"{path.name}: case #{number} ({case.get('notebook', '?')}) lacks {missing}")
    return cases


def fill(text: str, rows: list[dict[str, str]], notebook: Path) -> str:
    """Inline Markdown ``text`` as HTML, with every ``[[claim]]`` by the scorecard's value (``[[claim|,.0f]]``: formatted); check that inputs in code spans occur in the
    notebook and that no other number is typed."""
    source = "\n".join(c.source for c in read_cells(notebook))
    for span in CODE_SPAN.findall(text):
        if span not in source:
            raise KitError(f"cases.toml, {notebook.name}: the input `{span}` does not occur in the notebook")
    prose = CODE_SPAN.sub("", PLACEHOLDER.sub("", text))
    bare = BARE_NUMBER.search(prose)
    if bare:
        raise KitError(f"cases.toml, {notebook.name}: a typed number in “…{prose[max(0, bare.start() - 30):bare.end() + 20]}…”: "
                       "quote a scorecard claim as [[claim]] or an input as `value`")

    def value(match: re.Match[str]) -> str:
        claim, _, how = match.group(1).partition("|")
        row = find_row(rows, claim.strip(), f"cases.toml, {notebook.name}")
        if how:
            try:
                shown = format(float(row["value"]), how)
            except ValueError as error:
                raise KitError(f"cases.toml, {notebook.name}: cannot format {row['value']!r} as {how!r}") from error
        else:
            shown = row["value"]
        spans.append(f'<span class="num" title="scorecard: {esc(row["claim"])}">{esc(shown)}</span>')
        return f"KITNUMBER{len(spans) - 1}X"

    spans: list[str] = []
    rendered = inline(PLACEHOLDER.sub(value, text))
    return re.sub(r"KITNUMBER(\d+)X", lambda m: spans[int(m.group(1))], rendered)


def _items(lines: list[str], rows: list[dict[str, str]], notebook: Path, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f"<ul{klass}>" + "".join(f"<li>{fill(line, rows, notebook)}</li>" for line in lines) + "</ul>"


def scorecard(notebook: Path) -> list[dict[str, str]]:
    """The scorecard rows of an executed notebook as ``{"claim", "value", "reference"}`` dicts, read by
    ``utils.interview.case_numbers`` (one reader for notebook 14 and the kit)."""
    from utils.interview import case_numbers

    try:
        numbers = case_numbers(notebook)
    except ValueError as error:
        raise KitError(str(error)) from error
    return [{"claim": claim, "value": str(value), "reference": value.reference} for claim, value in numbers.items()]


def case_page(case: dict[str, Any], notebook_dir: Path = notebook_io.NOTEBOOK_DIR,
              numbers: Any = None) -> tuple[str, str]:
    """(file stem, HTML) of one case's handout; ``numbers(path)`` reads the scorecard rows."""
    from utils.course import BY_FILENAME

    name = case["notebook"]
    notebook = notebook_dir / name
    if name not in BY_FILENAME or not notebook.exists():
        raise KitError(f"cases.toml: {name} is not an existing notebook of the course plan")
    rows = scorecard(notebook) if numbers is None else numbers(notebook)
    label = BY_FILENAME[name].label

    def para(key: str) -> str:
        return f"<p>{fill(case[key], rows, notebook)}</p>"

    body = f"""<h1>{esc(label)}: the design on one page</h1>
<p class="lede"><strong>Problem.</strong> {fill(case['prompt'], rows, notebook)}</p>
<div class="grid">
<section><h2>Metric tree</h2>{_items(case['metric_tree'], rows, notebook, 'tree')}
<h2>Baseline</h2>{para('baseline')}
<h2>Offline metric</h2>{para('offline_metric')}</section>
<section><h2>A/B plan</h2>{para('ab_plan')}
<h2>Serving constraints</h2>{_items(case['serving'], rows, notebook)}
<h2>Failure modes</h2>{_items(case['failure_modes'], rows, notebook)}</section>
</div>
<p class="source">Numbers in bold are read by <code>make kit</code> from the scorecard of the executed
notebook <code>notebooks/{esc(name)}</code> (default parameters; hover one to see its claim); inputs in
<code>code</code> are the notebook's stated assumptions. Work through it: {esc(label)}.</p>"""
    return f"case-{name[:2]}", page(f"{label}: handout", body, kind="case")


def card_page(notebook_dir: Path = notebook_io.NOTEBOOK_DIR) -> str:
    """The eight-step card: each step's question and opening sentence, then the five signals."""
    rows = "".join(f"<tr><td>{s.number}</td><td>{inline(s.name)}</td><td>{inline(s.question)}</td>"
                   f"<td>“{inline(s.say)}”</td></tr>" for s in eight_steps(notebook_dir))
    found = signals()
    items = "".join(f"<li><strong>{inline(name)}</strong> — {inline(text)} <em>Penalised:</em> "
                    f"{inline('; '.join(penalised))}.</li>" for name, text, penalised in found)
    from utils.interview import PLAN_45

    plan = " · ".join(f"{esc(step)} {minutes}" for step, minutes in PLAN_45)
    body = f"""<h1>The eight steps of an ML system design answer</h1>
<p class="lede">Walk them in order, out loud; each step narrows the next. Spend the first five minutes
on step 1.</p>
<table><thead><tr><th>#</th><th>Step</th><th>The question it answers</th><th>Say it in the interview</th></tr></thead>
<tbody>{rows}</tbody></table>
<h2>The {len(found)} signals interviewers grade</h2>
<ul class="signals">{items}</ul>
<h2>A {sum(m for _, m in PLAN_45)}-minute interview, minutes per step</h2>
<p>{plan}. Say it out loud, or record yourself.</p>
<p class="source">Steps and questions: the table “The eight steps at a glance” in
<code>notebooks/00_course_map.ipynb</code>; signals and plan: <code>utils/interview.py</code> (<code>SIGNALS</code>, <code>PLAN_45</code>). Generated by
<code>make kit</code>.</p>"""
    return page("The eight-step card", body, kind="card")
