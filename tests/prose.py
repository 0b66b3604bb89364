"""Checks of what a notebook *says*: prose numbers, exercises, reading time, paired sources.

Each function returns a list of problems naming the notebook and cell (empty = fine), so that
tests/test_harness.py can prove each one fails on a planted defect.

**Prose numbers.** Every number in a Markdown cell must be one printed by a code cell above it
(stdout or a displayed value), as printed or rounded to the digits the prose gives. Cells whose
output is machine-dependent (first line ``# NBVAL_IGNORE_OUTPUT``) do not count as sources.
Numbers that are *inputs* (assumptions, budgets, bars, parameter values) are written in a code
span, e.g. "a `20` ms budget", and are not checked. Also not checked: the title cell (its reading
time has its own check), integers 0 to 10 (counts of steps, sections, seeds), numbers glued to a
word (``p99``, ``NDCG@10``, ``3-hour``), references such as "step 3", "exercise 2", "notebook 10",
and years in citations ("Chapelle et al. 2012").
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import nbformat

IGNORE_MARK = "# NBVAL_IGNORE_OUTPUT"

CODE_SPAN = re.compile(r"`[^`]*`")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
HTML_TAG = re.compile(r"<[^>]+>")
HEADING_NUMBER = re.compile(r"^(#+\s*)(?:Exercise\s+)?\d+(?:\.\d+)*[.:)]?", re.M)
NOTEBOOK_REF = re.compile(r"\b\d\d\s*·")
REFERENCE = re.compile(
    r"\b(?:steps?|sections?|cells?|exercises?|notebooks?|chapters?|figures?|parts?|questions?|"
    r"rows?|columns?|claims?|seeds?|§|#)\s+\d+(?:\s*(?:[-–,]|and|or|to)\s*\d+)*",
    re.I,
)
CITATION_YEAR = re.compile(r"(?:et al\.?,?|[A-Z][a-zA-Z]+,?|\(|;)\s+(?:19|20)\d\d[a-z]?\b")
# A number standing alone: not glued to a letter, @, _ or a hyphenated word on either side.
PROSE_NUMBER = re.compile(r"(?<![\w@.\-/])([-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−]?\d+(?:\.\d+)?)(?![\w@]|-[A-Za-z]|\.\d)(\s?%)?")
OUTPUT_NUMBER = re.compile(r"[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _value(token: str) -> float:
    return float(token.replace(",", "").replace("−", "-"))


def _decimals(token: str) -> int:
    return len(token.split(".")[1]) if "." in token else 0


def output_text(cell: nbformat.NotebookNode) -> str:
    """What a code cell printed or displayed, as text (HTML tags stripped when only HTML exists)."""
    parts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            parts.append("".join(output["text"]))
            continue
        data = output.get("data", {})
        if "text/plain" in data:
            parts.append("".join(data["text/plain"]))
        if "text/markdown" in data:
            parts.append("".join(data["text/markdown"]))
        if "text/html" in data and "text/plain" not in data:
            parts.append(HTML_TAG.sub(" ", "".join(data["text/html"])))
    return "\n".join(parts)


def prose_numbers(markdown: str) -> list[str]:
    """The numbers in a Markdown text that the prose check holds to the outputs above."""
    text = HTML_COMMENT.sub(" ", markdown)
    text = CODE_SPAN.sub(" ", text)
    text = LINK_TARGET.sub("] ", text)
    text = HEADING_NUMBER.sub(r"\1", text)
    text = NOTEBOOK_REF.sub(" ", text)
    text = REFERENCE.sub(" ", text)
    text = CITATION_YEAR.sub(" ", text)
    text = "\n".join(line for line in text.split("\n") if not line.startswith("*Navigation:*"))
    found = []
    for match in PROSE_NUMBER.finditer(text):
        token, percent = match.group(1), match.group(2)
        if "." not in token and "," not in token and 0 <= abs(_value(token)) <= 10 and not percent:
            continue
        found.append(token + ("%" if percent else ""))
    return found


def _matches(token: str, printed: list[float]) -> bool:
    percent = token.endswith("%")
    bare = token.rstrip("%")
    value, decimals = abs(_value(bare)), _decimals(bare)
    candidates = [(value, decimals)] + ([(value / 100, decimals + 2)] if percent else [])
    for target, places in candidates:
        half = 0.5 * 10 ** -places + 1e-9
        for v in printed:
            v = abs(v)
            if places == 0 and v < 100 and v != math.floor(v):
                continue  # an integer in prose under 100 must be printed as that integer
            if abs(v - target) <= half:
                return True
    return False


def check_prose(path: Path, notebook: nbformat.NotebookNode) -> list[str]:
    """Every checked number in Markdown appears among the outputs of the code cells above it."""
    problems = []
    printed: list[float] = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            if not cell.source.lstrip().startswith(IGNORE_MARK):
                printed += [_value(t) for t in OUTPUT_NUMBER.findall(output_text(cell))]
            continue
        if cell.cell_type != "markdown" or index == 0:
            continue
        missing = [t for t in prose_numbers(cell.source) if not _matches(t, printed)]
        if missing:
            problems.append(
                f"{path.name} cell {index}: prose quotes {', '.join(missing)}, printed by no cell above "
                "(print it above, or write an input/assumption in a code span)"
            )
    return problems


# --------------------------------------------------------------------------------------------
# Exercises

CHECK_LINE = re.compile(r"^(?P<name>.+?): correct ✓ \(answer: (?P<answer>.+)\)$", re.M)
SECTION = re.compile(r"^#{2,3}\s.*", re.M)


def _section_bounds(notebook: nbformat.NotebookNode) -> tuple[int, int, int] | None:
    """(start of 'Your turn', start of 'Solutions', end of solutions) cell indices, or None."""
    start = solutions = None
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        headings = " ".join(SECTION.findall(cell.source)).lower()
        if start is None and "your turn" in headings:
            start = index
        elif start is not None and solutions is None and "solutions" in headings:
            solutions = index
    if start is None or solutions is None:
        return None
    end = next((i for i in range(solutions + 1, len(notebook.cells))
                if notebook.cells[i].cell_type == "markdown" and re.search(r"^##\s", notebook.cells[i].source, re.M)
                and "solution" not in notebook.cells[i].source.split("\n")[0].lower()), len(notebook.cells))
    return start, solutions, end


def _answer_forms(value: float) -> list[str]:
    """Ways a number could be written in a cell that gives it away (two or more significant digits)."""
    forms = set()
    for places in range(0, 5):
        text = f"{value:.{places}f}"
        digits = text.replace("-", "").replace(".", "").lstrip("0")
        if len(digits) >= 2 and float(text) != 0:
            forms.add(text)
            forms.add(f"{value:,.{places}f}")
    if 0 < abs(value) < 1:
        for places in range(0, 2):
            text = f"{100 * value:.{places}f}"
            if len(text.replace(".", "").lstrip("0")) >= 2:
                forms.add(text + "%")
                forms.add(text + " %")
    return sorted(forms)


def check_exercises(path: Path, notebook: nbformat.NotebookNode) -> list[str]:
    """No exercise cell, check, hint or placeholder shows its expected value; checks compute it.

    The expected values come from the solutions, whose self-checks print ``answer: V`` when right.
    """
    bounds = _section_bounds(notebook)
    if bounds is None:
        return [f"{path.name}: needs a '## … Your turn' section followed by a '## … Solutions' section"]
    start, solutions, end = bounds
    problems = []
    answers: dict[str, str] = {}
    for cell in notebook.cells[solutions:end]:
        if cell.cell_type == "code":
            for m in CHECK_LINE.finditer(output_text(cell)):
                answers[m.group("name").strip()] = m.group("answer").strip()
    exercise_cells = [(i, c) for i, c in enumerate(notebook.cells[start:solutions], start)]
    checked = set()
    for index, cell in exercise_cells:
        if cell.cell_type != "code":
            continue
        for call in _check_calls(cell.source):
            name, expected = call
            checked.add(name)
            if expected is not None and _is_literal(expected):
                problems.append(f"{path.name} cell {index}: check of {name!r} compares with a literal "
                                f"({ast.unparse(expected)}); compute it from the notebook's state")
    for name in sorted(checked - set(answers)):
        problems.append(f"{path.name}: exercise {name!r} has no solution whose self-check prints 'correct ✓'")
    for name, answer in answers.items():
        try:
            value = float(answer.strip("[]").split(",")[0])
        except ValueError:
            continue
        forms = _answer_forms(value)
        for index, cell in exercise_cells:
            text = cell.source + "\n" + output_text(cell)
            for form in forms:
                if re.search(rf"(?<![\d.,]){re.escape(form)}(?![\d])", text):
                    problems.append(f"{path.name} cell {index}: shows {form}, the expected answer of {name!r}")
            for a, b in re.findall(r"(\d[\d_,]*\.?\d*)\s*/\s*(\d[\d_,]*\.?\d*)", cell.source):
                denominator = _value(b.replace("_", ""))
                if denominator and math.isclose(_value(a.replace("_", "")) / denominator, value, rel_tol=5e-3):
                    problems.append(f"{path.name} cell {index}: '{a} / {b}' computes the answer of {name!r}")
    return problems


def _check_calls(source: str) -> list[tuple[str, ast.expr | None]]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "check_answer":
            if not node.args or not isinstance(node.args[0], ast.Constant):
                continue
            expected = node.args[2] if len(node.args) > 2 else next(
                (k.value for k in node.keywords if k.arg == "expected"), None)
            calls.append((str(node.args[0].value), expected))
    return calls


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def check_judgment(path: Path, notebook: nbformat.NotebookNode, minimum: int = 2) -> list[str]:
    """At least ``minimum`` judgment exercises, each with a model answer and a self-check list,
    and at least ``minimum`` 'Predict, then run' prompts before key results."""
    bounds = _section_bounds(notebook)
    if bounds is None:
        return [f"{path.name}: needs a '## … Your turn' section followed by a '## … Solutions' section"]
    start, solutions, end = bounds
    text = lambda a, b: "\n".join(c.source for c in notebook.cells[a:b] if c.cell_type == "markdown")  # noqa: E731
    asked = len(re.findall(r"\(judg(?:e)?ment\)", text(start, solutions), re.I))
    answered = len(re.findall(r"\*\*Model answer", text(solutions, end)))
    checklists = len(re.findall(r"\*\*Self-check", text(solutions, end)))
    predicts = len(re.findall(r"\*\*Predict, then run", text(0, start)))
    problems = []
    if asked < minimum:
        problems.append(f"{path.name}: {asked} judgment exercises (headings marked '(judgment)'); needs {minimum}")
    if answered < asked or checklists < asked:
        problems.append(f"{path.name}: {asked} judgment exercises but {answered} '**Model answer' and "
                        f"{checklists} '**Self-check' blocks in the solutions")
    if predicts < minimum:
        problems.append(f"{path.name}: {predicts} '**Predict, then run' prompts before the exercises; needs {minimum}")
    return problems


# --------------------------------------------------------------------------------------------
# Reading time

WORDS_PER_MINUTE = 200      # prose, read attentively (notebook-style.md)
CODE_LINES_PER_MINUTE = 10  # code read for what it does, outputs included
MINUTES_PER_FIGURE = 0.5
MINUTES_PER_EXERCISE = 4    # an honest attempt at one exercise


def reading_minutes(notebook: nbformat.NotebookNode) -> int:
    """Honest study time, rounded to 5 minutes: prose at 200 words a minute, code at 10 lines a
    minute, half a minute a figure, four minutes an exercise; solutions are not counted."""
    bounds = _section_bounds(notebook)
    last = bounds[1] if bounds else len(notebook.cells)
    words = lines = figures = 0
    for cell in notebook.cells[:last]:
        if cell.cell_type == "markdown":
            words += len(re.findall(r"[A-Za-z0-9']+", CODE_SPAN.sub(" x ", cell.source)))
        elif cell.cell_type == "code":
            lines += sum(1 for line in cell.source.split("\n") if line.strip() and not line.strip().startswith("#"))
            figures += sum(1 for o in cell.get("outputs", []) if "image/png" in o.get("data", {}))
    exercises = 0
    if bounds:
        exercises = len(re.findall(r"^#{3,4} .*Exercise", "\n".join(
            c.source for c in notebook.cells[bounds[0]:bounds[1]] if c.cell_type == "markdown"), re.M))
    minutes = (words / WORDS_PER_MINUTE + lines / CODE_LINES_PER_MINUTE
               + figures * MINUTES_PER_FIGURE + exercises * MINUTES_PER_EXERCISE)
    return max(5, int(5 * round(minutes / 5)))


def stated_minutes(notebook: nbformat.NotebookNode) -> int | None:
    match = re.search(r"about (\d+) min", notebook.cells[0].source) if notebook.cells else None
    return int(match.group(1)) if match else None


def check_reading_time(path: Path, notebook: nbformat.NotebookNode, planned: int | None) -> list[str]:
    """The stated time equals the computed one, and the course plan (utils/course.py) agrees."""
    computed, stated = reading_minutes(notebook), stated_minutes(notebook)
    problems = []
    if stated != computed:
        problems.append(f"{path.name} cell 0: says 'about {stated} min'; its words and code take about {computed} min")
    if planned is not None and planned != computed:
        problems.append(f"{path.name}: utils/course.py plans {planned} min; the notebook takes about {computed} min")
    return problems


# --------------------------------------------------------------------------------------------
# Paired text sources


def check_source_sync(path: Path, notebook: nbformat.NotebookNode, source: nbformat.NotebookNode) -> list[str]:
    """The executed notebook was built from its text source: same cells, sources and tags."""
    def cells(nb: nbformat.NotebookNode) -> list[tuple[str, str, tuple[str, ...]]]:
        return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", []))) for c in nb.cells]

    built, text = cells(notebook), cells(source)
    if built == text:
        return []
    if len(built) != len(text):
        return [f"{path.name}: {len(built)} cells, but {path.with_suffix('.py').name} has {len(text)} "
                f"(run `make execute NOTEBOOKS=notebooks/{path.name}`)"]
    first = next(i for i, (a, b) in enumerate(zip(built, text, strict=True)) if a != b)
    return [f"{path.name} cell {first}: differs from {path.with_suffix('.py').name} "
            f"(edit the .py, then `make execute NOTEBOOKS=notebooks/{path.name}`)"]
