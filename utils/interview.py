"""Mock-interview practice: prompts, model answers, a follow-up bank, a rubric, and practice files.

Data and small functions for notebook 14 and the workshop kit. The eight step headings come from
:mod:`utils.course` (lessons 1-8), not a second copy. The follow-up bank's strong answers quote the
case studies' own numbers, read live from the executed notebooks' scorecards by
:func:`case_numbers`, so no digit here can drift from what the case studies print.

Practice files are JSON (never pickle) under a directory the caller names: ``log.json`` (sessions),
``checklist.json`` (prep ticks) and ``deck.json`` (the recall drill's Leitner boxes). A malformed
file raises :class:`PracticeFileError` (a ``ValueError``) naming the file and the problem.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from utils.course import BY_NUMBER, NOTEBOOK_DIR, existing

# --------------------------------------------------------------------------------------------
# The eight steps (from the course plan) and a 45-minute plan

STEPS: tuple[str, ...] = tuple(BY_NUMBER[n].title for n in range(1, 9))
STEP_NOTEBOOK: dict[str, str] = {BY_NUMBER[n].title: BY_NUMBER[n].filename for n in range(1, 9)}

#: Minutes per slot in a 45-minute interview. After framing comes a five-minute end-to-end sketch (the
#: whole pipeline in boxes, before any detail), and near the end a deep-dive slot the interviewer
#: steers; the last slot is the candidate's wrap-up. A choice, informed by published guides (see
#: notebook 14, section 2), not a measurement.
SKETCH, DEEP_DIVE, WRAP_UP = "End-to-end sketch", "Deep dive (interviewer's pick)", "Wrap-up and questions"
PLAN_45: tuple[tuple[str, int], ...] = (
    ("Clarify the problem", 5), ("Frame it as ML", 3), (SKETCH, 5), ("Data and features", 4), ("Model choice", 4),
    ("Training", 3), ("Evaluation", 5), ("Serving", 4), ("Monitoring", 3), (DEEP_DIVE, 7), (WRAP_UP, 2),
)

#: The design-doc template: one line of what each heading must answer.
TEMPLATE: dict[str, str] = {
    "Clarify the problem": "Business goal and metric; users and scale; latency; constraints; what is out of scope.",
    "Frame it as ML": "Prediction target and label; where the label comes from and how late; the decision it feeds.",
    "Data and features": "Sources; features available at decision time (point in time); leakage checks; sizes.",
    "Model choice": "A non-ML baseline, a simple model, then what complexity buys; the ceiling if known.",
    "Training": "Time split with label delay; imbalance and calibration; retraining cadence.",
    "Evaluation": "Offline metric tied to the business metric; slices; the A/B test, its size and guardrails.",
    "Serving": "Batch or online; latency budget per stage; feature parity; fallback when a dependency fails.",
    "Monitoring": "Input, score and outcome drift; delayed labels; feedback loops; retrain triggers.",
}
#: What the extra slots of the plan are for (not headings of the design doc).
SLOTS: dict[str, str] = {
    SKETCH: "The whole pipeline in boxes: data -> features -> model -> serving -> feedback; say where you will go deep.",
    DEEP_DIVE: "The part the interviewer picks (often the model or serving): baseline first, numbers, trade-offs.",
    WRAP_UP: "Summarise the design, its biggest risk, what you would do next.",
}


def schedule(start: str = "10:00", plan: tuple[tuple[str, int], ...] = PLAN_45) -> list[tuple[str, int, str, str]]:
    """The plan as clock times from ``start`` ("HH:MM"): rows of (step, minutes, from, to)."""
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", start):
        raise ValueError(f"start={start!r} must be a time 'HH:MM' between 00:00 and 23:59")
    clock = dt.datetime.combine(dt.date(2000, 1, 1), dt.time.fromisoformat(start))
    rows = []
    for step, minutes in plan:
        end = clock + dt.timedelta(minutes=minutes)
        rows.append((step, minutes, clock.strftime("%H:%M"), end.strftime("%H:%M")))
        clock = end
    return rows


def timer(start: str | None = None, plan: tuple[tuple[str, int], ...] = PLAN_45, speed: float = 1.0) -> None:
    """A live clock for a mock interview; call it in its own cell when you start talking.

    Prints the current step and the minutes left in it every half minute until the plan ends
    (interrupt the kernel to stop); ``speed`` > 1 runs it faster, for a try-out. It sleeps for the
    whole interview, so a notebook's Run All must never call it.
    """
    import time

    from IPython.display import clear_output

    if not speed > 0:
        raise ValueError(f"speed={speed!r} must be > 0")
    rows = schedule(start or dt.datetime.now().strftime("%H:%M"), plan)
    ends, total = [], 0
    for _, minutes, _, _ in rows:
        total += minutes * 60
        ends.append(total)
    begin = time.monotonic()
    while (elapsed := (time.monotonic() - begin) * speed) < total:
        step = next(i for i, end in enumerate(ends) if elapsed < end)
        clear_output(wait=True)
        print(f"{rows[step][0]} ({rows[step][2]}-{rows[step][3]}) · {(ends[step] - elapsed) / 60:.1f} min left "
              f"in this step, {(total - elapsed) / 60:.0f} in the interview")
        time.sleep(min(30 / speed, max(total - elapsed, 0) / speed + 0.01))
    print("Time. Summarise in one minute: the design, its biggest risk, what you would do next.")


# --------------------------------------------------------------------------------------------
# Prompts


@dataclass(frozen=True)
class Prompt:
    """One interview prompt; ``case`` is the case notebook's file name for the five canonical ones."""

    key: str
    title: str
    brief: str
    canonical: bool
    case: str | None = None


PROMPTS: tuple[Prompt, ...] = (
    Prompt("recommendations", "Recommend videos on a home feed", "Design the recommendations on a video app's home page.",
           True, BY_NUMBER[9].filename),
    Prompt("fraud", "Detect payment fraud", "Design a system that blocks fraudulent card payments at checkout.",
           True, BY_NUMBER[10].filename),
    Prompt("search", "Rank search results", "Design the ranking of an e-commerce site's search results.",
           True, BY_NUMBER[11].filename),
    Prompt("churn", "Predict and prevent churn", "Design a system that decides which subscribers get a retention offer.",
           True, BY_NUMBER[12].filename),
    Prompt("rag", "Build a RAG assistant", "Design an assistant that answers employees' questions from internal documents.",
           True, BY_NUMBER[13].filename),
    Prompt("ad_click", "Predict ad clicks", "Design click-through prediction for ads shown in a social feed.", False),
    Prompt("harmful_content", "Detect harmful content", "Design a system that finds harmful posts on a social network.", False),
    Prompt("people_you_may_know", "People you may know", "Design friend suggestions for a social network.", False),
    Prompt("eta", "Estimate time of arrival", "Design ETA prediction for a ride-hailing or delivery app.", False),
    Prompt("visual_search", "Visual search", "Design 'search by photo' for a shopping app.", False),
    Prompt("news_feed", "Rank a news feed", "Design the ranking of posts in a social network's news feed.", False),
    Prompt("autocomplete", "Query autocomplete", "Design the query suggestions shown while a user types in a search box.", False),
    Prompt("spam_email", "Filter spam email", "Design the spam filter of an email service.", False),
    Prompt("dynamic_pricing", "Price hotel rooms", "Design a system that suggests nightly prices to hotel hosts.", False),
    Prompt("demand_forecast", "Forecast demand", "Design daily demand forecasts for a grocery chain's stores.", False),
    Prompt("support_routing", "Route support tickets", "Design a system that routes customer-support tickets to the right team.", False),
)
BY_KEY: dict[str, Prompt] = {p.key: p for p in PROMPTS}
CANONICAL: tuple[str, ...] = tuple(p.key for p in PROMPTS if p.canonical)


def _prompt(key: str) -> Prompt:
    if key not in BY_KEY:
        raise ValueError(f"prompt key={key!r} is unknown; valid keys: {', '.join(BY_KEY)}")
    return BY_KEY[key]


def pick_prompt(seed: int, canonical_only: bool = False) -> Prompt:
    """A prompt chosen deterministically by ``seed`` (any integer >= 0)."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed={seed!r} must be an integer >= 0")
    pool = [p for p in PROMPTS if p.canonical or not canonical_only]
    return pool[(seed * 7 + 3) % len(pool)]


# --------------------------------------------------------------------------------------------
# The first five minutes: clarifying questions and metric trees

GENERIC_QUESTIONS: tuple[str, ...] = (
    "What is the business goal, and which single number would tell us we succeeded?",
    "Who are the users, and at what scale: requests per second, items, users?",
    "What latency does the decision allow, and is it made online or in a batch?",
    "What data and labels exist today, and how late does the label arrive?",
    "What does each kind of mistake cost (a false positive against a false negative)?",
    "What runs today (a rule, a heuristic, nothing), so we have a baseline to beat?",
    "Which constraints apply: privacy, fairness, regulation, explainability, budget?",
)

# key: (prompt-specific questions, business metric, online metrics, offline metrics, guardrails)
_SPECIFIC: dict[str, tuple[tuple[str, ...], str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "recommendations": (("Are we optimising clicks, watch time or satisfaction, and how do we observe satisfaction?",
                         "How many items are in the catalogue, and how fast do new items arrive (cold start)?"),
                        "long-term engagement: active days per user",
                        ("satisfied clicks per user", "watch time per session"),
                        ("NDCG@10 on held-out watches", "candidate recall@K"),
                        ("CTR as a diagnostic, not a veto (case 09: CTR fell and the change still shipped, because "
                         "active days rose)", "creator and item diversity", "p99 latency")),
    "fraud": (("Which actions can the score trigger: approve, step-up authentication, manual review, decline?",
               "What share of payments is fraud, and when does a chargeback tell us?",
               "How many payments can the review team check a day, and what does a false decline cost?"),
              "fraud losses plus the cost of declining good customers",
              ("chargeback losses per day", "false-decline rate"),
              ("PR-AUC", "precision at the review budget", "recall at a fixed alert rate"),
              ("approval rate", "review-queue size", "p99 scoring latency")),
    "search": (("What does success for a query look like: a purchase, a click, a long dwell?",
                "How many queries a second, and how many candidate products per query?"),
               "revenue (or purchases) per search session",
               ("purchases per search", "zero-result and reformulation rate"),
               ("NDCG@10 with position-debiased labels", "recall of the retrieval stage"),
               ("latency per query", "share of queries with results")),
    "churn": (("How is churn defined: a cancellation within which window, voluntary or failed payment?",
               "What can we do about it: an offer, with what budget and cost?"),
              "net retained revenue from the offers (value saved minus offer cost)",
              ("incremental saves against a random holdout", "net value per offer"),
              ("Qini / uplift at the budget", "PR-AUC of the risk model"),
              ("complaints and unsubscribes", "churn among contacted near-idle customers")),
    "rag": (("Who asks what, and which documents may each role see?",
             "What is worse: a wrong answer or no answer, and may the assistant abstain?"),
            "questions resolved without a human (tickets deflected) at a safe error rate",
            ("resolution rate", "wrong-answer reports"),
            ("retrieval MRR / recall@k", "answer correctness and faithfulness on a gold set", "abstention on unanswerable questions"),
            ("no restricted document ever quoted", "latency", "cost per answer")),
    "ad_click": (("Are we paid per click or per impression, and is the predicted probability used in an auction?",
                  "How many impressions a day, and how fast do new ads and advertisers arrive?"),
                 "ad revenue at a fixed user-experience budget",
                 ("revenue per thousand impressions", "advertiser return"),
                 ("log loss and calibration", "ROC-AUC"),
                 ("ad load and user engagement", "latency in the auction")),
    "harmful_content": (("Which harms (violence, hate, spam, nudity), in which languages and formats?",
                         "How many human reviewers, and what does a wrongful takedown cost?"),
                        "prevalence of harmful content seen by users",
                        ("views of harmful posts per 10k views", "appeal overturn rate"),
                        ("precision and recall per harm class", "PR-AUC per class"),
                        ("wrongful takedowns", "reviewer queue size")),
    "people_you_may_know": (("Is success a sent request, an accepted request, or later interaction?",
                             "How large is the graph, and how often do we recompute suggestions?"),
                            "new connections that stay active",
                            ("accepted requests per user", "interactions after connecting"),
                            ("recall@K of future edges", "precision@K"),
                            ("request spam reports", "privacy complaints")),
    "eta": (("ETA for what: pickup, drop-off, delivery; quoted when, and updated how often?",
             "Who consumes it downstream: dispatch (which driver), pricing, or only the customer's screen?",
             "Is being late worse than being early for the business?"),
            "trips completed and customer trust in quoted times",
            ("share of trips within the quoted window", "cancellations after the quote"),
            ("MAE and an asymmetric (late-weighted) error", "error by city and hour"),
            ("p99 latency of the quote", "bias by region")),
    "visual_search": (("What do users photograph, and how large is the catalogue?",
                       "Exact product or visually similar items, and how fresh is the catalogue?"),
                      "purchases from photo searches",
                      ("click-through and add-to-cart from results",),
                      ("recall@K of the exact product", "mean reciprocal rank on labelled pairs"),
                      ("latency per query", "index freshness")),
    "news_feed": (("Which actions count (likes, comments, shares, dwell), and with what weights?",
                   "How many candidate posts per user per session?"),
                  "long-term engagement: daily active users, time well spent",
                  ("sessions per user", "meaningful interactions per session"),
                  ("NDCG on logged sessions", "calibration of each action head"),
                  ("reports and hides", "integrity demotions", "latency")),
    "autocomplete": (("Which languages, and how fast must suggestions appear while typing?",
                      "Must we filter offensive or unsafe suggestions?"),
                     "successful searches with fewer keystrokes",
                     ("suggestion acceptance rate", "keystrokes saved per search"),
                     ("MRR of the completed query given a prefix",),
                     ("offensive suggestions shown", "latency per keystroke")),
    "spam_email": (("How much mail a day, and how quickly do spammers adapt?",
                    "What does a good email in the spam folder cost compared with spam in the inbox?"),
                   "user trust: wanted mail delivered, spam kept out",
                   ("user 'not spam' and 'report spam' rates",),
                   ("precision at a very low false-positive rate", "recall"),
                   ("false positives on important senders", "latency")),
    "dynamic_pricing": (("Do hosts accept the suggestion, and what is the goal: occupancy or revenue?",
                         "How do we observe demand we lost by pricing too high?"),
                        "host revenue (and bookings) per available night",
                        ("booking rate at suggested prices", "host revenue per night"),
                        ("demand-model error on held-out dates", "revenue on an off-policy estimate"),
                        ("host churn", "price complaints")),
    "demand_forecast": (("Forecast horizon and granularity (store, product, day)?",
                         "Which decisions use it: ordering, staffing, and what does a stock-out cost?"),
                        "waste plus lost sales from stock-outs",
                        ("waste rate", "stock-out rate"),
                        ("weighted MAPE / quantile loss by horizon", "backtest over rolling origins"),
                        ("forecast bias", "new-product error")),
    "support_routing": (("How many tickets and teams, and how costly is a misrouted ticket?",
                         "Can a human correct the routing, and do we learn from that?"),
                        "time to resolution",
                        ("reroutes per ticket", "time to first response"),
                        ("macro-F1 per team", "top-2 accuracy"),
                        ("tickets stuck unrouted", "latency")),
}


def clarifying_questions(key: str) -> list[str]:
    """Model clarifying questions for prompt ``key``: the prompt's own first, then the generic ones."""
    _prompt(key)
    return list(_SPECIFIC[key][0]) + list(GENERIC_QUESTIONS)


def metric_tree(key: str) -> dict[str, object]:
    """A model metric tree: the business metric, online proxies, offline metrics, guardrails."""
    _prompt(key)
    _, business, online, offline, guardrails = _SPECIFIC[key]
    return {"business": business, "online": list(online), "offline": list(offline), "guardrails": list(guardrails)}


def model_answer(key: str) -> str:
    """The model first five minutes for prompt ``key``: a few targeted questions, stated assumptions, a metric tree.

    Strong candidates ask three to five questions that would change the design and state an assumption
    for the rest; reciting all the generic questions reads like a checklist.
    """
    tree = metric_tree(key)
    lines = [f"- {q}" for q in _SPECIFIC[key][0]]
    lines.append("- (one more if time allows) What runs today, so we have a baseline to beat?")
    lines.append("Assumptions I state instead of asking (correct me): the scale, the latency budget, where the label "
                 "comes from and how long it takes to arrive, what each kind of mistake costs, and the privacy "
                 "and policy constraints; I say a number for each.")
    lines.append(f"Metric tree: business metric: {tree['business']}; online proxies: {', '.join(tree['online'])}; "  # type: ignore[arg-type]
                 f"offline metrics: {', '.join(tree['offline'])}; guardrails: "  # type: ignore[arg-type]
                 f"{', '.join(tree['guardrails'])}.")  # type: ignore[arg-type]
    return "\n".join(lines)


#: Key items a first five minutes should cover, each with words and phrases that show it (matched as
#: whole words; a trailing "s", "es", "ed" or "ing" is allowed). Short or ambiguous strings ("ms",
#: "late", "today") are left out: as substrings they matched "items", "translate" and the like.
KEY_ITEMS: dict[str, tuple[str, ...]] = {
    "business goal / metric": ("goal", "business", "revenue", "loss", "engagement", "retention", "success", "objective",
                               "kpi", "profit", "north star", "money", "company"),
    "scale": ("scale", "user", "qps", "request", "per second", "per day", "a day", "volume", "how many", "traffic",
              "million", "billion", "throughput", "catalogue", "catalog"),
    "latency / online or batch": ("latency", "real time", "real-time", "online", "batch", "millisecond", "how fast",
                                  "response time", "nightly", "instant"),
    "label and its delay": ("label", "ground truth", "feedback", "delay", "delayed", "how long", "arrive",
                            "chargeback", "outcome", "annotat"),
    "cost of errors": ("false positive", "false negative", "cost", "mistake", "precision", "recall", "wrongly",
                       "error", "worse"),
    "baseline today": ("baseline", "rule", "heuristic", "current system", "existing", "runs today", "what runs",
                       "in place", "status quo"),
    "constraints": ("privacy", "fairness", "regulation", "regulatory", "legal", "explainable", "explainability",
                    "budget", "constraint", "policy", "compliance"),
    "guardrail metric": ("guardrail", "must not", "without hurting", "counter-metric", "complaint", "must stay",
                         "not get worse", "side effect"),
}
_SUFFIX = r"(?:s|es|ed|ing|ion|ions)?"
_PATTERNS: dict[str, re.Pattern[str]] = {
    item: re.compile(r"\b(?:" + "|".join(re.escape(w).replace(r"\ ", r"[\s-]+") + _SUFFIX for w in words) + r")\b")
    for item, words in KEY_ITEMS.items()
}


def coverage(text: str) -> dict[str, bool]:
    """Which key items a written first five minutes mentions, by whole words and synonyms.

    A self-check, not a grade: a bare list of the keywords covers everything, and a strong answer
    in other words can cover little (notebook 14 shows both).
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string; got {type(text).__name__}")
    low = text.lower()
    return {item: bool(pattern.search(low)) for item, pattern in _PATTERNS.items()}


# --------------------------------------------------------------------------------------------
# Case numbers, read from the executed case notebooks' scorecards


class Reported(str):
    """A scorecard value exactly as printed (a ``str``), with the row's ``reference`` column beside it.

    Being a string, it compares and prints like the value alone (so old callers keep working);
    ``str(r.full)`` gives "value (reference)".
    """

    reference: str

    def __new__(cls, value: str, reference: str = "") -> Reported:
        obj = super().__new__(cls, value)
        obj.reference = reference
        return obj

    @property
    def full(self) -> str:
        return f"{self} ({self.reference})" if self.reference else str(self)


def _notebook(notebook: str | Path, notebook_dir: Path) -> dict:
    path = Path(notebook)
    if not path.is_absolute() and not path.exists():
        path = notebook_dir / path.name
    if not path.exists():
        raise ValueError(f"notebook={str(notebook)!r}: no such file (looked in {notebook_dir})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path.name}: not valid notebook JSON ({error})") from error
    data["_name"] = path.name
    return data


def case_numbers(notebook: str | Path, notebook_dir: Path = NOTEBOOK_DIR) -> dict[str, Reported]:
    """The scorecard of an executed notebook as {claim: value as printed, with ``.reference``}.

    Reads the HTML table that ``utils.scorecard.build`` displays in the cell tagged ``scorecard``.
    Claims longer than the case notebook's ``display.max_colwidth`` appear as pandas cut them
    (ending in "..."); match them by substring. Values and references are read in full.
    """
    data = _notebook(notebook, notebook_dir)
    name = data["_name"]
    cells = [c for c in data.get("cells", []) if "scorecard" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise ValueError(f"{name}: no cell tagged 'scorecard'")
    tables = ["".join(o["data"]["text/html"]) for o in cells[0].get("outputs", [])
              if "text/html" in o.get("data", {})]
    if not tables:
        raise ValueError(f"{name}: the scorecard cell has no table output (execute the notebook first)")
    numbers: dict[str, Reported] = {}
    for row in re.findall(r"<tr>(.*?)</tr>", tables[0], re.S):
        cols = [html.unescape(c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        if len(cols) >= 2:
            numbers[cols[0]] = Reported(cols[1], cols[2] if len(cols) >= 3 else "")
    return numbers


def case_printed(notebook: str | Path, label: str, header: str = "", notebook_dir: Path = NOTEBOOK_DIR) -> str | None:
    """The first line an executed notebook printed that starts with ``label`` (spaces collapsed).

    With ``header``, only outputs containing that text are searched (a table's column names).
    For numbers a case study prints outside its scorecard: a table row, a summary line.
    """
    data = _notebook(notebook, notebook_dir)
    for cell in data.get("cells", []):
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", "")) or "".join(out.get("data", {}).get("text/plain", ""))
            if header and header not in text:
                continue
            for line in text.splitlines():
                if line.strip().startswith(label):
                    return " ".join(line.split())
    return None


def lookup(numbers: dict[str, str], claim: str) -> tuple[str, str] | None:
    """The first scorecard row whose claim contains ``claim`` (case-insensitive): (full claim, value)."""
    low = claim.lower()
    return next(((c, v) for c, v in numbers.items() if low in c.lower()), None)


def quote(numbers: dict[str, str], claim: str) -> str | None:
    """The value of the first claim containing ``claim`` (case-insensitive), or None."""
    row = lookup(numbers, claim)
    return row[1] if row else None


_NUMBER = r"[-+−]?\d[\d,]*(?:\.\d+)?"


def _num(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def direction_agrees(value: str, reference: str, says: str) -> bool | None:
    """Whether a printed scorecard row agrees with what an answer ``says`` of it.

    ``says`` is ">" (the value is above the reference's number: it beats, it rose), "<" (below: it
    lost, it does not beat), "True", or "" (quoted without a direction: returns None). An interval
    "[lo, hi]" counts as above when lo is above, below when hi is below. Also None when the row has
    no number to compare with (e.g. "0.000 / 0.352" against "0 / > 0").
    """
    if says not in (">", "<", "True", ""):
        raise ValueError(f"says={says!r} must be '>', '<', 'True' or ''")
    if says == "":
        return None
    if says == "True" or value in ("True", "False"):
        return value == "True" and says == "True"
    ref = re.search(rf"([<>]=?|==)\s*(?:[a-z][a-z -]*?\s)?({_NUMBER})", reference)
    interval = re.fullmatch(rf"\[({_NUMBER}),\s*({_NUMBER})\]", value.strip())
    if ref is None or not (interval or re.fullmatch(_NUMBER, value.strip())):
        return None
    bar, inclusive = _num(ref.group(2)), ref.group(1) in (">=", "<=", "==")
    low, high = (_num(interval.group(1)), _num(interval.group(2))) if interval else (_num(value),) * 2
    if says == ">":
        return low >= bar if inclusive else low > bar
    return high <= bar if inclusive else high < bar


@dataclass(frozen=True)
class FollowUp:
    """What a strong interviewer asks next at a step, and what a strong answer contains.

    ``quotes`` are (scorecard claim substring, what the answer says of it: ">", "<" or "True"); their
    rows are printed as "claim: value (reference)" from the executed case notebook, and
    :func:`direction_agrees` checks the answer's direction against them. ``printed`` are
    (line label, table header or "", what the columns mean) for numbers the case prints outside its
    scorecard (a full interval, a count), read by :func:`case_printed`.
    """

    question: str
    strong_answer: str
    quotes: tuple[tuple[str, str], ...] = field(default=())
    printed: tuple[tuple[str, str, str], ...] = field(default=())

    def rows(self, numbers: dict[str, str]) -> list[tuple[str, str, str, str, bool | None]]:
        """(quoted substring, full claim as printed, value, reference, direction agrees) per quote."""
        out = []
        for claim, says in self.quotes:
            row = lookup(numbers, claim)
            if row is None:
                out.append((claim, "", "", "", False))
                continue
            reference = getattr(row[1], "reference", "")
            out.append((claim, row[0], str(row[1]), reference, direction_agrees(str(row[1]), reference, says)))
        return out

    def answer(self, numbers: dict[str, str], case: str | Path | None = None) -> str:
        found = [f"{full}: {value} ({reference})" if full else f"{claim}: not in the scorecard now"
                 for claim, full, value, reference, _ in self.rows(numbers)]
        if case is not None:
            for label, header, meaning in self.printed:
                line = case_printed(case, label, header)
                found.append(f"printed: \"{line}\" ({meaning})" if line else f"{label}: not printed now")
        return self.strong_answer + (f" [Case numbers: {'; '.join(found)}]" if found else "")


F = FollowUp
_GAINS = ("folds above 0", "MRR difference per fold: mean, 95 % interval low and high, folds above 0 of 5")
_TOP = ("lost cause", "its top 1,000: persuadables, sure things, lost causes, sleeping dogs")
FOLLOW_UPS: dict[str, dict[str, list[FollowUp]]] = {
    "recommendations": {
        "Clarify the problem": [F("Your ranker beats popularity offline. Is that the number you report?",
                                  "No: the business number is long-term engagement. In the case study's A/B test the new arm "
                                  "lost on CTR yet won satisfied clicks and active days, and it shipped: I report active days "
                                  "with their interval and keep CTR as a diagnostic.",
                                  (("ranker NDCG@10 / most popular", ">"), ("A/B: CTR B - A", "<"),
                                   ("A/B: satisfied clicks per user", ">"), ("A/B: active days per user", ">"),
),
                                  (("ship B:", "", "the case's ship decision for arm B"),))],
        "Frame it as ML": [F("Why not train on clicks? You have millions of them.",
                             "Clicks reward clickbait. A satisfaction label (a click followed by a long watch) ranks better "
                             "online than the click label; the interval's lower end is above zero.",
                             (("online: satisfaction - click label", ">"),))],
        "Data and features": [F("What happens if the features are a day stale, and how do new items get shown?",
                                "Stale inputs lower ranking quality, measured; new items need a fresh candidate source, "
                                "because embeddings learned from past interactions cannot retrieve them.",
                                (("one-period-stale inputs", "<"), ("new-item recall@K", ">")))],
        "Model choice": [F("Why two stages? Why not rank the whole catalogue?",
                           "Ranking everything is too slow, so a cheap stage 1 keeps the good items among a few dozen "
                           "candidates. The ranker on top beat co-occurrence offline by a little, but online it did not "
                           "beat stage 1 alone: the interval's lower end is far below zero, and the case study ships "
                           "stage 1 alone. I would keep a slot for a ranker and ship the simpler system until one wins online.",
                           (("stage 1 recall@K_CANDIDATES / recall@10", ">"), ("ranker NDCG@10 - co-occurrence", ">"),
                            ("ranker k = 40 - stage 1 alone", "<")),
                           (("shipped:", "", "what the case study ships"),))],
        "Training": [F("You retrain on logs your own model produced. What goes wrong?",
                       "A feedback loop: the model shows what it already likes and learns from it. Trained on clicks, "
                       "the clickbait share grows round after round; a satisfaction label resists it.",
                       (("clickbait share, last round / round 1", ">"),
                        ("satisfied per impression, watch-weighted - clicks", ">")))],
        "Evaluation": [F("Offline NDCG rose; will the online metric rise too?",
                         "Not necessarily: logged data are biased by the old policy. Inverse-propensity weighting makes "
                         "offline rankings of policies agree better with online, and I still confirm with an A/B test, "
                         "sized for the lift I expect.",
                         (("IPS - naive NDCG: rank correlation", ">"), ("users per arm for a 0.5% lift", ">")))],
        "Serving": [F("How many candidates do you re-rank, and what does it cost?",
                      "The whole path fits its latency budget. Among rankers, re-ranking 40 beat 200 online; but no "
                      "ranker beat stage 1 alone, so what ships is stage 1 without a ranker, the cheapest to serve. "
                      "I pick by the online result, not by the largest K.",
                      (("end-to-end CPU p50", "True"), ("online: ranker k = 40 - k = 200", ">"),
                       ("ranker k = 40 - stage 1 alone", "<")))],
        "Monitoring": [F("Six months on, what do you watch?",
                         "Concentration of exposure (Gini, top-1 % share): trained on clicks without exploration, "
                         "exposure concentrates more; a random-exploration slice keeps an unbiased view.",
                         (("Gini of non-random slots", ">"), ("top-1 % share of non-random slots", ">")))],
    },
    "fraud": {
        "Clarify the problem": [F("How rare is fraud here, and what does that do to your metric?",
                                  "Under one percent (in the case study it is the world's planted rate, read back): accuracy "
                                  "is useless; I work with costs and PR-AUC, and choose the threshold by expected cost, not at 0.5.",
                                  (("fraud base rate", ""), ("cost-optimal threshold: cost saved", ">")))],
        "Frame it as ML": [F("When do you know a payment was fraud?",
                             "Weeks later, by chargeback; so the freshest training window is incomplete, and I test "
                             "each change to the training window one at a time.",
                             (("retrain, one change at a time", "<"),))],
        "Data and features": [F("Which features matter, and how do you know they are not leaking?",
                                "Velocity per card and terminal risk, shown by ablation against all features; terminal "
                                "risk computed with future chargebacks looks great in a backtest and fails on the future; "
                                "an as-of audit catches it.",
                                (("without card velocity", "<"), ("without terminal risk", "<"),
                                 ("leaky terminal risk, time-split backtest", ">"),
                                 ("leaky terminal risk, PR-AUC on the future", "<"), ("as-of audit", "")))],
        "Model choice": [F("Why gradient boosting and not a rule?",
                           "Because it beats both the rule and logistic regression by a margin whose interval over "
                           "seeds excludes zero; the rule stays as a fallback.",
                           (("learned model beats the 3-flag rule", ">"), ("LightGBM minus logistic regression", ">")))],
        "Training": [F("Your threshold was tuned on last month. Will it hold?",
                       "I pick it on the first half of the test weeks and check the saving on the second half.",
                       (("threshold picked on the first half", ">"),))],
        "Evaluation": [F("Can you tell from the logs whether a new threshold is cheaper?",
                         "Only partly: declined payments have no outcome. An inverse-propensity estimate from a little "
                         "randomisation gives an interval; here it contains zero, so I say the logs cannot tell and run a test.",
                         (("counterfactual: new minus deployed cost per day", ""),
                          ("card precision top-k at the daily budget", ">")))],
        "Serving": [F("How do you guarantee the online features equal the training features?",
                      "One feature definition for both paths and a parity check on replayed payments; scoring within "
                      "the latency budget, measured as a p50 with the p99 benchmarked separately.",
                      (("online vs offline features and scores identical", "True"), ("within the 10 ms budget", "True")))],
        "Monitoring": [F("Fraudsters change tactics. How fast do you notice?",
                         "The global score PSI missed a drift in one segment; a per-segment monitor caught it within "
                         "days, and retraining on a newer window lowered the cost per day.",
                         (("global score PSI in the first week", "<"), ("segment monitor, median delay", ""),
                          ("after retraining", "<")))],
    },
    "search": {
        "Clarify the problem": [F("What does a better ranking buy the business?",
                                  "More purchases per search; offline I use NDCG@10 and require every learned model to "
                                  "beat BM25 alone before anything else.",
                                  (("every LambdaMART model beats BM25 alone", ">"),))],
        "Frame it as ML": [F("Clicks are your labels. What is wrong with them?",
                             "Position bias: top results get clicked because they are on top. Weighting clicks by the "
                             "inverse of the examination probability gives a better ranker, with an interval over logs.",
                             (("IPW minus naive NDCG@10, 4 logs", ">"),))],
        "Data and features": [F("Do you log the position a result was shown at? Why?",
                                "Yes: without position the model cannot separate relevance from placement.",
                                (("without position", ">"),))],
        "Model choice": [F("Why learning to rank instead of a classifier per result?",
                           "LambdaMART optimises the order directly; every version beats BM25 on NDCG@10.",
                           (("every LambdaMART model beats BM25 alone", ">"),))],
        "Training": [F("How do you estimate the position bias itself?",
                       "By a small randomisation (shuffling the top results), which recovers the curve when users are "
                       "position-based, and misses it when trust bias and cascades apply, so I check the model's assumption.",
                       (("shuffle recovers the planted curve", "<"), ("trust bias + cascade", ">")))],
        "Evaluation": [F("Debiased or naive labels: does it change the comparison on the same data?",
                         "Yes: on the same pages the debiased labels give the better ranking.",
                         (("IPW (aggregated) minus naive", ">"),))],
        "Serving": [F("What is the latency budget per query?",
                      "Retrieval plus re-ranking within the budget, measured as a CPU p50; the re-ranker sees only the "
                      "top candidates from retrieval.",
                      (("retrieval + re-rank within the 20 ms budget", "True"),))],
        "Monitoring": [F("The ranker trains on clicks it caused. Then what?",
                         "A feedback loop; IPW and a little exploration both help, measured after several rounds.",
                         (("feedback loop without exploration", ">"), ("exploration helps", ">")))],
    },
    "churn": {
        "Clarify the problem": [F("Is predicting who will leave the goal?",
                                  "No: the goal is whom an offer will keep. Risk ranking beats random but is not the target.",
                                  (("risk minus random", ">"), ("CV-chosen learner / oracle", "")))],
        "Frame it as ML": [F("How do you define the label, and which column would you distrust?",
                             "Cancels within H weeks of a snapshot, time-split so labels mature; a column exported after "
                             "the decision inflated offline PR-AUC beyond the oracle's, impossible honestly, so it leaks.",
                             (("leaky model PR-AUC offline / honest", ">"), ("minus the oracle's", ">")))],
        "Data and features": [F("How do you know a feature is available at decision time?",
                                "By its timestamp; the leaky model, rebuilt with values as of the decision, is worse than the honest one.",
                                (("leaky model at decision time", "<"),))],
        "Model choice": [F("What is your baseline?",
                           "For risk, an activity rule: LightGBM beats it on PR-AUC and top-decile lift. For the offer, "
                           "a rule from slicing the campaign by its interval is the baseline, and it is hard to beat: "
                           "it saved at least as many as the best refitted uplift learner in most refits at 1,000 offers "
                           "(fewer at 2,000). I would ship the rule and let the S-, T- and X-learners earn their place.",
                           (("LightGBM PR-AUC minus rule", ">"), ("top-decile lift minus rule", ">"),
                            ("share in which the rule saves more than risk", ">")),
                           (("refits of the log", "", "the rule from slicing against the best refitted learner"),))],
        "Training": [F("Your uplift learners overfit small campaign data. What do you do?",
                       "Tune tree size by cross-validated Qini; smaller trees won for most learners.",
                       (("learners whose CV-best tree size", ">"),))],
        "Evaluation": [F("The risk list looks great. Who is on it?",
                         "Mostly people the offer does not change: sure things who stay anyway and lost causes who leave "
                         "anyway. That holds for every list, uplift included; the risk list has the most lost causes, "
                         "the uplift learner's fewer, the rule from slicing's fewest. The probabilities I use are calibrated.",
                         (("lost causes in the top", ">"), ("ECE of the LightGBM probabilities used", "<")),
                         (("risk ", *_TOP), ("S-learner", *_TOP), ("rule from slicing", *_TOP)))],
        "Serving": [F("It is a weekly batch job. What can go wrong?",
                      "Partial writes and bad input: the job overwrites its partition atomically, re-runs are identical, "
                      "and every planted failure stops with a named error.",
                      (("re-run leaves the partition identical", "True"), ("planted failures stopped", "")))],
        "Monitoring": [F("Prices rise next month. Does your monitoring notice?",
                         "Score PSI stays small when nothing changes and jumps after a price shock; every campaign keeps "
                         "a random holdout to measure incremental saves.",
                         (("PSI of weekly scores, largest", "<"), ("PSI after an injected price rise", ">")))],
    },
    "rag": {
        "Clarify the problem": [F("Is it better to answer or to abstain?",
                                  "A wrong answer costs more than no answer, so I set an abstention target for unanswerable "
                                  "questions and a correctness bar for answered ones. In the case study abstention cleared "
                                  "its floor but missed its 0.8 target, while correctness among answered met its bar; I "
                                  "would say so rather than round it up.",
                                  (("unanswerable abstained", ">"), ("correct among answered", ">")))],
        "Frame it as ML": [F("Retrieval: keywords or vectors?",
                             "Measure both on paraphrased questions: here vectors beat BM25 clearly. The tuned hybrid "
                             "put weight 0 on BM25 in every fold, so the hybrid is the vectors alone.",
                             (("vectors \u2212 BM25", ">"),),
                             (("fusion weight on BM25 chosen", "", "0 in a fold: the hybrid is the vectors alone"),))],
        "Data and features": [F("Employees must not see documents above their role. How do you enforce it?",
                                "Filter by access before retrieval, per role, and test that removing restricted documents "
                                "changes no answer; a shared index filtered after scoring fails that test.",
                                (("employee answers changed", ""), ("ACL test can fail", ">")))],
        "Model choice": [F("Do you need a re-ranker?",
                           "Only if it beats the tuned hybrid on held-out folds by an interval that excludes zero. Here "
                           "the mean gain is positive but the interval starts just below zero: promising, not proven, "
                           "and I would weigh its latency before shipping it.",
                           (("re-ranker \u2212 tuned hybrid", ">"), ("pipeline \u2212 BM25", ">")),
                           (("all: re-ranker \u2212 tuned hybrid", *_GAINS),))],
        "Training": [F("You fine-tuned the retriever. How do you know the gain is real?",
                       "Compare it on held-out folds with the simple baselines: here the trained dense retriever did "
                       "worse than BM25 on paraphrases on average (the interval spans zero) and not clearly better than "
                       "untrained LSA, while a pretrained model (the vectors) did far better than BM25. I would also score "
                       "it on passages kept out of its training, since a gain there is the only one that counts.",
                       (("dense (trained) \u2212 BM25", "<"), ("vectors \u2212 BM25", ">")),
                       (("dense (trained) \u2212 BM25", *_GAINS), ("dense (trained) \u2212 LSA", *_GAINS)))],
        "Evaluation": [F("Who grades the answers?",
                         "A judge agreed with gold labels only moderately (kappa), and an overlap judge cannot see wrong "
                         "extractive answers at all; I calibrate any judge on a gold set first.",
                         (("judge kappa vs gold", ">"), ("overlap judge's true-negative rate", "<")))],
        "Serving": [F("Will you cache answers?",
                      "Only with a tight similarity threshold: looser thresholds serve more wrong answers; retrieval "
                      "plus re-rank fits the latency budget.",
                      (("cache: wrong-answer hits", ">"), ("retrieval + re-rank, CPU p50", "True")))],
        "Monitoring": [F("Someone plants instructions in a wiki page. What catches it?",
                         "Rules written at ingestion caught the author's own injections far better than a reviewer's new "
                         "ones: they overfit. An answer-time filter, never tuned on a frozen set, caught most of it with "
                         "no false alarms on benign look-alikes; and a hallucination-report alert fires after an incident.",
                         (("injection rules at ingestion", ">"), ("answer-time filter: detection on the frozen set", ">"),
                          ("answer-time filter: false alarms", "<"), ("hallucination-report alert", "True")))],
    },
}


# --------------------------------------------------------------------------------------------
# The five signals and the self-assessment rubric

@dataclass(frozen=True)
class Signal:
    """One signal interviewers grade; ``trains`` are notebook numbers (only existing ones are linked)."""

    key: str
    name: str
    looks_like: str
    penalised: tuple[str, ...]
    trains: tuple[int, ...]


SIGNALS: tuple[Signal, ...] = (
    Signal("start_simple", "Start simple",
           "Opens with a rule or a linear model and a measured ceiling; adds complexity only when it pays.",
           ("jumps to a deep model first", "no baseline to compare with"), (2, 4, 10, 12)),
    Signal("tie_metrics", "Tie offline metrics to the business metric",
           "Names the business metric first, then an online proxy and an offline metric that tracks it, with guardrails.",
           ("optimises accuracy or AUC without saying why", "no guardrail metric", "no A/B plan"), (1, 6, 9)),
    Signal("serving", "Think about serving",
           "Gives a latency budget per stage, batch or online, feature parity, and a fallback.",
           ("ignores latency and cost", "training features unavailable online"), (7, 10, 11)),
    Signal("failure_modes", "Name failure modes unprompted",
           "Raises leakage, label delay, drift, feedback loops and bias before being asked.",
           ("leakage unnoticed", "no monitoring plan", "feedback loops ignored"), (3, 8, 12, 13)),
    Signal("structure", "Drive with structure",
           "Announces the plan, walks the eight steps in order, keeps time, summarises.",
           ("waits for the interviewer to steer", "spends half the time on one step"), (1, 14)),
)
SIGNAL_BY_KEY: dict[str, Signal] = {s.key: s for s in SIGNALS}
SCORE_MIN, SCORE_MAX = 1, 4
#: What each score means (the rubric's wording; the observer sheet and notebook 14 print it from here).
SCORE_LABELS: dict[int, str] = {1: "missing", 2: "only when prompted", 3: "unprompted", 4: "unprompted and quantified"}


def notebooks_for(signal: str, notebook_dir: Path = NOTEBOOK_DIR) -> list[str]:
    """File names of the existing notebooks that train ``signal``."""
    if signal not in SIGNAL_BY_KEY:
        raise ValueError(f"signal={signal!r} is unknown; valid: {', '.join(SIGNAL_BY_KEY)}")
    have = {lesson.number: lesson.filename for lesson in existing(notebook_dir)}
    return [have[n] for n in SIGNAL_BY_KEY[signal].trains if n in have]


@dataclass(frozen=True)
class RubricResult:
    """The rubric's verdict: the mean score, the weakest signals, and the notebooks to study."""

    mean: float
    weakest: tuple[str, ...]
    notebooks: tuple[str, ...]

    def summary(self) -> str:
        if not self.weakest:
            return f"mean {self.mean:.1f} of {SCORE_MAX}; no gap: all five at the top score"
        names = ", ".join(SIGNAL_BY_KEY[k].name for k in self.weakest)
        label = "no single weak spot, all five tied" if len(self.weakest) == len(SIGNALS) else f"weakest: {names}"
        return (f"mean {self.mean:.1f} of {SCORE_MAX}; {label}; study: "
                + (", ".join(self.notebooks) or "(none of its notebooks exists yet)"))


def rubric_result(scores: dict[str, int], notebook_dir: Path = NOTEBOOK_DIR) -> RubricResult:
    """Score each of the five signals from 1 to 4; the weakest (all tied at the minimum) and their notebooks.

    All five at the top score is no gap: ``weakest`` and ``notebooks`` are empty.
    """
    unknown = set(scores) - set(SIGNAL_BY_KEY)
    if unknown:
        raise ValueError(f"scores has unknown signals {sorted(unknown)}; valid: {', '.join(SIGNAL_BY_KEY)}")
    missing = set(SIGNAL_BY_KEY) - set(scores)
    if missing:
        raise ValueError(f"scores lacks signals {sorted(missing)}; score all five")
    for key, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, int) or not SCORE_MIN <= value <= SCORE_MAX:
            raise ValueError(f"scores[{key!r}]={value!r} must be an integer in [{SCORE_MIN}, {SCORE_MAX}]")
    low = min(scores.values())
    weakest = tuple(s.key for s in SIGNALS if scores[s.key] == low) if low < SCORE_MAX else ()
    books: list[str] = []
    for key in weakest:
        books += [b for b in notebooks_for(key, notebook_dir) if b not in books]
    return RubricResult(sum(scores.values()) / len(scores), weakest, tuple(books))


# --------------------------------------------------------------------------------------------
# 60-second skeletons

SKELETONS: dict[str, str] = {
    "recommendations": ("Goal: long-term engagement, not clicks. Label: satisfied watches. Baselines most-popular and "
                        "co-occurrence; cheap candidate sources (co-visitation, embeddings, a fresh-items source). A "
                        "ranker on top only if it wins online: in the case study it did not, so stage 1 alone ships. "
                        "Offline NDCG with propensity weighting, then an A/B on satisfied clicks and active days with "
                        "CTR as a diagnostic. Serve within a latency budget; monitor exposure concentration and keep an "
                        f"exploration slice against the feedback loop. Case study: {BY_NUMBER[9].filename}"),
    "fraud": ("Goal: fraud losses plus false-decline cost. Label: chargebacks, weeks late. Features: card velocity and "
              "terminal risk computed as of the payment; a rule baseline, then gradient boosting. PR-AUC and precision "
              "at the review budget; threshold by expected cost. Score online within milliseconds with feature parity; "
              f"monitor per segment, not only global PSI; retrain on newer windows. Case study: {BY_NUMBER[10].filename}"),
    "search": ("Goal: purchases per search. Labels: clicks, debiased for position with a little randomisation. "
               "Retrieve with BM25, re-rank with LambdaMART that must beat BM25 on NDCG@10. Log positions; check the "
               "click model's assumptions. Latency budget per query; watch the feedback loop and keep exploration. "
               f"Case study: {BY_NUMBER[11].filename}"),
    "churn": ("Goal: net retained value from a weekly offer budget. Label: cancels within H weeks of a snapshot, time "
              "split; find leaky columns by timing. Risk model beats a rule, but target uplift: a rule from slicing "
              "the campaign first (it matched the best learner in most refits), S/T/X-learners by Qini only if they "
              "beat it at the budget. Weekly batch job, atomic partitions; every "
              f"campaign keeps a random holdout. Case study: {BY_NUMBER[12].filename}"),
    "rag": ("Goal: questions resolved safely. Access control before retrieval; vectors beat BM25 (a tuned hybrid "
            "kept no BM25 weight), a re-ranker only if its interval clears zero; abstain when unsure. Evaluate retrieval (MRR) and answers on a gold set with a calibrated "
            "judge; defend against injected instructions at answer time. Cache with a tight threshold; monitor "
            f"wrong-answer reports. Case study: {BY_NUMBER[13].filename}"),
}


# --------------------------------------------------------------------------------------------
# Practice files (JSON under a directory the caller names)

LOG_FILE, CHECKLIST_FILE, DECK_FILE = "log.json", "checklist.json", "deck.json"
REPO_ROOT = NOTEBOOK_DIR.parent


def practice_dir(folder: str | Path) -> Path:
    """The practice folder: an absolute path as given, a relative one under the repository root
    (not the working directory, which differs between Jupyter, nbval and a terminal)."""
    if not isinstance(folder, (str, Path)) or not str(folder).strip():
        raise ValueError(f"PRACTICE_DIR={folder!r} must be None or a folder path such as 'practice'")
    path = Path(folder).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def local_today() -> dt.date:
    """Today's date on this machine's clock, in its local time zone (on Binder and Colab that is UTC)."""
    return dt.datetime.now().astimezone().date()


class PracticeFileError(ValueError):
    """A practice file exists but cannot be used; the message names the file and the problem."""


def _read(path: Path, kind: type) -> object:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise PracticeFileError(f"{path}: not valid JSON ({error.msg} at line {error.lineno}); fix or delete it") from error
    if not isinstance(data, kind):
        raise PracticeFileError(f"{path}: expected a JSON {kind.__name__}, found {type(data).__name__}")
    return data


def _write(path: Path, data: object) -> None:
    """Write JSON atomically: a temporary file of its own in the same folder, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_THREAD_LOCK = threading.Lock()


@contextlib.contextmanager
def _locked(directory: str | Path) -> Iterator[None]:
    """Hold the practice folder's lock for a read-modify-write (a file lock where the OS has one)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    with _THREAD_LOCK, open(folder / ".practice.lock", "a+", encoding="utf-8") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: the thread lock alone (one kernel at a time)
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _date(value: str | dt.date, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise ValueError(f"{name}={value!r} must be a date 'YYYY-MM-DD'") from error


def log_session(directory: str | Path, date: str | dt.date, prompt: str, minutes: int, scores: dict[str, int]) -> dict:
    """Append one practice session to ``log.json``; scores are validated like :func:`rubric_result`."""
    _prompt(prompt)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 180:
        raise ValueError(f"minutes={minutes!r} must be an integer in [1, 180]")
    rubric_result(scores)
    entry = {"date": _date(date, "date").isoformat(), "prompt": prompt, "minutes": minutes,
             "scores": {k: scores[k] for k in SIGNAL_BY_KEY}}
    with _locked(directory):
        _write(Path(directory) / LOG_FILE, read_log(directory) + [entry])
    return entry


def read_log(directory: str | Path) -> list[dict]:
    """All sessions in ``log.json`` (an empty list if the file does not exist yet)."""
    path = Path(directory) / LOG_FILE
    if not path.exists():
        return []
    log = _read(path, list)
    for i, entry in enumerate(log):  # type: ignore[arg-type]
        if not isinstance(entry, dict) or not {"date", "prompt", "minutes", "scores"} <= set(entry):
            raise PracticeFileError(f"{path}: entry {i} needs date, prompt, minutes and scores")
        try:  # the same checks as log_session, so a hand-edited file fails here, naming the entry
            _date(entry["date"], "date")
            _prompt(entry["prompt"])
            if isinstance(entry["minutes"], bool) or not isinstance(entry["minutes"], int) or not 1 <= entry["minutes"] <= 180:
                raise ValueError(f"minutes={entry['minutes']!r} must be an integer in [1, 180]")
            if not isinstance(entry["scores"], dict):
                raise ValueError(f"scores={entry['scores']!r} must be a dict of the five signals")
            rubric_result(entry["scores"])
        except ValueError as error:
            raise PracticeFileError(f"{path}: entry {i}: {error}") from error
    return log  # type: ignore[return-value]


def demo_log(directory: str | Path, seed: int, weeks: int = 8) -> list[dict]:
    """Fill ``directory`` with a seeded example log (two sessions a week, slowly improving scores)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    start = dt.date(2026, 1, 5)
    for week in range(weeks):
        for day in (1, 4):
            base = 1.5 + 2.0 * week / max(weeks - 1, 1)
            scores = {s.key: int(np.clip(round(base + rng.normal(0, 0.6) - 0.5 * (s.key == "serving")), 1, 4))
                      for s in SIGNALS}
            log_session(directory, start + dt.timedelta(days=7 * week + day), PROMPTS[int(rng.integers(len(PROMPTS)))].key,
                        int(rng.integers(30, 50)), scores)
    return read_log(directory)


def lowest_recent(log: list[dict], last: int = 8) -> tuple[str, ...]:
    """Every signal tied at the lowest mean score over the last ``last`` sessions (("",) for an empty log)."""
    recent = [e["scores"] for e in log][-last:]
    if not recent:
        return ("",)
    means = {s.key: round(sum(r[s.key] for r in recent) / len(recent), 9) for s in SIGNALS}
    low = min(means.values())
    return tuple(sorted(k for k, v in means.items() if v == low))


def accepts(answer: object, accepted: tuple[str, ...]) -> bool:
    """Whether ``answer`` is one of ``accepted`` (case and surrounding spaces ignored)."""
    return isinstance(answer, str) and answer.strip().lower() in {a.lower() for a in accepted}


CHECKLIST: tuple[str, ...] = (
    "I can name the eight steps in order without notes",
    "I have talked all five canonical prompts through out loud",
    "I open every answer with clarifying questions and a metric tree",
    "I name a baseline before any model",
    "I can size an A/B test (users per arm) on the back of an envelope",
    "I can give a latency budget per stage for a two-stage system",
    "I name leakage, label delay, drift and feedback loops unprompted",
    "I have done one mock interview with another person, timed at 45 minutes",
)


def read_checklist(directory: str | Path) -> dict[str, bool]:
    """Every checklist item and whether it is ticked (unticked if the file does not exist)."""
    path = Path(directory) / CHECKLIST_FILE
    ticks = _read(path, dict) if path.exists() else {}
    unknown = set(ticks) - set(CHECKLIST)  # type: ignore[arg-type]
    if unknown:
        raise PracticeFileError(f"{path}: items not on the checklist: {sorted(unknown)}")
    return {item: bool(ticks.get(item, False)) for item in CHECKLIST}  # type: ignore[union-attr]


def tick(directory: str | Path, item: str, done: bool = True) -> dict[str, bool]:
    """Tick (or untick) one checklist item; it persists in ``checklist.json``."""
    if item not in CHECKLIST:
        raise ValueError(f"item={item!r} is not on the checklist; items: {list(CHECKLIST)}")
    with _locked(directory):
        ticks = read_checklist(directory)
        ticks[item] = bool(done)
        _write(Path(directory) / CHECKLIST_FILE, ticks)
    return ticks


# Recall drill: Leitner boxes. A card in box b is due INTERVALS[b] days after its last review;
# a correct answer moves it up one box (at most the last), a wrong one back to box 1.
INTERVALS: dict[int, int] = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16}
_BASELINES = {"recommendations": "most popular, then co-occurrence", "fraud": "a three-flag rule, then logistic regression",
              "search": "BM25 alone", "churn": "an activity-dropped rule (and random targeting)",
              "rag": "BM25 retrieval with extractive answers"}
_AB = {"recommendations": "users randomised; active days per user primary, CTR diagnostic; size for a small lift",
       "fraud": "shadow mode, then a small randomised share on the new threshold; guardrail approval rate",
       "search": "interleaving for a fast ranker comparison, then an A/B on purchases per search",
       "churn": "a random holdout inside the offer list; incremental net value per offer",
       "rag": "questions randomised by arm; wrong-answer reports as guardrail, resolution rate primary"}


def cards() -> dict[str, tuple[str, str]]:
    """The recall deck: {card id: (front, back)} for the eight headings and each canonical problem."""
    deck = {f"step {i}": (f"Step {i} of the eight, and what it must answer?", f"{s}: {TEMPLATE[s]}")
            for i, s in enumerate(STEPS, 1)}
    for key in CANONICAL:
        title = BY_KEY[key].title
        deck[f"{key}: baseline"] = (f"{title}: the baseline to beat?", _BASELINES[key])
        deck[f"{key}: metric"] = (f"{title}: business metric and offline metric?",
                                  f"{metric_tree(key)['business']}; offline: {', '.join(metric_tree(key)['offline'])}")  # type: ignore[arg-type]
        deck[f"{key}: A/B plan"] = (f"{title}: the online test?", _AB[key])
    return deck


def _load_deck(directory: str | Path, today: dt.date) -> dict[str, dict]:
    path = Path(directory) / DECK_FILE
    state = _read(path, dict) if path.exists() else {}
    for card, entry in state.items():  # type: ignore[union-attr]
        if not isinstance(entry, dict) or entry.get("box") not in INTERVALS or "due" not in entry:
            raise PracticeFileError(f"{path}: card {card!r} needs a box in 1-5 and a due date")
        try:
            dt.date.fromisoformat(str(entry["due"]))
        except ValueError as error:
            raise PracticeFileError(f"{path}: card {card!r} has due={entry['due']!r}; it must be a date "
                                    "'YYYY-MM-DD'") from error
    for card in cards():
        state.setdefault(card, {"box": 1, "due": today.isoformat()})  # type: ignore[union-attr]
    return state  # type: ignore[return-value]


def due_cards(directory: str | Path, today: str | dt.date) -> list[str]:
    """Card ids due on ``today`` (new cards are due at once), in deck order."""
    day = _date(today, "today")
    state = _load_deck(directory, day)
    return [c for c in cards() if dt.date.fromisoformat(state[c]["due"]) <= day]


def grade(directory: str | Path, card: str, correct: bool, today: str | dt.date, max_interval: int | None = None) -> dict:
    """Record one answer: move the card up a box (or back to box 1) and set its next due date.

    ``max_interval`` (days, >= 1) caps the gap: with an interview a week or two away, long boxes
    would not bring a known card back before it.
    """
    if max_interval is not None and (isinstance(max_interval, bool) or not isinstance(max_interval, int) or max_interval < 1):
        raise ValueError(f"max_interval={max_interval!r} must be None or an integer >= 1")
    if card not in cards():
        raise ValueError(f"card={card!r} is not in the deck; see cards()")
    day = _date(today, "today")
    with _locked(directory):
        state = _load_deck(directory, day)
        box = min(state[card]["box"] + 1, max(INTERVALS)) if correct else 1
        gap = INTERVALS[box] if max_interval is None else min(INTERVALS[box], max_interval)
        state[card] = {"box": box, "due": (day + dt.timedelta(days=gap)).isoformat()}
        _write(Path(directory) / DECK_FILE, state)
    return state[card]


def deck_state(directory: str | Path, today: str | dt.date) -> dict[str, dict]:
    """Every card's box and due date."""
    return _load_deck(directory, _date(today, "today"))


# --------------------------------------------------------------------------------------------
# Small widgets for the notebook (imported lazily: the rest of the module needs no ipywidgets)


def drill_widget(directory: str | Path, today: str | dt.date):  # noqa: ANN201 (returns an ipywidgets box)
    """Flash cards for the due cards: show the front, reveal the back, grade yourself (persists)."""
    import ipywidgets as widgets

    day, deck = _date(today, "today"), cards()
    queue = due_cards(directory, day)
    text = widgets.HTML()
    reveal, right, wrong = (widgets.Button(description=d) for d in ("show answer", "I was right", "I was wrong"))

    def show(back: bool = False) -> None:
        if not queue:
            text.value = "<b>No card due today.</b>"
            return
        front, answer = deck[queue[0]]
        text.value = f"<b>{html.escape(front)}</b>" + (f"<br>{html.escape(answer)}" if back else "") + \
            f"<br><i>{len(queue)} due</i>"

    def graded(correct: bool) -> None:
        if queue:
            grade(directory, queue.pop(0), correct, day)
        show()

    reveal.on_click(lambda _: show(back=True))
    right.on_click(lambda _: graded(True))
    wrong.on_click(lambda _: graded(False))
    show()
    return widgets.VBox([text, widgets.HBox([reveal, right, wrong])])


def checklist_widget(directory: str | Path):  # noqa: ANN201 (returns an ipywidgets box)
    """One checkbox per checklist item; each click is written to ``checklist.json`` at once."""
    import ipywidgets as widgets

    boxes = []
    for item, done in read_checklist(directory).items():
        box = widgets.Checkbox(value=done, description=item, indent=False, layout=widgets.Layout(width="95%"))
        box.observe(lambda change, item=item: tick(directory, item, change["new"]), names="value")
        boxes.append(box)
    return widgets.VBox(boxes)
