"""The RAG world: a hand-written company handbook, its gold eval set, a bring-your-own loader, and
the retrieval pipeline the notebook teaches.

The corpus is 53 Markdown files in ``datasets/handbook/`` (written for this course);
``datasets/handbook_eval.csv`` holds the questions with their gold document and section;
``datasets/handbook_injection.csv`` is an adversarial injection set; ``datasets/byo_docs/`` is a
folder of another company's pages with its own questions. This module:

- loads them: :func:`load_handbook`, :func:`load_eval`, :func:`load_folder` (any folder of
  ``.md``/``.txt``: heading paths, tables as sentences, headingless files in parts, clear errors);
- splits by fact (:func:`split_questions`) and chunks (:func:`chunk_by_heading`, :func:`chunk_fixed_window`);
- scans for injected instructions (:func:`injection_rules`, :func:`flag_injections`);
- retrieves and answers: :class:`BM25`, :class:`DenseRetriever` (trained on question-passage pairs,
  dyadic vectors), :class:`PretrainedRetriever` (all-MiniLM-L6-v2 via :mod:`utils.minilm`),
  :func:`fuse`, :class:`Index` (one per role), :class:`Assistant`.
- detects older versions from section headings and dates (:func:`newer_version_exists`);
- writes realistic traffic: new wordings of eval questions (:func:`paraphrase`, :func:`new_wordings`).

The decisions and their measurements are teaching material and live in the notebook.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

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
_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
#: A headingless file is cut into chunks of about this many words, at paragraph ends.
PLAIN_CHUNK_WORDS = 120


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table_sentences(rows: list[str]) -> list[str]:
    """A Markdown table as one sentence per row: ``"<first cell> — <header>: <cell>; ...".``"""
    rows = [row for row in rows if not _TABLE_RULE.match(row.strip())]
    if len(rows) < 2:
        return [" ".join(_cells(row)) + "." for row in rows]
    header, out = _cells(rows[0]), []
    for row in rows[1:]:
        cells = _cells(row)
        pairs = [f"{h}: {c}" for h, c in zip(header[1:], cells[1:], strict=False) if c]
        out.append(f"{cells[0]} — {'; '.join(pairs)}." if pairs else f"{cells[0]}.")
    return out


def flatten_lines(lines: list[str]) -> str:
    """Body lines to one whitespace-normalised string: tables become sentences, list items end
    with a full stop, so the answer step can split sentences."""
    out, table = [], []
    for line in lines + [""]:
        if line.strip().startswith("|"):
            table.append(line)
            continue
        if table:
            out += _table_sentences(table)
            table = []
        text = line.strip()
        if _LIST_ITEM.match(text):
            text = _LIST_ITEM.sub("", text)
            text = text if text.endswith((".", "!", "?", ":")) else text + "."
        out.append(text)
    return " ".join(" ".join(out).split())


def _paragraph_parts(lines: list[str], words: int = PLAIN_CHUNK_WORDS) -> list[tuple[str, str]]:
    """A headingless text cut at paragraph ends into parts of about ``words`` words each."""
    paragraphs, current = [], []
    for line in lines + [""]:
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(flatten_lines(current))
            current = []
    parts: list[list[str]] = [[]]
    for paragraph in paragraphs:
        if parts[-1] and len(" ".join(parts[-1] + [paragraph]).split()) > words:
            parts.append([])
        parts[-1].append(paragraph)
    named = [" ".join(part) for part in parts if part]
    return [(f"part {i + 1}" if len(named) > 1 else "(top)", text) for i, text in enumerate(named)]


def parse_document(text: str, name: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Split one Markdown/plain-text file into (front matter, [(section heading path, body), ...]).

    Front matter is an optional ``---`` block of ``key: value`` lines. The first ``#`` heading is
    the title; deeper headings start sections named by their path (``"Travel > Flights"`` for a
    ``###`` under a ``##``). Markdown tables become one sentence per row; list items end with a
    full stop. Text before the first section heading becomes a section named ``(top)``. A file with
    no section headings is cut at paragraph ends into parts of about ``PLAIN_CHUNK_WORDS`` words;
    its first line is taken as the title when it is short and unpunctuated (a headingless note's
    title line is not glued into the first answer). Empty sections are dropped.
    """
    meta: dict[str, str] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip()] = value.strip()
        text = text[match.end():]
    lines = text.splitlines()
    if not any((h := _HEADING.match(line)) and len(h.group(1)) >= 2 for line in lines):
        body = [line for line in lines if not ((h := _HEADING.match(line)) and meta.setdefault("title", h.group(2)))]
        first = next((line.strip() for line in body if line.strip()), "")
        if "title" not in meta and first and len(first.split()) <= 10 and not first.endswith((".", "!", "?", ":", "|")):
            meta["title"] = first
            body = body[body.index(next(line for line in body if line.strip())) + 1:]
        meta.setdefault("title", Path(name).stem.replace("_", " ").replace("-", " "))
        return meta, [(head, part) for head, part in _paragraph_parts(body) if part]
    sections: list[tuple[str, list[str]]] = [("(top)", [])]
    path: dict[int, str] = {}
    for line in lines:
        heading = _HEADING.match(line)
        if heading and len(heading.group(1)) == 1 and "title" not in meta:
            meta["title"] = heading.group(2)
        elif heading and len(heading.group(1)) >= 2:
            level = len(heading.group(1))
            path = {lvl: head for lvl, head in path.items() if lvl < level} | {level: heading.group(2)}
            sections.append((" > ".join(path[lvl] for lvl in sorted(path)), []))
        elif not heading:
            sections[-1][1].append(line)
    meta.setdefault("title", Path(name).stem.replace("_", " ").replace("-", " "))
    body = [(head, flatten_lines(lines)) for head, lines in sections]
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

    Returns ``(docs, sections)`` like :func:`load_handbook`; ``~`` is expanded. Files without front
    matter get audience ``all`` and status ``current``. Raises ``FileNotFoundError`` for a missing
    folder, ``NotADirectoryError`` for a file, and ``ValueError`` for a folder with no readable
    ``.md``/``.txt`` text, a file that cannot be read as UTF-8, or two files with the same name
    stem (``a.md`` and ``a.txt``: citations could not tell them apart); each message names the
    path or file.
    """
    folder = Path(path).expanduser()
    if not folder.exists():
        raise FileNotFoundError(f"DOCS_PATH={str(path)!r} does not exist; give a folder of .md or .txt files")
    if not folder.is_dir():
        raise NotADirectoryError(f"DOCS_PATH={str(path)!r} is a file, not a folder of .md or .txt files")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in {".md", ".txt"})
    if not paths:
        raise ValueError(f"DOCS_PATH={str(path)!r} holds no .md or .txt files; nothing to index")
    stems: dict[str, str] = {}
    for file in paths:
        if file.stem in stems:
            raise ValueError(f"DOCS_PATH={str(path)!r}: {stems[file.stem]!r} and {file.name!r} share the name "
                             f"{file.stem!r}; rename one so that citations can tell them apart")
        stems[file.stem] = file.name
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


# ====================================================================== the retrieval pipeline
# Shared by the notebook, its tests and its benchmark. Kept small: BM25, a dense retriever
# trained on question-passage pairs, per-role indexes, weighted rank fusion, candidate features.

STOPWORDS = frozenset("""a an and are as at be by can do does for from how i if in is it its me my of on or
our per should the their them this to up we what when where which who will with you your much many long""".split())
#: Dyadic grid of the dense vectors: products and sums of grid values are exact in float64, so a
#: dense top-k cannot depend on the BLAS kernel's summation order.
DYADIC = 2.0 ** -10


def tokenize(text: str) -> list[str]:
    """Lower-case words and codes (SR-7, 08:00, 5,000); drop stop words; strip a plural 's'."""
    tokens = re.findall(r"[a-z0-9]+(?:[-.,:][a-z0-9]+)*", text.lower())
    return [t[:-1] if len(t) > 4 and t.endswith("s") and not t.endswith("ss") else t
            for t in tokens if t not in STOPWORDS]


class BM25:
    """Okapi BM25 over a sparse term-by-chunk matrix: ``score(query)`` is one sparse row sum."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b

    def fit(self, texts: list[str] | pd.Series) -> BM25:
        from sklearn.feature_extraction.text import CountVectorizer

        self.vectorizer = CountVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None)
        tf = self.vectorizer.fit_transform(list(texts)).tocoo()
        n_chunks, length = tf.shape[0], np.bincount(tf.row, tf.data, minlength=tf.shape[0])
        df = np.bincount(tf.col, minlength=tf.shape[1])
        self.idf = np.log(1 + (n_chunks - df + 0.5) / (df + 0.5))
        norm = tf.data + self.k1 * (1 - self.b + self.b * length[tf.row] / max(length.mean(), 1e-9))
        weight = tf.data * (self.k1 + 1) / norm * self.idf[tf.col]
        self.weights = sp.csr_matrix((weight, (tf.col, tf.row)), shape=tf.shape[::-1])  # term x chunk
        return self

    def score(self, query: str) -> np.ndarray:
        vocab = self.vectorizer.vocabulary_
        ids = sorted(vocab[t] for t in set(tokenize(query)) if t in vocab)
        return np.asarray(self.weights[ids].sum(axis=0)).ravel() if ids else np.zeros(self.weights.shape[1])


class DenseRetriever:
    """A dense retriever *trained* on question-passage pairs: a learned linear projection.

    Each passage's text is expanded with the training questions whose gold it is (their wording is
    the supervision), word TF-IDF of the expanded passages is factorised by truncated SVD, and
    questions and passages are projected into the same ``dim``-dimensional space (a linear
    two-tower model with shared weights). Words that questions use for a passage ("holiday") and
    words the passage uses ("annual leave") land close, and the association carries over to
    passages of facts never seen in training. With no pairs it is plain LSA, the untrained baseline.
    Vectors are unit length and rounded to the :data:`DYADIC` grid.
    """

    def __init__(self, dim: int = 64, seed: int = 0) -> None:
        self.dim, self.seed = check_int("dim", dim, 2, 512), check_seed(seed)

    def fit(self, passages: list[str], questions: list[str] = (), gold: list[int] = ()) -> DenseRetriever:
        from sklearn.feature_extraction.text import TfidfVectorizer

        expanded = list(passages)
        for question, row in zip(questions, gold, strict=True):
            expanded[row] += " " + question
        self.tfidf = TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None, sublinear_tf=True,
                                     ngram_range=(1, 1))
        matrix = self.tfidf.fit_transform(expanded).toarray()
        _, _, vt = np.linalg.svd(matrix, full_matrices=False)  # small corpus: exact LAPACK SVD
        vt = vt[: max(1, min(self.dim, len(vt)))]
        self.components = vt * np.where(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)] < 0, -1.0, 1.0)[:, None]
        return self

    def encode(self, texts: list[str] | pd.Series) -> np.ndarray:
        out = np.asarray(self.tfidf.transform(list(texts)) @ self.components.T)
        out = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return np.round(out / DYADIC) * DYADIC


class PretrainedRetriever:
    """Vectors of a pretrained sentence encoder, all-MiniLM-L6-v2 (:mod:`utils.minilm`): nothing is
    fitted on our data, so ``fit`` ignores its arguments and no held-out passage can leak.

    The encoder runs in float64 and its unit vectors are rounded to the :data:`DYADIC` grid, so the
    dot products feeding a top-k are exact (and the forward pass's summation order moves a vector
    by ~1e-15, far below the grid). Vectors are memoised per text for the process (in memory only).
    """

    _memo: ClassVar[dict[str, np.ndarray]] = {}

    def __init__(self) -> None:
        from utils import minilm

        self.model = minilm.load(np.float64)  # FileNotFoundError when the wheel is not installed

    def fit(self, passages: list[str] = (), questions: list[str] = (), gold: list[int] = ()) -> PretrainedRetriever:
        return self

    def encode(self, texts: list[str] | pd.Series) -> np.ndarray:
        texts = list(texts)
        new = [t for t in dict.fromkeys(texts) if t not in self._memo]
        for text, vector in zip(new, self.model.encode(new) if new else [], strict=True):
            self._memo[text] = np.round(vector / DYADIC) * DYADIC
        return np.array([self._memo[t] for t in texts]) if texts else np.zeros((0, self.model.w["LayerNorm.weight"].size))


#: The vector retrievers an :class:`Assistant` can use.
VECTOR_MODELS = ("minilm", "trained", "lsa")


def rank_of(scores: np.ndarray) -> np.ndarray:
    """1-based rank of every entry of a score vector (ties broken by position)."""
    ranks = np.empty(len(scores))
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return ranks


def fuse(bm25: np.ndarray, dense: np.ndarray, weight: float = 0.5, k: int = 60) -> np.ndarray:
    """Weighted reciprocal-rank fusion: ``weight / (k + rank_bm25) + (1 - weight) / (k + rank_dense)``."""
    return weight / (k + rank_of(bm25)) + (1 - weight) / (k + rank_of(dense))


FEATURES = ["bm25", "bm25_vs_best", "dense_cosine", "dense_rank", "fused_rank", "word_coverage",
            "heading_coverage", "newer_version_exists", "age_years", "length_words"]


#: Two documents are versions of one policy when they share at least this share of their section
#: headings (Jaccard); fixed a priori at "half", not tuned.
VERSION_HEADING_OVERLAP = 0.5


def newer_version_exists(chunks: pd.DataFrame, overlap: float = VERSION_HEADING_OVERLAP) -> np.ndarray:
    """1.0 for each chunk whose document has a later-dated document (among ``chunks``) sharing at least
    ``overlap`` of its section headings (Jaccard of the heading sets), else 0.0. Titles are not used."""
    check_float("overlap", overlap, 0.0, 1.0)
    heads = chunks.groupby("doc_id", sort=False)["section"].agg(lambda s: frozenset(h.lower() for h in s)).to_dict()
    dates = chunks.groupby("doc_id", sort=False)["last_updated"].first().to_dict()
    old = {a for a in heads for b in heads
           if a != b and pd.notna(dates[a]) and pd.notna(dates[b]) and dates[b] > dates[a]
           and len(heads[a] & heads[b]) >= overlap * len(heads[a] | heads[b])}
    return chunks["doc_id"].isin(old).to_numpy(float)


class Index:
    """The chunks one role may read, with BM25, dense vectors and per-chunk metadata.

    Built from the readable chunks only, so no score, rank, idf or feature can see a document the
    role may not read. No ``status``/``superseded`` flag and no title is used:
    ``newer_version_exists`` comes from content and dates (:func:`newer_version_exists`).
    """

    def __init__(self, chunks: pd.DataFrame, dense: DenseRetriever | PretrainedRetriever) -> None:
        self.chunks = chunks.reset_index(drop=True)
        if self.chunks.empty:
            raise ValueError("Index: no chunks to index (is every document restricted for this role?)")
        self.key = (self.chunks["doc_id"] + " § " + self.chunks["section"]).to_numpy()
        self.bm25 = BM25().fit(self.chunks["text"])
        self.dense = dense
        self.vectors = dense.encode(self.chunks["text"])
        self.words = [set(tokenize(t)) for t in self.chunks["text"]]
        self.heading_words = [set(tokenize(f"{t} {s}")) for t, s in
                              zip(self.chunks["title"], self.chunks["section"], strict=True)]
        dates = pd.to_datetime(self.chunks["last_updated"])
        self.meta = np.column_stack([newer_version_exists(self.chunks),
                                     np.nan_to_num((dates.max() - dates).dt.days.to_numpy(float) / 365),
                                     self.chunks["text"].str.split().str.len().to_numpy(float)])

    def scores(self, question: str) -> tuple[np.ndarray, np.ndarray]:
        """BM25 and dense cosine of every chunk (dense: exact products of dyadic vectors)."""
        return self.bm25.score(question), self.vectors @ self.dense.encode([question])[0]

    def candidates(self, question: str, k: int = 20, weight: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
        """The top-``k`` chunks by weighted fusion, and one feature row (:data:`FEATURES`) each."""
        bm25, dense = self.scores(question)
        top = np.argsort(-fuse(bm25, dense, weight), kind="stable")[:k]
        words = set(tokenize(question))
        cover = [len(words & self.words[i]) / max(len(words), 1) for i in top]
        head = [len(words & self.heading_words[i]) / max(len(words), 1) for i in top]
        features = np.column_stack([bm25[top], bm25[top] / (bm25.max() + 1e-9), dense[top], rank_of(dense)[top],
                                    np.arange(1, len(top) + 1), cover, head, self.meta[top]])
        return top, features


def readable(chunks: pd.DataFrame, role: str) -> pd.DataFrame:
    """The chunks a role may read (``ROLES``); an unknown role raises a ValueError naming the roles."""
    if role not in ROLES:
        raise ValueError(f"role={role!r} is not one of {sorted(ROLES)}")
    return chunks[chunks["audience"].isin(ROLES[role])].reset_index(drop=True)


# ====================================================================== documents as data: injection
#: Instruction-like text aimed at an assistant, in English, French, German, Spanish and Portuguese.
INJECTION_RULES: dict[str, re.Pattern[str]] = {
    "override": re.compile(
        r"\b(ignore|disregard|forget|override|bypass|set aside)\b[^.;]{0,40}?\b(instructions?|guidance|rules|prompts?|"
        r"directions|(?:the )?(?:above|previous|prior|earlier)(?: text| context| messages?)?)\b", re.I),
    "override (fr/de/es/pt)": re.compile(
        r"\b(ignore[zr]?|oublie[zr]?|ignoriere[n]?|vergiss|vergessen sie|ignora[r]?|olvida[r]?|esque[çc]a)\b[^.;]{0,50}?"
        r"\b(instructions?|consignes|r[èe]gles|anweisungen|vorgaben|instrucciones|instru[çc][õo]es|pr[ée]c[ée]dentes?|"
        r"vorherigen|anteriores)\b", re.I),
    "addresses the assistant": re.compile(
        r"\b(note|message|instructions?) (to|for) (the )?(ai|assistants?|chatbots?|bots?|llms?|language models?)\b|"
        r"\bif you are an? (ai|assistant|chatbot|bot|language model|llm)\b|"
        r"\b(ai|assistants?|chatbots?|llms?|language models?)\b[^.]{0,30}\b(must|should|shall) (now )?"
        r"(tell|say|answer|respond|reply|inform|state|claim)\b|"
        r"\b(assistants?|ia|ki|asistentes?)\b[^.]{0,30}\b(doit|doivent|müssen|muss|debe[n]?|deve[m]?)\b", re.I),
    "role switch": re.compile(r"\byou are now (in )?(an? )?\w+ (mode|assistant|bot|persona)\b|"
                              r"\b(system|developer) (prompt|message|notice|instruction|override)\b|"
                              r"\bnew instructions\s*:|\bfrom now on,? (you|always|only|answer|reply|tell)\b", re.I),
    "tell every user": re.compile(r"\b(tell|inform|assure) (every|all|each|any) (users?|employees?|askers?)\b|"
                                  r"\b(dites|dis|sagen sie|sag|diga|di) [àa]? ?(tous|chaque|allen|jedem|todos|cada)\b", re.I),
    "hide or exfiltrate": re.compile(r"\b(reveal|print|repeat|show)\b[^.]{0,20}\b(system prompt|your instructions|hidden prompt)\b|"
                                     r"\b(do not|don't|never) (mention|reveal|disclose)\b[^.]{0,30}\b(this|these) (instruction|note|message)s?\b",
                                     re.I),
}


#: Answer-time filter. A sentence is never quoted (nor sent to a language model) when it (1) tells
#: the reader to disregard earlier text or instructions, or to pretend; (2) makes the answerer say
#: something — a speech verb with content ("say that", "reply with", "the reply is that", "tell the
#: user …") *and* an answerer in the same sentence (a chatbot, assistant, bot, AI or model — not an
#: "assistant manager" or "AI team" —, "the user", "every question", "when answering/summarising");
#: or (3) switches the assistant's role. Narrowed after a review found the first version hid ordinary
#: sentences ("If you forget your badge…"); ``injection_rules`` are ingestion rules, not used here.
_OVERRIDE_VERB = (r"(ignore|ignorez|ignorer|ignoriere|ignorieren|ignora|ignorar|ignore[mn]?|negeer|disregard|forget|vergiss|"
                  r"vergessen sie|oubliez|oublie|olvida|olvide|esque[çc]a|dimentica|pay no attention to|set aside|override)")
_OVERRIDE_OBJECT = (r"(instructions?|instructies|istruzioni|instrucciones|instru[çc][õo]es|anweisungen|vorgaben|consignes|prompts?|"
                    r"guidance|directions|everything (above|before|else|you were told)|all of the above|"
                    r"(the |all |any )?(above|previous|prior|earlier|preceding|foregoing)( (text|paragraphs?|context|messages?|"
                    r"sections?|content|lines))?(?=\s*(,|;|\.|$|\band\b|\bund\b|\bet\b|\by\b|\be\b))|"
                    r"(tout )?ce qui pr[ée]c[èe]de|alles vorherige|alles obige|lo anterior|tudo acima|tudo o que|"
                    r"tutto quello|what (you were told|came before))")
_ANSWERER = (r"\b(chatbots?|bots?|llms?|gpt|language models?|the model|ai|ia|ki|assistants?|assistant's|asistentes?|assistente)\b"
             r"(?!\s+(managers?|team|teams|director|directors|engineers?|researchers?|guide|portal))|"
             r"\bwhen (you )?(summari[sz]e|summari[sz]ing|answer|answering|asked|reply|replying|respond|responding)\b|"
             r"\bbefore (answering|replying|responding)\b|\b(any|every|each|all) (questions?|users?|askers?|answers?|replies)\b|"
             r"\bthe (users?|askers?)\b(?!'s|\s+(guide|desk|manual|account|group|interface))|\byour (new )?task\b")
_SPEECH = (r"\b(say|says|said|reply|replies|respond|responds|answer|answers|state|states|announce|claim|tell|inform|assure|add)\b"
           r"[^.;]{0,40}?\b(that|with|to (every|any|all|each))\b|\b(tell|inform|assure|remind) (the|every|all|each|any) (users?|askers?)\b(?!'s)|"
           r"\b(r[ée]pond\w*|dire|dites|annonce[zr]?|sag\w*|antwort\w*|respond\w*|responda|di|diga|rispond\w*|zeg)\b[^.;]{0,10}?"
           r"\b(que|dass|che|dat)\b|\bthe (reply|answer|response|correct (answer|response|reply))\b[^.;]{0,40}?\b(is|should be|must be)\b")
ADDRESSED_INSTRUCTION = re.compile(rf"\b{_OVERRIDE_VERB}\b[^.;:]{{0,30}}?\b{_OVERRIDE_OBJECT}|\bpretend\b|"
                                   r"\byou are now (in )?(an? )?((?-i:[A-Z]{2,})|\w+ (mode|assistant|bot|persona))\b|\bno restrictions\b|"
                                   r"\b(system|developer) (prompt|override|instructions?)\b|\b(system|developer) (message|notice)\s*(:|overrid\w*)|"
                                   r"^\s*system\s*:", re.I)
_ANSWERER_RE, _SPEECH_RE = re.compile(_ANSWERER, re.I), re.compile(_SPEECH, re.I)
_SPACED = re.compile(r"(?<=\b\w) (?=\w\b)")


def addressed_instruction(sentence: str) -> bool:
    """True when a sentence must never be surfaced as an answer or sent to a model: an override ("ignore
    the above"), a role switch, or a speech verb with content aimed at the answerer (see the comment on
    :data:`ADDRESSED_INSTRUCTION`). Spaced-out letters ("i g n o r e") are joined first."""
    text = _SPACED.sub("", sentence)
    if ADDRESSED_INSTRUCTION.search(text) or ("忽略" in text and ("指令" in text or "之前" in text)):
        return True
    return bool(_SPEECH_RE.search(text) and _ANSWERER_RE.search(text))


def quotable(text: str) -> str:
    """A passage with every :func:`addressed_instruction` sentence removed ("" when none is left)."""
    return " ".join(s for s in SENTENCE_END.split(text) if s and not addressed_instruction(s))


def injection_rules(text: str) -> list[str]:
    """Names of the :data:`INJECTION_RULES` a text matches (empty: looks like ordinary content)."""
    return [name for name, rule in INJECTION_RULES.items() if rule.search(text)]


def flag_injections(chunks: pd.DataFrame) -> np.ndarray:
    """Boolean mask of chunks to quarantine: a chunk matches a rule on its own, or two adjacent chunks
    of one document match a rule only when joined (an instruction split across two sections)."""
    text, doc = chunks["text"].to_numpy(), chunks["doc_id"].to_numpy()
    flags = np.array([bool(injection_rules(t)) for t in text], dtype=bool)
    for i in range(len(text) - 1):
        if doc[i] == doc[i + 1]:
            tail, head = text[i][-200:], text[i + 1].split(". ", 1)[-1][:200]
            if set(injection_rules(tail + " " + head)) - set(injection_rules(tail)) - set(injection_rules(head)):
                flags[i] = flags[i + 1] = True  # a rule that matches only across the boundary
    return flags


# ====================================================================== training and answering
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
NUMERIC_QUESTION = re.compile(r"^(how (many|much|long|often|soon|fast|far|quickly|early|late)|when|within|by (what|when)|"
                              r"after|what time|what (percentage|share|rate|amount|is the (limit|maximum|minimum|rate|cap)))", re.I)
RERANKER_PARAMS = dict(objective="lambdarank", n_estimators=100, learning_rate=0.05, num_leaves=3, min_child_samples=10,
                       deterministic=True, force_row_wise=True, num_threads=2, verbose=-1)
WEIGHT_GRID = (0.5, 0.25, 0.75, 0.0, 1.0)  # fusion weight on BM25; ties go to the earlier (0.5 first)


def gold_key(frame: pd.DataFrame) -> np.ndarray:
    """``"doc_id § section"`` of each question's gold chunk."""
    return (frame["gold_doc"] + " § " + frame["gold_section"]).to_numpy()


NO_QUOTE = "(no quotable sentence)"  # every sentence of the chunk was filtered: the assistant abstains


def best_sentence(question: str, chunk_text: str, index: Index) -> str:
    """The sentence (or table row) of a chunk that answers the question: rare question words it
    shares, weighted by idf, plus a bonus when a how-many/when question meets a number. Instruction-
    like sentences are never surfaced (documents are data); when one of them matches the question
    better than every quotable sentence, or none is left, the answer is :data:`NO_QUOTE` and the
    assistant abstains (the chunk's answer to *this* question is an instruction, not content)."""
    body = chunk_text.split(". ", 1)[-1]
    sentences = [s for s in SENTENCE_END.split(body) if s]
    blocked = np.array([addressed_instruction(s) for s in sentences], dtype=bool)
    if not len(sentences) or blocked.all():
        return NO_QUOTE
    vocab, idf = index.bm25.vectorizer.vocabulary_, index.bm25.idf
    words, wants_number = set(tokenize(question)), bool(NUMERIC_QUESTION.match(question))
    scores = np.array([sum(idf[vocab[w]] for w in words & set(tokenize(s)) if w in vocab)
                       + (1.0 if wants_number and re.search(r"\d", s) else 0.0) for s in sentences])
    if blocked.any() and scores[blocked].max() > scores[~blocked].max():
        return NO_QUOTE
    kept = np.flatnonzero(~blocked)
    return sentences[int(kept[np.argmax(scores[kept])])]


class Assistant:
    """Retrieval, re-ranking, extraction and abstaining, trained on content everyone may read.

    The dense retriever, the fusion weight, the re-ranker and the confidence model are fitted on the
    ``audience: all`` chunks and the training questions whose gold is one of them; restricted
    documents enter only the per-role indexes. So nothing an unauthorised user sees depends on a
    restricted document (tested in ``tests/test_rag.py``).
    """

    def __init__(self, chunks: pd.DataFrame, dim: int = 64, top_k: int = 20, seed: int = 0,
                 dense_signals: bool = True, vectors: str = "trained") -> None:
        if vectors not in VECTOR_MODELS:
            raise ValueError(f"Assistant: vectors must be one of {VECTOR_MODELS}; got {vectors!r}")
        self.vectors = vectors  # "minilm": pretrained; "trained": on our pairs; "lsa": untrained
        self.chunks, self.dim, self.top_k, self.seed = chunks.reset_index(drop=True), dim, check_int("top_k", top_k, 2, 500), seed
        self.public = readable(self.chunks, "employee")
        self.weight = 0.5
        self.dense_signals = bool(dense_signals)  # False: the baseline re-ranker on BM25 candidates only

    def _candidates(self, index: Index, question: str) -> tuple[np.ndarray, np.ndarray]:
        """``index.candidates``; without dense signals the dense cosine and rank features are zeroed."""
        top, features = index.candidates(question, self.top_k, self.weight)
        if not self.dense_signals:
            features[:, 2:4] = 0.0
        return top, features

    # -- training -------------------------------------------------------------------------------
    def _dense(self, frame: pd.DataFrame) -> DenseRetriever | PretrainedRetriever:
        if self.vectors == "minilm":
            return PretrainedRetriever()
        if self.vectors == "lsa":
            return DenseRetriever(self.dim, self.seed).fit(self.public["text"].tolist())
        key = (self.public["doc_id"] + " § " + self.public["section"]).tolist()
        row = {k: i for i, k in enumerate(key)}
        pairs = [(q, row[g]) for q, g, a in zip(frame["question"], gold_key(frame), frame["answerable"], strict=True)
                 if a and g in row]
        return DenseRetriever(self.dim, self.seed).fit(self.public["text"].tolist(), [q for q, _ in pairs],
                                                       [r for _, r in pairs])

    def _usable(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Training questions whose gold chunk everyone may read (plus unanswerable ones)."""
        public_keys = set(self.public["doc_id"] + " § " + self.public["section"])
        keep = ~frame["answerable"].to_numpy() | np.isin(gold_key(frame), list(public_keys))
        return frame[keep].reset_index(drop=True)

    def fit(self, frame: pd.DataFrame, folds: int = 3) -> Assistant:
        """Fit on the training questions ``frame``: the fusion weight (tuned on validation fact
        folds), the re-ranker and the confidence model on *out-of-fold* candidates (each fold's
        candidates come from a dense retriever trained without that fold's facts, so the re-ranker
        never sees a dense score inflated by its own question), then the final dense retriever on
        all of ``frame`` and one index per role."""
        import lightgbm as lgb
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        frame = self._usable(frame)
        facts = np.random.default_rng(self.seed).permutation(sorted(frame["fact_id"].unique()))
        fold = frame["fact_id"].map({f: i % folds for i, f in enumerate(facts)}).to_numpy()
        fold_index = [Index(self.public, self._dense(frame[fold != f])) for f in range(folds)]
        mrr: dict[float, list[float]] = {w: [] for w in WEIGHT_GRID}
        for row in np.flatnonzero(frame["answerable"].to_numpy()):
            index, gold = fold_index[fold[row]], gold_key(frame.iloc[[row]])[0]
            bm25, dense = index.scores(frame["question"].iat[row])
            for w in WEIGHT_GRID:
                rank = np.flatnonzero(index.key[np.argsort(-fuse(bm25, dense, w), kind="stable")] == gold)
                mrr[w].append(1 / (rank[0] + 1) if len(rank) else 0.0)
        self.weight_table = {w: float(np.mean(v)) if v else 0.0 for w, v in mrr.items()}
        self.weight = max(WEIGHT_GRID, key=lambda w: round(self.weight_table[w], 9)) if self.dense_signals else 1.0
        rows = np.flatnonzero(frame["answerable"].to_numpy())
        sets = [self._candidates(fold_index[fold[r]], frame["question"].iat[r]) for r in rows]
        labels = [(fold_index[fold[r]].key[top] == gold_key(frame.iloc[[r]])[0]).astype(int)
                  for r, (top, _) in zip(rows, sets, strict=True)]
        self.reranker = lgb.LGBMRanker(**RERANKER_PARAMS | {"seed": self.seed}).fit(
            np.vstack([f for _, f in sets]), np.concatenate(labels), group=[len(t) for t, _ in sets])
        runs = [self.respond(q, "employee", fold_index[f]) for q, f in zip(frame["question"], fold, strict=True)]
        quoted = [ref.lower() in r["answer"].lower() for ref, r in zip(frame["reference_answer"], runs, strict=True)]
        correct = frame["answerable"].to_numpy() & (np.array([r["citation"] for r in runs]) == gold_key(frame)) & quoted
        self.confidence = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)).fit(
            np.array([r["confidence_features"] for r in runs]), correct)
        self.dense = self._dense(frame)
        self.indexes = {role: Index(readable(self.chunks, role), self.dense) for role in ROLES}
        return self

    # -- answering ------------------------------------------------------------------------------
    def respond(self, question: str, role: str, index: Index | None = None) -> dict:
        """Answer one question for one role: ranked keys, the answer sentence, its citation, the
        confidence features and (once fitted) P(correct)."""
        index = self.indexes[role] if index is None else index
        top, features = self._candidates(index, question)
        scores = self.reranker.predict(features, num_threads=1)
        order = np.argsort(-scores, kind="stable")
        best, score = top[order[0]], scores[order[: 2]]
        vocab, idf = index.bm25.vectorizer.vocabulary_, index.bm25.idf
        words = set(tokenize(question))
        weight = {w: idf[vocab[w]] if w in vocab else idf.max() for w in words}
        covered = sum(weight[w] for w in words & index.words[best]) / max(sum(weight.values()), 1e-9)
        conf = [score[0], score[0] - score[-1], features[order[0], 1], features[order[0], 2], features[order[0], 5],
                features[:, 0].max(), features[:, 2].max(), covered]
        out = {"answer": best_sentence(question, index.chunks["text"].iat[best], index), "citation": index.key[best],
               "cited_text": index.chunks["text"].iat[best], "ranked": index.key[top[order]], "confidence_features": conf}
        if hasattr(self, "confidence"):  # nothing quotable left after the filter: abstain (P = 0), never serve it
            out["p_correct"] = 0.0 if out["answer"] == NO_QUOTE else float(self.confidence.predict_proba([conf])[0, 1])
        return out

    def answer_all(self, frame: pd.DataFrame, roles: list[str] | None = None) -> pd.DataFrame:
        """Answer every question of a frame (as its asker, or as ``roles``); mark correctness: the
        gold chunk cited and the reference answer quoted."""
        roles = list(frame["asker_role"]) if roles is None else roles
        out = pd.DataFrame([self.respond(q, r) for q, r in zip(frame["question"], roles, strict=True)])
        quoted = [ref.lower() in ans.lower() for ref, ans in zip(frame["reference_answer"], out["answer"], strict=True)]
        out["correct"] = frame["answerable"].to_numpy() & (out["citation"].to_numpy() == gold_key(frame)) & np.array(quoted)
        for column in ("answerable", "type", "question"):
            out[column] = frame[column].to_numpy()
        return out


def first_stage(index: Index, question: str, weight: float, k: int = 20) -> dict[str, np.ndarray]:
    """The top-``k`` keys of BM25, the dense retriever and their weighted fusion, for one index."""
    bm25, dense = index.scores(question)
    return {name: index.key[np.argsort(-s, kind="stable")[:k]]
            for name, s in [("BM25", bm25), ("vectors", dense), ("hybrid", fuse(bm25, dense, weight))]}


def retrieval_metrics(ranked_lists: list[np.ndarray], gold: np.ndarray, k: int = 5) -> dict[str, float]:
    """recall@k and MRR (over the lists given, 0 when the gold key is absent)."""
    hit_at = [np.flatnonzero(keys == g) for keys, g in zip(ranked_lists, gold, strict=True)]
    return {"recall@5" if k == 5 else f"recall@{k}": float(np.mean([len(h) > 0 and h[0] < k for h in hit_at])),
            "MRR": float(np.mean([1 / (h[0] + 1) if len(h) else 0.0 for h in hit_at]))}


# ====================================================================== realistic traffic
#: Word swaps a user might make (same fact, other words); applied each with probability ``swap``.
SYNONYMS: dict[str, str] = {
    "get": "receive", "receive": "get", "employee": "staff member", "employees": "staff", "holiday": "vacation",
    "vacation": "holiday", "annual leave": "yearly leave", "allowed": "permitted", "need to": "have to",
    "company": "firm", "laptop": "work computer", "submit": "send in", "maximum": "most",
    "reimbursed": "paid back", "money": "cash", "days": "working days", "quickly": "fast", "big": "large",
    "large": "big", "customers": "clients", "customer": "client", "price": "cost", "pay": "pay out",
    "request": "ask for", "time off": "leave", "manager": "boss", "phone": "mobile", "app": "application",
    "start": "begin", "spend": "use", "per day": "a day", "per year": "a year",
    "per month": "a month", "per week": "a week", "cost": "price", "happen": "take place", "take place": "happen",
    "stay": "remain", "covers": "pays for", "needed": "required", "required": "needed", "reach": "contact",
    "food": "meals", "appraisal": "performance review", "stipend": "allowance", "can I": "am I able to", "limit": "cap", "rules": "policy",
}
#: Other question forms: (pattern at the start, replacement).
QUESTION_FORMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^What is ", re.I), "Tell me "), (re.compile(r"^What are ", re.I), "Could you list "),
    (re.compile(r"^How many ", re.I), "What number of "), (re.compile(r"^How much does ", re.I), "What does "),
    (re.compile(r"^How much is ", re.I), "What is "),
    (re.compile(r"^How long ", re.I), "For how long "), (re.compile(r"^Can I ", re.I), "Am I allowed to "),
    (re.compile(r"^Do I ", re.I), "Should I "), (re.compile(r"^How do I ", re.I), "What is the way to "),
    (re.compile(r"^When ", re.I), "At what point "), (re.compile(r"^Is there ", re.I), "Do we have "),
    (re.compile(r"^Which ", re.I), "What "), (re.compile(r"^Who ", re.I), "Which person "),
]


def _typo(word: str, rng: np.random.Generator) -> str:
    """One keyboard slip in a word: two neighbouring letters swapped, one dropped, or one doubled."""
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(3))
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i + 1:] if kind == 1 else word[:i] + word[i] + word[i:]


def paraphrase(question: str, rng: np.random.Generator, swap: float = 0.5, typo_rate: float = 0.015) -> str:
    """A new wording of ``question`` with the same fact, by four seeded stages.

    1. question form: a matching :data:`QUESTION_FORMS` opening is replaced with probability ``swap``;
    2. reordering: ``"A, B?"`` (or ``"A; B?"``) becomes ``"B, A?"`` with probability ``swap``, and a
       trailing ``"... for X?"`` / ``"... in X?"`` (X up to 4 words) moves to the front (``"For X, ...?"``) likewise;
    3. synonyms: each :data:`SYNONYMS` match is swapped with probability ``swap``;
    4. typos: each word of 4+ letters gets one slip (:func:`_typo`) with probability ``typo_rate``.
    """
    check_float("swap", swap, 0.0, 1.0)
    check_float("typo_rate", typo_rate, 0.0, 1.0)
    text = question.strip().rstrip("?").strip()
    for pattern, replacement in QUESTION_FORMS:
        if pattern.search(text):
            if rng.random() < swap:
                text = pattern.sub(replacement, text, count=1)
            break
    parts = re.split(r"\s*[,;]\s*", text, maxsplit=1)
    tail = re.search(r"\s+((?:for|in) (?:[\w'-]+ ?){1,4})$", text)
    if len(parts) == 2 and parts[1] and rng.random() < swap:
        text = f"{parts[1][0].upper()}{parts[1][1:]}, {parts[0][0].lower()}{parts[0][1:]}"
    elif tail and tail.start() > 0 and rng.random() < swap:
        head = text[:tail.start()]
        text = f"{tail.group(1)[0].upper()}{tail.group(1)[1:]}, {head[0].lower()}{head[1:]}"
    for word, other in SYNONYMS.items():
        if re.search(rf"\b{re.escape(word)}\b", text) and rng.random() < swap:  # lower case only: names stay
            text = re.sub(rf"\b{re.escape(word)}\b", other, text, count=1)
    words = [_typo(w, rng) if len(w) >= 4 and w.isalpha() and rng.random() < typo_rate else w for w in text.split()]
    return " ".join(words) + "?"


def new_wordings(questions: pd.DataFrame, rows: np.ndarray, key: Callable[[str], str] = str.lower, seed: int = 0,
                 typo_rate: float = 0.015, tries: int = 20) -> list[str]:
    """A fresh wording for each eval row in ``rows`` (a traffic stream): :func:`paraphrase` of a random
    eval wording of the row's fact, redrawn up to ``tries`` times until ``key(text)`` is no eval wording's
    key. The few questions no rule can change may stay an eval wording (count them with ``key``)."""
    check_seed(seed)
    check_int("tries", tries, 1, 1000)
    rng, eval_keys = np.random.default_rng(seed), set(questions["question"].map(key))
    by_fact, texts = questions.groupby("fact_id")["question"].apply(list), []
    for row in rows:
        wordings = by_fact[questions.at[row, "fact_id"]]
        for _ in range(tries):
            text = paraphrase(wordings[rng.integers(len(wordings))], rng, typo_rate=typo_rate)
            if key(text) not in eval_keys:
                break
        texts.append(text)
    return texts
