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

CODE_SPAN = re.compile(r"`([^`]*)`")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
HTML_TAG = re.compile(r"<[^>]+>")
EMPHASIS = re.compile(r"(?<![\w])[_*]+|[_*]+(?![\w])")
HEADING_NUMBER = re.compile(r"^(#+\s*)(?:Exercise\s+)?\d+(?:\.\d+)*[.:)]?", re.M)
NOTEBOOK_REF = re.compile(r"\b\d\d\s*·")
# "step 3", "cells 22, 24 and 30", "exercises 1-3": references, not results (a list continues
# only with one- or two-digit numbers, so "step 3, 745 customers" still checks 745).
REFERENCE = re.compile(
    r"\b(?:steps?|sections?|cells?|exercises?|notebooks?|chapters?|figures?|parts?|questions?|"
    r"rows?|columns?|claims?|§|#)\s+\d+(?:\s*(?:[-–,]|and|or|to)\s*\d{1,2}\b)*",
    re.I,
)
# Years in citations: "Chapelle et al. 2012", "(Joachims 2017)", "Hager et al., 2024".
CITATION_YEAR = re.compile(
    r"(?:et al\.?,?\s+|\(\s*[A-Z][\w-]+(?:\s+(?:and|&)\s+[A-Z][\w-]+)?,?\s+|[A-Z][\w-]+,?\s+(?=(?:19|20)\d\d[a-z]?\)))"
    r"(?:19|20)\d\d[a-z]?\b"
)
# A number: digits with optional thousands separators and decimals, or a bare ".93".
NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+")
# Suffixes a result may carry: a unit glued to it ("37ms", "9.7x") or a scale ("1.2M", "40k").
SUFFIX = re.compile(r"(?:ms|s|x|×|pp|M|k|K)(?![A-Za-z])")
SCALE = {"M": 1e6, "k": 1e3, "K": 1e3}
NUMBER_WORDS = {w: n for n, w in enumerate(
    "eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split(), start=11)}
NUMBER_WORDS.update({w: 10 * n for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)})
WORD_NUMBER = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.I)
COUNT_OF = re.compile(r"\b(\d+) (?:of|in|out of) (\d+)\b")


def _value(token: str) -> float:
    return float(token.replace(",", "").replace("−", "-"))


def _decimals(token: str) -> int:
    return len(token.split(".")[1]) if "." in token else 0


def output_text(cell: nbformat.NotebookNode) -> str:
    """What a code cell printed or displayed, as text (HTML used when the plain text is only an
    object's repr, as for a pandas Styler)."""
    parts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            parts.append("".join(output["text"]))
            continue
        data = output.get("data", {})
        plain = "".join(data.get("text/plain", ""))
        if plain and not re.match(r"^<[\w.]+ (?:object )?at 0x", plain.strip()):
            parts.append(plain)
        elif "text/html" in data:
            parts.append(HTML_TAG.sub(" ", "".join(data["text/html"])))
        if "text/markdown" in data:
            parts.append("".join(data["text/markdown"]))
    return "\n".join(parts)


def numbers_in(text: str, *, prose: bool) -> list[tuple[str, float, int, bool]]:
    """(token, value, decimals, signed) for each number standing on its own in ``text``.

    Skipped: numbers glued to a word before them (``p99``, ``NDCG@10``, ``top-5``, ``L2``) and
    numbers followed by a letter other than a unit suffix. In prose, a minus sign counts only
    when it stands before the number (``−0.3``), not in a range (``0.5–0.8``).
    """
    found = []
    for match in NUMBER.finditer(text):
        begin, end = match.span()
        before = text[max(0, begin - 2):begin]
        after = text[end:end + 3]
        if before[-1:] and (before[-1].isalnum() or before[-1] in "@_./\\" ):
            continue
        if before[-1:] != "" and before[-1:] in "-–" and before[:1].isalpha():
            continue  # "top-5", "p-10"
        suffix = SUFFIX.match(after)
        if after[:1].isalpha() and not suffix:
            continue
        if after[:1] == "-" and after[1:2].isalpha() and "." not in match.group():
            continue  # "15-minute", "5-fold": a description, not a result
        if after[:1] == "." and after[1:2].isdigit():
            continue
        token = match.group()
        value = _value(token)
        if suffix and suffix.group() in SCALE:
            value *= SCALE[suffix.group()]
        signed = before[-1:] != "" and before[-1:] in "−-" and not before[:1].isdigit()
        if signed:
            value = -value
        found.append((token, value, _decimals(token), signed))
    return found


def prose_numbers(markdown: str) -> list[tuple[str, float, int, bool]]:
    """The numbers in a Markdown text that the prose check holds to the outputs above."""
    text = HTML_COMMENT.sub(" ", markdown)
    text = CODE_SPAN.sub(" ", text)
    text = LINK_TARGET.sub("] ", text)
    text = EMPHASIS.sub(" ", text)
    text = HEADING_NUMBER.sub(r"\1", text)
    text = NOTEBOOK_REF.sub(" ", text)
    text = text.replace("In 60 seconds", " ")  # the closing section every notebook has
    text = REFERENCE.sub(" ", text)
    text = CITATION_YEAR.sub(" ", text)
    text = "\n".join(line for line in text.split("\n") if not line.startswith("*Navigation:*"))
    counted = {m.start(g) for m in COUNT_OF.finditer(text) for g in (1, 2)}
    found = []
    for token, value, decimals, signed in numbers_in(text, prose=True):
        small = decimals == 0 and "," not in token and abs(value) <= 10
        if small and not signed:
            positions = [m.start() for m in re.finditer(rf"(?<![\d.,]){re.escape(token)}(?![\d])", text)]
            if not any(p in counted for p in positions):
                continue  # counts of steps, sections, seeds ... unless written "k of n"
        found.append((token, value, decimals, signed))
    for match in WORD_NUMBER.finditer(text):
        found.append((match.group(), float(NUMBER_WORDS[match.group().lower()]), 0, False))
    return found


def _matches(number: tuple[str, float, int, bool], printed: list[float]) -> bool:
    """Printed as the prose writes it, or rounded to the prose's digits; "18.4 %" also matches a
    printed 0.184. A signed prose number must match the sign; an unsigned one matches either."""
    token, value, decimals, signed = number
    written = _value(token) if token[:1].isdigit() or token[:1] == "." else value  # "sixteen"
    scale = abs(value) / abs(written) if written else 1.0  # "1.2M" is 1.2 million
    for target, half in ((value, 0.5 * 10 ** -decimals * scale), (value / 100, 0.5 * 10 ** -(decimals + 2) * scale)):
        for v in printed:
            t = target
            if not signed:
                v, t = abs(v), abs(t)
            if decimals == 0 and scale == 1 and abs(v) < 100 and v != math.floor(v) and half >= 0.5:
                continue  # an integer in prose under 100 must be printed as that integer
            if abs(v - t) <= half + 1e-12:
                return True
    return False


def code_trees(notebook: nbformat.NotebookNode) -> list[ast.Module]:
    """The parsed code cells (IPython magics and shell lines dropped; unparsable cells skipped)."""
    trees = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            trees.append(ast.parse(re.sub(r"^\s*[%!].*$", "", cell.source, flags=re.M)))
        except SyntaxError:
            continue
    return trees


def code_literals(notebook: nbformat.NotebookNode) -> set[float]:
    """Every numeric literal written in the notebook's code (``1_000`` counts as 1000)."""
    values: set[float] = set()
    for tree in code_trees(notebook):
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
                values.add(abs(float(node.value)))
    return values


def check_prose(path: Path, notebook: nbformat.NotebookNode) -> list[str]:
    """Every checked number in Markdown appears among the outputs of the code cells above it;
    every number in a code span is a literal somewhere in the notebook's code; a notebook that
    quotes results says they are for the default parameters."""
    problems = []
    printed: list[float] = []
    literals = code_literals(notebook)
    quotes_results = False
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            if not cell.source.lstrip().startswith(IGNORE_MARK):
                typed = {t for t, *_ in numbers_in(cell.source, prose=False)}
                printed += [v for t, v, _, _ in numbers_in(output_text(cell), prose=False) if t not in typed]
            continue
        if cell.cell_type != "markdown" or index == 0:
            continue
        numbers = prose_numbers(cell.source)
        quotes_results |= bool(numbers)
        missing = [n[0] for n in numbers if not _matches(n, printed)]
        if missing:
            problems.append(
                f"{path.name} cell {index}: prose quotes {', '.join(missing)}, printed by no cell above "
                "(print it above, or write an input/assumption in a code span)"
            )
        for span in CODE_SPAN.findall(cell.source):
            for token, value, _, _ in numbers_in(span, prose=False):
                if abs(value) not in literals and abs(_value(token)) not in literals and not _in_code(token, notebook):
                    problems.append(f"{path.name} cell {index}: `{span}` quotes {token}, which no code cell sets "
                                    "(a number in code font is an input: it must be in the code)")
    head = "\n".join(c.source for c in notebook.cells[:8] if c.cell_type == "markdown")
    if quotes_results and "default parameters" not in head:
        problems.append(f"{path.name}: its prose quotes results; say near the top that they are for the default parameters")
    return problems


def _in_code(token: str, notebook: nbformat.NotebookNode) -> bool:
    plain = token.replace(",", "")
    return any(re.search(rf"(?<![\w.]){re.escape(plain)}(?![\w])", c.source.replace("_", ""))
               for c in notebook.cells if c.cell_type == "code")


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


def _exercise_end(notebook: nbformat.NotebookNode, start: int, solutions: int) -> int:
    """Where the exercises stop: the next ``## `` section after 'Your turn' (the scorecard, the
    60-second summary), or the solutions."""
    for index in range(start + 1, solutions):
        cell = notebook.cells[index]
        if cell.cell_type == "markdown":
            for line in cell.source.split("\n"):
                if re.match(r"^##\s", line) and not re.search(r"your turn|exercise", line, re.I):
                    return index
    return solutions


def check_exercises(path: Path, notebook: nbformat.NotebookNode) -> list[str]:
    """No exercise cell, check, hint or placeholder shows its expected value; checks compute it.

    The expected values come from the solutions, whose self-checks print ``answer: V`` when right.
    In the exercise section (Markdown, code and outputs, up to the solutions) no number may be one
    that the exercise's own self-check would accept, as written or as a percentage; no ``a / b``
    of literals may compute it; a string answer may not appear in a hint or placeholder. Every
    numeric exercise (``### Exercise N`` not marked ``(judgment)``) has a self-check, and its
    solution prints ``correct ✓``.
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
    literal_names = _names_bound_to_literals(notebook)
    key_names = _answer_key_names(notebook)
    stop = _exercise_end(notebook, start, solutions)
    exercise_cells = [(i, c) for i, c in enumerate(notebook.cells[start:stop], start)
                      if "answer-key" not in c.get("metadata", {}).get("tags", [])]  # collapsed on purpose
    calls: dict[str, tuple[float, float]] = {}
    for index, cell in exercise_cells:
        if cell.cell_type != "code":
            continue
        for name, expected, rel_tol, abs_tol in _check_calls(cell.source):
            calls[name] = (rel_tol, abs_tol)
            if expected is not None and (_is_literal(expected) or (isinstance(expected, ast.Name) and expected.id in literal_names)):
                problems.append(f"{path.name} cell {index}: check of {name!r} compares with a literal "
                                f"({ast.unparse(expected)}); compute it from the notebook's state")
            elif expected is not None and _root_name(expected) not in key_names:
                problems.append(f"{path.name} cell {index}: check of {name!r} computes its expected value in view "
                                f"({ast.unparse(expected)[:60]}); compute it in the collapsed answer-key cell")
    headings = "\n".join(c.source for _, c in exercise_cells if c.cell_type == "markdown")
    numeric = {m.group(1) for m in re.finditer(r"^#{3,4}\s+Exercise\s+(\d+)(?![^\n]*\(judg)", headings, re.M)}
    numeric |= {m.group(1) for m in re.finditer(r"\*\*Exercise\s+(\d+)\.?\*\*(?![^\n]*\(judg)", headings)}
    checked_numbers = {re.sub(r"\D", "", name) for name in calls}
    for number in sorted(numeric - checked_numbers):
        problems.append(f"{path.name}: Exercise {number} has no self-check (mark it '(judgment)' if it is answered in words)")
    for name in sorted(set(calls) - set(answers)):
        problems.append(f"{path.name}: exercise {name!r} has no solution whose self-check prints 'correct ✓'")
    for name, answer in answers.items():
        rel_tol, abs_tol = calls.get(name, (0.02, 0.0))
        for value in _answer_values(answer):
            if isinstance(value, str):
                for index, cell in exercise_cells:
                    if cell.cell_type == "code" and re.search(rf"[\"']{re.escape(value)}[\"']", cell.source, re.I):
                        problems.append(f"{path.name} cell {index}: shows {value!r}, the expected answer of {name!r}")
                continue
            for index, cell in exercise_cells:
                text = cell.source + "\n" + (output_text(cell) if cell.cell_type == "code" else "")
                for token, shown, _, _ in numbers_in(text, prose=False):
                    if _gives_away(shown, value, rel_tol, abs_tol, token):
                        problems.append(f"{path.name} cell {index}: shows {token}, which the self-check of "
                                        f"{name!r} accepts")
                for a, b in re.findall(r"(\d[\d_,]*\.?\d*)\s*[/÷]\s*(\d[\d_,]*\.?\d*)", cell.source):
                    denominator = _value(b.replace("_", ""))
                    if denominator and math.isclose(_value(a.replace("_", "")) / denominator, value, rel_tol=max(rel_tol, 5e-3)):
                        problems.append(f"{path.name} cell {index}: '{a} / {b}' computes the answer of {name!r}")
    return problems


def _answer_values(answer: str) -> list[float | str]:
    """The printed answer as numbers (every element of a list) or as a string."""
    items = [a.strip() for a in answer.strip("[]()").split(",")] if answer[:1] in "[(" else [answer]
    values: list[float | str] = []
    for item in items:
        try:
            values.append(float(item))
        except ValueError:
            if item[:1] in "'\"" and len(item.strip("'\"")) >= 2:
                values.append(item.strip("'\""))
    return values


def _gives_away(shown: float, value: float, rel_tol: float, abs_tol: float, token: str) -> bool:
    """Would the self-check accept ``shown`` (or ``shown`` read as a percentage) for ``value``?"""
    if float(value).is_integer() and abs(value) <= 10:
        return False  # one-digit counts occur everywhere in exercise text; not a give-away
    if shown == 0 and value != 0:
        return False
    candidates = [shown, shown / 100] if "." in token or abs(shown) > 1 else [shown]
    return any(math.isclose(c, value, rel_tol=max(rel_tol, 1e-9), abs_tol=abs_tol) for c in candidates)


def _root_name(node: ast.expr) -> str | None:
    """``_key`` for ``_key["Exercise 1"]``, ``key.x`` or ``key(1)``; None for anything else."""
    while isinstance(node, (ast.Subscript, ast.Attribute, ast.Call)):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else None


def _answer_key_names(notebook: nbformat.NotebookNode) -> set[str]:
    """Names assigned or defined in cells tagged ``answer-key`` whose source is collapsed."""
    names: set[str] = set()
    for cell in notebook.cells:
        meta = cell.get("metadata", {})
        if cell.cell_type != "code" or "answer-key" not in meta.get("tags", []):
            continue
        if not meta.get("jupyter", {}).get("source_hidden"):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return names


def _names_bound_to_literals(notebook: nbformat.NotebookNode) -> set[str]:
    """Names assigned exactly once in the notebook, to a literal (``expected = 0.093``)."""
    bound: dict[str, list[bool]] = {}
    for tree in code_trees(notebook):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        bound.setdefault(target.id, []).append(_is_literal(node.value))
                    elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                        for t, v in zip(target.elts, node.value.elts, strict=False):
                            if isinstance(t, ast.Name):
                                bound.setdefault(t.id, []).append(_is_literal(v))
    return {name for name, kinds in bound.items() if kinds == [True]}


def _check_calls(source: str) -> list[tuple[str, ast.expr | None, float, float]]:
    """(exercise name, expected expression, rel_tol, abs_tol) of each ``check_answer`` call."""
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
            tol = {k.arg: k.value for k in node.keywords if k.arg in ("rel_tol", "abs_tol")}
            rel = ast.literal_eval(tol["rel_tol"]) if "rel_tol" in tol and _is_literal(tol["rel_tol"]) else 0.02
            absolute = ast.literal_eval(tol["abs_tol"]) if "abs_tol" in tol and _is_literal(tol["abs_tol"]) else 0.0
            calls.append((str(node.args[0].value), expected, float(rel), float(absolute)))
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
    asked = len(re.findall(r"\(judg(?:e)?ment\)", text(start, _exercise_end(notebook, start, solutions)), re.I))
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

# Calibrated on a measurement: cold readers needed 50-90 minutes for the five case studies as
# they stood before issue 10; these rates put those five at 55-80 minutes (at 10 lines a minute
# one came out at 95).
WORDS_PER_MINUTE = 200      # prose, read attentively (notebook-style.md)
CODE_LINES_PER_MINUTE = 12  # code lines (comments too) read for what they do, with their output
MINUTES_PER_FIGURE = 0.5
MINUTES_PER_EXERCISE = 4    # an honest attempt at one exercise


def reading_minutes(notebook: nbformat.NotebookNode) -> int:
    """Honest study time, rounded to 5 minutes: prose at 200 words a minute, code (comments
    included) at 12 lines a minute, half a minute a figure, four minutes an exercise; solutions
    are not counted."""
    bounds = _section_bounds(notebook)
    last = bounds[1] if bounds else len(notebook.cells)
    words = lines = figures = 0
    for cell in notebook.cells[:last]:
        if cell.cell_type == "markdown":
            words += len(re.findall(r"[A-Za-z0-9']+", CODE_SPAN.sub(" x ", cell.source)))
        elif cell.cell_type == "code":
            if "colab" in cell.get("metadata", {}).get("tags", []):
                continue  # the Colab set-up cell (tools/colab.py) is not read: it does nothing elsewhere
            lines += sum(1 for line in cell.source.split("\n")
                         if line.strip() and not line.strip().startswith("# NBVAL"))
            figures += sum(1 for o in cell.get("outputs", []) if "image/png" in o.get("data", {}))
    exercises = 0
    if bounds:
        stop = _exercise_end(notebook, bounds[0], bounds[1])
        exercises = len(re.findall(r"^#{3,4} .*Exercise", "\n".join(
            c.source for c in notebook.cells[bounds[0]:stop] if c.cell_type == "markdown"), re.M))
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
    """The executed notebook was built from its text source: same cells, sources, tags (in any
    order) and cell metadata (what survives jupytext's round trip; ``execution`` is dropped)."""
    def cells(nb: nbformat.NotebookNode) -> list[tuple[str, str, tuple[str, ...], str]]:
        rows = []
        for c in nb.cells:
            meta = {k: v for k, v in c.metadata.items() if k not in ("execution", "tags")}
            rows.append((c.cell_type, c.source.strip(), tuple(sorted(c.metadata.get("tags", []))),
                         repr(sorted(meta.items()))))
        return rows

    built, text = cells(notebook), cells(source)
    problems = []
    if notebook.metadata.get("kernelspec") != source.metadata.get("kernelspec"):
        problems.append(f"{path.name}: kernelspec differs from {path.with_suffix('.py').name}")
    if built == text:
        return problems
    if len(built) != len(text):
        return problems + [f"{path.name}: {len(built)} cells, but {path.with_suffix('.py').name} has {len(text)} "
                           f"(run `make execute NOTEBOOKS=notebooks/{path.name}`)"]
    first = next(i for i, (a, b) in enumerate(zip(built, text, strict=True)) if a != b)
    return problems + [f"{path.name} cell {first}: differs from {path.with_suffix('.py').name} "
                       f"(edit the .py, then `make execute NOTEBOOKS=notebooks/{path.name}`)"]
