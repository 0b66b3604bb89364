"""The mock-interview room kit: prompt cards, an interviewer script, an observer sheet.

Everything comes from :mod:`utils.interview` (the data of notebook 14): ``PROMPTS``, the
45-minute plan ``PLAN_45`` and ``schedule``, ``TEMPLATE`` (what each step must answer),
``clarifying_questions`` and ``metric_tree`` (the first five minutes), ``FOLLOW_UPS`` (what a
strong interviewer asks next, with the case studies' numbers read by ``case_numbers``),
``SKELETONS`` (the 60-second answers), ``SIGNALS`` and ``notebooks_for`` (the observer's rubric).
A follow-up quoting a claim its case notebook no longer prints stops the build.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tools.notebook_io import KitError
from tools.render import esc, inline, page

if TYPE_CHECKING:
    from utils.interview import Prompt

ROLES = ("candidate", "interviewer", "observer")


def _clock(start: str) -> str:
    """'00:05' as elapsed minutes '0:05'."""
    hours, minutes = start.split(":")
    return f"{int(hours)}:{minutes}"


def prompt_cards() -> str:
    """One cut-out card per prompt: what the candidate is handed."""
    from utils import interview

    cards = []
    for number, prompt in enumerate(interview.PROMPTS, start=1):
        kind = (f"canonical · case study {esc(prompt.case[:2])}" if prompt.canonical and prompt.case
                else "practice prompt")
        cards.append(f"""<div class="cut"><p class="meta">Prompt {number} · {kind}</p>
<h2>{esc(prompt.title)}</h2><p>{inline(prompt.brief)}</p>
<p class="meta">{sum(m for _, m in interview.PLAN_45)} minutes. Walk the eight steps out loud; the first
{interview.PLAN_45[0][1]} minutes on clarifying the problem. Ask your questions before you design.</p></div>""")
    body = f"""<h1>Mock interview: prompt cards</h1>
<p class="lede">Cut along the dashed lines; the interviewer draws one. The five canonical prompts
have a case study behind them and follow-ups with numbers in the interviewer script.</p>
<div class="grid">{''.join(cards)}</div>"""
    return page("Mock interview: prompt cards", body, kind="cards")


def _follow_ups(key: str, step: str, numbers: dict[str, str], case: str) -> str:
    from utils import interview

    items = []
    for follow in interview.FOLLOW_UPS.get(key, {}).get(step, []):
        quoted = []
        for claim, _says in follow.quotes:
            value = interview.quote(numbers, claim)
            if value is None:
                raise KitError(f"utils/interview.py: a follow-up for {key!r} at {step!r} quotes the claim "
                               f"{claim!r}, which the scorecard of {case} no longer prints")
            reference = getattr(value, "reference", "")
            quoted.append(f"{esc(claim)} = <strong>{esc(value)}</strong>" + (f" ({esc(reference)})" if reference else ""))
        numbers_line = f"<br><small>Case numbers ({esc(case)}): {'; '.join(quoted)}</small>" if quoted else ""
        items.append(f"<li><strong>Ask:</strong> {inline(follow.question)}<br><strong>Strong answer:</strong> "
                     f"{inline(follow.strong_answer)}{numbers_line}</li>")
    return "<ul>" + "".join(items) + "</ul>" if items else ""


def _prompt_section(prompt: Prompt, notebook_dir: Path) -> str:
    from utils import interview

    numbers = interview.case_numbers(prompt.case, notebook_dir) if prompt.canonical and prompt.case else {}
    tree = interview.metric_tree(prompt.key)
    own = [q for q in interview.clarifying_questions(prompt.key) if q not in interview.GENERIC_QUESTIONS]
    questions = "".join(f"<li>{inline(q)}</li>" for q in own)
    tree_rows = "".join(f"<tr><th>{esc(part)}</th><td>{inline(v if isinstance(v, str) else '; '.join(v))}</td></tr>"
                        for part, v in tree.items())
    steps = []
    for step, minutes, start, end in interview.schedule("00:00"):
        listen = interview.TEMPLATE.get(step) or interview.SLOTS.get(step, "")
        follow = _follow_ups(prompt.key, step, numbers, prompt.case or "")
        steps.append(f"<tr><td>{_clock(start)}–{_clock(end)}</td><td><strong>{esc(step)}</strong> ({minutes} min)"
                     + (f"<br><small>Listen for: {inline(listen)}</small>" if listen else "")
                     + f"{follow}</td></tr>")
    skeleton = interview.SKELETONS.get(prompt.key)
    case = f" · case study <code>{esc(prompt.case)}</code>" if prompt.case else ""
    return f"""<section class="entry" id="{esc(prompt.key)}"><h2>{esc(prompt.title)}{case}</h2>
<p><strong>Read out:</strong> “{inline(prompt.brief)}” Answer clarifying questions briefly; if the candidate
starts designing before asking any, let them, and note it for the observer.</p>
<h3>The first five minutes: the questions this prompt adds to the general ones</h3><ol>{questions}</ol>
<h3>A model metric tree</h3><table class="tree-table">{tree_rows}</table>
<h3>Step by step: time, what to listen for, follow-ups</h3>
<table><thead><tr><th style="width:22mm">time</th><th>step</th></tr></thead><tbody>{''.join(steps)}</tbody></table>
{f'<h3>The 60-second answer</h3><p>{inline(skeleton)}</p>' if skeleton else ''}</section>"""


def interviewer_script(notebook_dir: Path) -> str:
    """The interviewer's script: how the room runs, then one section per prompt."""
    from utils import interview

    total = sum(m for _, m in interview.PLAN_45)
    contents = "".join(f'<li><a href="#{esc(p.key)}">{esc(p.title)}</a></li>' for p in interview.PROMPTS)
    sections = "".join(_prompt_section(p, notebook_dir) for p in interview.PROMPTS)
    body = f"""<h1>Mock interview: interviewer script</h1>
<p class="lede">Work in threes ({', '.join(ROLES)}); rotate roles after each interview. The interviewer
keeps time with the plan below ({total} minutes), asks at least one follow-up per step, and never
teaches during the interview: the debrief is for that. The observer scores the five signals on the
observer sheet.</p>
<h2>Questions a strong candidate asks first, on any prompt</h2>
<ol>{''.join(f"<li>{inline(q)}</li>" for q in interview.GENERIC_QUESTIONS)}</ol>
<h2>Prompts</h2><nav><ul>{contents}</ul></nav>{sections}
<p class="source">Generated by <code>make kit</code> from <code>utils/interview.py</code>; case numbers are
read from the executed case notebooks' scorecards (default parameters).</p>"""
    return page("Mock interview: interviewer script", body, kind="doc script")


def observer_sheet(notebook_dir: Path) -> str:
    """One page: the five signals scored, the time checkpoints, the first five minutes covered."""
    from utils import interview

    scores = range(interview.SCORE_MIN, interview.SCORE_MAX + 1)
    header = "".join(f"<th class=\"box\">{s}</th>" for s in scores)
    rows = []
    for signal in interview.SIGNALS:
        penalised = " ".join(f"☐&nbsp;{inline(p)}" for p in signal.penalised)
        books = ", ".join(name[:2] for name in interview.notebooks_for(signal.key, notebook_dir)) or "—"
        rows.append(f"<tr><td><strong>{esc(signal.name)}</strong><br><small>{inline(signal.looks_like)}</small>"
                    f"<br><small><em>Penalised:</em> {penalised}<br>Trained in notebooks: {esc(books)}</small></td>"
                    + "".join("<td class=\"box\">☐</td>" for _ in scores) + "<td></td></tr>")
    checkpoints = " · ".join(f"{_clock(end)} {esc(step)} ☐" for step, _, _, end in interview.schedule("00:00"))
    items = " · ".join(f"☐ {esc(item)}" for item in interview.KEY_ITEMS)
    body = f"""<h1>Mock interview: observer sheet</h1>
<table><tr><th>Candidate</th><td></td><th>Prompt</th><td></td><th>Date</th><td></td></tr></table>
<h2>The five signals</h2>
<p>Tick what the interviewers penalise when you see it; score each signal from {interview.SCORE_MIN}
({interview.SCORE_LABELS[interview.SCORE_MIN]}) to {interview.SCORE_MAX} ({interview.SCORE_LABELS[interview.SCORE_MAX]});
{"; ".join(f"{n} = {esc(interview.SCORE_LABELS[n])}" for n in range(interview.SCORE_MIN + 1, interview.SCORE_MAX))}.</p>
<table class="signals"><thead><tr><th>signal, what it looks like, what is penalised</th>{header}<th class="notes">evidence (what was said)</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
<h2>The first five minutes covered</h2><p>{items}</p>
<h2>On time? (elapsed, end of each step)</h2><p>{checkpoints}</p>
<h2>Debrief: the weakest signal, and one moment that showed it</h2>
<div class="lines"></div><div class="lines"></div>
<p class="source">Generated by <code>make kit</code> from <code>utils/interview.py</code> (SIGNALS, KEY_ITEMS,
PLAN_45); the notebooks listed are those that exist and train the signal.</p>"""
    return page("Mock interview: observer sheet", body, kind="sheet")


def room_pages(notebook_dir: Path) -> list[tuple[str, str]]:
    """(file stem, HTML) of the room kit's pages."""
    try:
        return [("prompt-cards", prompt_cards()), ("interviewer-script", interviewer_script(notebook_dir)),
                ("observer-sheet", observer_sheet(notebook_dir))]
    except ValueError as error:  # utils.interview reports bad input as ValueError
        raise KitError(f"room kit: {error}") from error
