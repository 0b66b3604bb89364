"""The RAG world: a hand-written company handbook, its gold eval set, and a bring-your-own loader.

Unlike the other worlds nothing is sampled: the corpus is 53 Markdown files in
``datasets/handbook/`` (written for this course) and ``datasets/handbook_eval.csv`` holds the
questions with their gold document and section. This module only *loads* them:

- :func:`load_handbook` — documents and their sections as DataFrames (metadata included);
- :func:`load_eval` — the gold questions;
- :func:`split_questions` — a train/test split that keeps every fact on one side;
- :func:`chunk_by_heading` and :func:`chunk_fixed_window` — the two chunkings step 3 compares;
- :func:`load_folder` — the same DataFrames from any folder of ``.md``/``.txt`` files, with clear
  errors for a missing, empty or unreadable folder.

The retrieval, re-ranking and answering code is teaching code and lives in the notebook.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from utils.validate import check_float, check_int, check_seed

DATASETS = Path(__file__).resolve().parent.parent / "datasets"
HANDBOOK_DIR = DATASETS / "handbook"
EVAL_PATH = DATASETS / "handbook_eval.csv"

#: Which document audiences each kind of user may read. "all" documents are readable by everyone.
ROLES: dict[str, frozenset[str]] = {
    "employee": frozenset({"all"}),
    "engineer": frozenset({"all", "engineering"}),
    "manager": frozenset({"all", "managers"}),
    "hr": frozenset({"all", "hr", "managers"}),
}
QUESTION_TYPES = ("exact", "paraphrase", "changed_policy")
DOC_COLUMNS = ["doc_id", "file", "title", "audience", "last_updated", "status", "superseded_by"]
SECTION_COLUMNS = ["doc_id", "section", "position", "text"]
CHUNK_COLUMNS = [
    "chunk_id", "doc_id", "file", "title", "section", "text",
    "audience", "last_updated", "status", "superseded_by",
]

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def parse_document(text: str, name: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Split one Markdown/plain-text file into (front matter, [(section heading, body), ...]).

    Front matter is an optional ``---`` block of ``key: value`` lines. The first ``#`` heading is
    taken as the title; ``##`` (or deeper) headings start sections. Text before the first section
    heading, or a file without headings, becomes a section named ``(top)``. Empty sections are dropped.
    """
    meta: dict[str, str] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip()] = value.strip()
        text = text[match.end():]
    sections: list[tuple[str, list[str]]] = [("(top)", [])]
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading and len(heading.group(1)) == 1 and "title" not in meta:
            meta["title"] = heading.group(2)
        elif heading and len(heading.group(1)) >= 2:
            sections.append((heading.group(2), []))
        elif not heading:
            sections[-1][1].append(line)
    body = [(head, " ".join(" ".join(lines).split())) for head, lines in sections]
    meta.setdefault("title", Path(name).stem.replace("_", " ").replace("-", " "))
    return meta, [(head, text) for head, text in body if text]


def _frames(files: list[tuple[str, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Documents and sections DataFrames from [(file name, text), ...]."""
    docs, sections = [], []
    for name, text in files:
        meta, parts = parse_document(text, name)
        doc_id = Path(name).stem
        docs.append({
            "doc_id": doc_id, "file": name, "title": meta["title"],
            "audience": meta.get("audience", "all"),
            "last_updated": pd.Timestamp(meta["last_updated"]) if meta.get("last_updated") else pd.NaT,
            "status": meta.get("status", "current"), "superseded_by": meta.get("superseded_by", ""),
        })
        sections += [{"doc_id": doc_id, "section": head, "position": i, "text": body}
                     for i, (head, body) in enumerate(parts)]
    doc_frame = pd.DataFrame(docs, columns=DOC_COLUMNS)
    doc_frame["last_updated"] = pd.to_datetime(doc_frame["last_updated"])
    return doc_frame, pd.DataFrame(sections, columns=SECTION_COLUMNS)


def load_folder(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load every ``.md`` and ``.txt`` file directly inside ``path`` (bring your own documents).

    Returns ``(docs, sections)`` like :func:`load_handbook`. Files without front matter get
    audience ``all`` and status ``current``. Raises ``FileNotFoundError`` for a missing folder,
    ``NotADirectoryError`` for a file, and ``ValueError`` for a folder with no readable
    ``.md``/``.txt`` text or a file that cannot be read as UTF-8 (the message names the file).
    """
    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(f"DOCS_PATH={str(path)!r} does not exist; give a folder of .md or .txt files")
    if not folder.is_dir():
        raise NotADirectoryError(f"DOCS_PATH={str(path)!r} is a file, not a folder of .md or .txt files")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in {".md", ".txt"})
    if not paths:
        raise ValueError(f"DOCS_PATH={str(path)!r} holds no .md or .txt files; nothing to index")
    files = []
    for file in paths:
        try:
            files.append((file.name, file.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"cannot read {file.name!r} in DOCS_PATH as UTF-8 text: {error}") from error
    docs, sections = _frames(files)
    if sections.empty:
        raise ValueError(f"DOCS_PATH={str(path)!r}: every .md/.txt file is empty; nothing to index")
    return docs, sections


def load_handbook() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Larkspur Labs handbook: ``(docs, sections)`` DataFrames, sorted by file name.

    ``docs``: doc_id, file, title, audience (all/engineering/hr/managers), last_updated,
    status (current/superseded), superseded_by. ``sections``: doc_id, section, position, text.
    """
    return load_folder(HANDBOOK_DIR)


def load_eval() -> pd.DataFrame:
    """The gold questions (see ``datasets/handbook.md`` for the columns)."""
    frame = pd.read_csv(EVAL_PATH, keep_default_na=False, dtype={"answerable": int})
    frame["answerable"] = frame["answerable"].astype(bool)
    return frame


def split_questions(
    questions: pd.DataFrame, test_share: float = 0.4, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split questions into (train, test) by ``fact_id``: all wordings of one fact land on one side.

    A random split by row would put "How many leave days?" in training and its paraphrase in test,
    and the re-ranker would be graded on a fact it has already seen. ``test_share`` is the share of
    facts (not rows) sent to test.
    """
    check_float("test_share", test_share, 0.05, 0.95)
    rng = np.random.default_rng(check_seed(seed))
    facts = np.array(sorted(questions["fact_id"].unique()))
    test_facts = set(rng.choice(facts, size=int(round(test_share * len(facts))), replace=False))
    in_test = questions["fact_id"].isin(test_facts).to_numpy()
    return questions[~in_test].reset_index(drop=True), questions[in_test].reset_index(drop=True)


def _chunk_frame(rows: list[dict], docs: pd.DataFrame) -> pd.DataFrame:
    chunks = pd.DataFrame(rows, columns=["doc_id", "section", "text"]).merge(
        docs, on="doc_id", how="left", validate="many_to_one")
    chunks.insert(0, "chunk_id", np.arange(len(chunks)))
    return chunks[CHUNK_COLUMNS]


def chunk_by_heading(docs: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    """One chunk per section; the title and heading are prefixed to the text (they carry meaning).

    Every chunk carries its document's metadata (audience, last_updated, status) for filtering.
    """
    titles = docs.set_index("doc_id")["title"]
    text = titles.reindex(sections["doc_id"]).to_numpy() + " — " + sections["section"] + ". " + sections["text"]
    rows = pd.DataFrame({"doc_id": sections["doc_id"], "section": sections["section"], "text": text})
    return _chunk_frame(rows.to_dict("records"), docs)


def chunk_fixed_window(
    docs: pd.DataFrame, sections: pd.DataFrame, size: int = 40, overlap: int = 10
) -> pd.DataFrame:
    """Fixed windows of ``size`` words (``overlap`` shared with the next), ignoring headings.

    Each document's sections are concatenated into one word stream, as a naive splitter would do.
    A chunk's ``section`` is the section its first word belongs to.
    """
    size = check_int("size", size, 5, 2000)
    overlap = check_int("overlap", overlap, 0, size - 1)
    rows = []
    for doc_id, group in sections.groupby("doc_id", sort=False):
        words, owner = [], []
        for section, text in zip(group["section"], group["text"], strict=True):
            tokens = text.split()
            words += tokens
            owner += [section] * len(tokens)
        for start in range(0, max(len(words) - overlap, 1), size - overlap):
            rows.append({"doc_id": doc_id, "section": owner[start], "text": " ".join(words[start:start + size])})
    return _chunk_frame(rows, docs)
