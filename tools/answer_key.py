"""The TA answer key, generated from the executed notebooks' own solutions (never a second copy).

For every notebook: the exercises posed under ``## Your turn`` (``### Exercise N · title``
headings, ``**Exercise N.**`` paragraphs, or ``# Exercise N: ...`` comments in a code cell), and
the answers under ``## Solutions``: Markdown paragraphs (judgment exercises' ``**Model answer:**``
and ``**Self-check:**``), and the solution code with what it printed. Each piece of a solution is
attributed to an exercise by the marker that opens it (``### Exercise N``, ``**Exercise N…**``,
``*Exercise N.*``, ``Exercise N,``, ``(N)`` in an enumeration; in code, ``Exercise N``,
``answer_N`` / ``ok_N`` / ``EXPECTED[N]``). An exercise left without an answer raises
:class:`~tools.notebook_io.KitError` naming the notebook and the exercise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tools.notebook_io import Cell, KitError, notebooks, read_cells

YOUR_TURN = re.compile(r"^## Your turn\b", re.M)
SOLUTIONS = re.compile(r"^## Solutions\b", re.M)
SECTION_END = re.compile(r"^## (?!#)", re.M)
NAVIGATION = "*Navigation:*"
HEADING = re.compile(r"^#{3,4}\s+Exercise\s+(\d+)\s*(\(judgment\))?\s*(?:·\s*(.+?))?\s*$")
PARAGRAPH_MARK = re.compile(r"^(?:#{3,4}\s+|\*{1,2})?Exercise\s+(\d+)\b")
COMMENT_MARK = re.compile(r"^#\s*Exercise\s+(\d+)\s*[:.]")
ENUMERATION = re.compile(r"(?:^|(?<=\s))\((\d+)\)\s")
CODE_MARK = re.compile(r"Exercise\s+(\d+)\b|\b(?:answer|ok|correct|net)_(\d+)\b|\bEXPECTED\[(\d+)\]")
ANSWER_ASSIGNMENT = re.compile(r"^\s*answer\w*\s*=", re.M)
BOLD_MARK = re.compile(r"^(\*{1,2})Exercise\s+\d+[^*\n]*\1\s*")


@dataclass
class Piece:
    """One part of an answer: Markdown text, or solution code with its printed output."""

    kind: str          # "markdown" or "code"
    text: str
    output: str = ""


@dataclass
class Exercise:
    """One exercise of a notebook: what it asks and the solution's pieces that answer it."""

    number: int
    title: str
    judgment: bool
    prompt: list[str] = field(default_factory=list)
    answer: list[Piece] = field(default_factory=list)

    @property
    def label(self) -> str:
        kind = " (judgment)" if self.judgment else ""
        return f"Exercise {self.number}{kind}" + (f" · {self.title}" if self.title else "")

    def answer_text(self) -> str:
        return "\n\n".join(p.text + ("\n" + p.output if p.output else "") for p in self.answer).strip()


@dataclass
class NotebookKey:
    """The answer key of one notebook."""

    path: Path
    exercises: list[Exercise]

    @property
    def title(self) -> str:
        from utils.course import BY_FILENAME

        lesson = BY_FILENAME.get(self.path.name)
        return lesson.label if lesson else self.path.stem

    @property
    def anchor(self) -> str:
        return self.path.stem


def _section(cells: list[Cell], start: re.Pattern[str], path: Path) -> list[Cell]:
    """The cells of a ``##`` section: its heading cell (from the heading on) up to the next ``##``
    heading or the navigation line; empty if the notebook has no such section."""
    first = next((c for c in cells if c.kind == "markdown" and start.search(c.source)), None)
    if first is None:
        return []
    head = first.source[start.search(first.source).end():]
    stop = SECTION_END.search(head)
    out = [Cell(first.index, "markdown", head[: stop.start()] if stop else head, first.tags, first.outputs)]
    if stop:
        return out
    for cell in cells[first.index + 1:]:
        if cell.kind == "markdown" and (SECTION_END.search(cell.source) or cell.source.startswith(NAVIGATION)):
            break
        out.append(cell)
    return out


def _paragraphs(markdown: str) -> list[str]:
    """Blank-line separated blocks, with every ``### Exercise`` heading a block of its own."""
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", markdown):
        lines = block.strip("\n").split("\n")
        current: list[str] = []
        for line in lines:
            if HEADING.match(line) and current:
                blocks.append("\n".join(current))
                current = []
            current.append(line)
        if any(line.strip() for line in current):
            blocks.append("\n".join(current))
    return blocks


def _split_enumeration(block: str, known: set[int]) -> list[tuple[int | None, str]]:
    """``(1) … (2) …`` → [(1, "(1) …"), (2, "(2) …")] for known exercise numbers."""
    cuts = [m for m in ENUMERATION.finditer(block) if int(m.group(1)) in known]
    if not cuts or cuts[0].start() != 0:
        return [(None, block)]
    bounds = [m.start() for m in cuts] + [len(block)]
    return [(int(m.group(1)), block[bounds[i]:bounds[i + 1]].strip()) for i, m in enumerate(cuts)]


def _posed(section: list[Cell], path: Path) -> dict[int, Exercise]:
    """The exercises posed in the ``Your turn`` section, with their prompts."""
    found: dict[int, Exercise] = {}

    def pose(number: int, title: str, judgment: bool) -> Exercise:
        if number in found and title and found[number].title and found[number].title != title:
            raise KitError(f"{path.name}: Exercise {number} is posed twice under 'Your turn' "
                           f"({found[number].title!r} and {title!r})")
        exercise = found.setdefault(number, Exercise(number, title, judgment))
        exercise.title = exercise.title or title
        exercise.judgment = exercise.judgment or judgment
        return exercise

    for cell in section:
        if "answer-key" in cell.tags:
            continue
        if cell.kind == "markdown":
            current: Exercise | None = None
            for block in _paragraphs(cell.source):
                heading = HEADING.match(block.split("\n")[0])
                mark = PARAGRAPH_MARK.match(block)
                if heading:
                    current = pose(int(heading.group(1)), (heading.group(3) or "").strip(), bool(heading.group(2)))
                    rest = block.split("\n", 1)[1].strip() if "\n" in block else ""
                    if rest:
                        current.prompt.append(rest)
                elif mark:
                    current = pose(int(mark.group(1)), "", "(judgment)" in block.split("\n")[0])
                    current.prompt.append(BOLD_MARK.sub("", block, count=1).strip())
                elif current is not None and not block.strip().startswith("*Your answer"):
                    current.prompt.append(block)
        elif cell.kind == "code":
            lines = cell.source.split("\n")
            for i, line in enumerate(lines):
                mark = COMMENT_MARK.match(line)
                if not mark:
                    continue
                comment = [line]
                for follow in lines[i + 1:]:
                    if not follow.startswith("#") or COMMENT_MARK.match(follow):
                        break
                    comment.append(follow)
                text = " ".join(c.lstrip("#").strip() for c in comment)
                exercise = pose(int(mark.group(1)), "", False)
                if not exercise.prompt:  # a Markdown statement, when there is one, says it better
                    exercise.prompt.append(re.sub(r"^Exercise\s+\d+\s*[:.]\s*", "", text))
    return found


def _code_pieces(cell: Cell, known: set[int]) -> list[tuple[int, Piece]]:
    """Solution code attributed line by line: a line goes to the exercises it names; unmarked lines
    go with the next marked one; trailing lines (the prints) go with every exercise of the cell."""
    lines = cell.source.split("\n")
    owners = [{int(n) for groups in CODE_MARK.findall(line) for n in groups if n} & known for line in lines]
    marked = sorted(set().union(*owners))
    if not marked:
        return []
    assigned: dict[int, list[str]] = {n: [] for n in marked}
    pending: list[str] = []
    last_marked = max(i for i, o in enumerate(owners) if o)
    for i, (line, owner) in enumerate(zip(lines, owners, strict=True)):
        if owner:
            for n in owner:
                assigned[n] += pending + [line]
            pending = []
        elif i > last_marked:
            for n in marked:
                assigned[n].append(line)
        else:
            pending.append(line)
    output = cell.text_output()
    pieces = []
    for n in marked:
        pieces.append((n, Piece("code", "\n".join(assigned[n]).strip("\n"), _output_for(output, n, marked))))
    return pieces


def _output_for(output: str, number: int, marked: list[int]) -> str:
    """The lines of a printed output that belong to exercise ``number`` of a multi-exercise cell."""
    if len(marked) == 1:
        return output
    keep = []
    for line in output.split("\n"):
        named = {int(n) for n in re.findall(r"Exercise\s+(\d+)\b", line)}
        parts = _split_enumeration(line, set(marked))
        if named:
            if number in named:
                keep.append(line)
        elif parts[0][0] is not None:
            keep += [text for n, text in parts if n == number]
        else:
            keep.append(line)
    return "\n".join(keep)


def _attribute(section: list[Cell], posed: dict[int, Exercise]) -> None:
    """Give every piece of the Solutions section to the exercise it answers."""
    known = set(posed)
    current: int | None = None
    for cell in section:
        if cell.kind == "code":
            if not ANSWER_ASSIGNMENT.search(cell.source):
                continue  # near-miss checks, cleanup: not an answer
            pieces = _code_pieces(cell, known)
            for number, piece in pieces:
                posed[number].answer.append(piece)
            if len(pieces) == 1:
                current = pieces[0][0]
            continue
        for block in _paragraphs(cell.source):
            if block.startswith(NAVIGATION):
                continue
            mark = PARAGRAPH_MARK.match(block)
            if mark and int(mark.group(1)) in known:
                current = int(mark.group(1))
                heading = HEADING.match(block.split("\n")[0])
                if heading:  # the heading repeats the title: keep only what follows it
                    block = block.split("\n", 1)[1].strip() if "\n" in block else ""
                block = BOLD_MARK.sub("", block, count=1).strip()  # the entry's heading names it
                if block:
                    posed[current].answer.append(Piece("markdown", block))
                continue
            parts = _split_enumeration(block, known)
            if parts[0][0] is not None:
                for number, text in parts:
                    posed[number].answer.append(Piece("markdown", text))
                    current = number
            elif current is not None:
                posed[current].answer.append(Piece("markdown", block))


def notebook_key(path: Path) -> NotebookKey:
    """The answer key of the notebook at ``path``; raises ``KitError`` naming the notebook and the
    exercise when an exercise has no answer, or a judgment exercise no ``**Model answer:**``."""
    cells = read_cells(path)
    posed = _posed(_section(cells, YOUR_TURN, path), path)
    if posed:
        solutions = _section(cells, SOLUTIONS, path)
        if not solutions:
            raise KitError(f"{path.name}: poses {len(posed)} exercises but has no '## Solutions' section")
        _attribute(solutions, posed)
    for exercise in posed.values():
        if not exercise.answer_text():
            raise KitError(f"{path.name}: {exercise.label} has no answer under '## Solutions' "
                           "(expected a paragraph opening with its name, or code naming it)")
        if exercise.judgment and "**Model answer:**" not in exercise.answer_text():
            raise KitError(f"{path.name}: {exercise.label} is a judgment exercise without a "
                           "'**Model answer:**' in its solution")
    return NotebookKey(path, [posed[n] for n in sorted(posed)])


def answer_key(paths: list[Path] | None = None) -> list[NotebookKey]:
    """The answer keys of every course notebook (or of ``paths``), in order."""
    return [notebook_key(path) for path in (paths if paths is not None else notebooks())]


def _fence(text: str, language: str = "") -> str:
    ticks = "````" if "```" in text else "```"
    return f"{ticks}{language}\n{text}\n{ticks}"


def render_markdown(keys: list[NotebookKey], link_prefix: str) -> str:
    """The answer key as Markdown; notebook links are ``link_prefix`` + the file name."""
    total = sum(len(k.exercises) for k in keys)
    out = ["# TA answer key", "",
           f"Generated by `make kit` from the solutions of the {len(keys)} executed notebooks "
           f"({total} exercises); do not edit: change the notebook's `## Solutions` instead. "
           "Numbers are those printed at the default parameters.", ""]
    for key in keys:
        out += [f"## [{key.title}]({link_prefix}{key.path.name})", ""]
        if not key.exercises:
            out += ["No exercises.", ""]
        for exercise in key.exercises:
            out += [f"### {exercise.label}", ""]
            if exercise.prompt:
                out += ["**Asks:** " + "\n\n".join(exercise.prompt), ""]
            out += ["**Answer:**", ""]
            for piece in exercise.answer:
                if piece.kind == "code":
                    out += [_fence(piece.text, "python"), ""]
                    if piece.output:
                        out += ["Prints:", "", _fence(piece.output), ""]
                else:
                    out += [piece.text, ""]
    return "\n".join(out).rstrip() + "\n"
