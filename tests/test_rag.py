"""Unit tests of the RAG world: the handbook corpus, its gold eval set, splits, chunking, BYOD loader."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from utils import rag


@pytest.fixture(scope="module")
def handbook() -> tuple[pd.DataFrame, pd.DataFrame]:
    return rag.load_handbook()


@pytest.fixture(scope="module")
def questions() -> pd.DataFrame:
    return rag.load_eval()


def test_corpus_shape_and_metadata(handbook: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    docs, sections = handbook
    assert 40 <= len(docs) <= 80
    assert list(docs.columns) == rag.DOC_COLUMNS and list(sections.columns) == rag.SECTION_COLUMNS
    assert docs["doc_id"].is_unique and docs["title"].str.len().gt(0).all()
    assert docs["last_updated"].notna().all()
    assert set(docs["audience"]) <= {"all", "engineering", "hr", "managers"}
    assert set(docs["status"]) == {"current", "superseded"}
    assert sections.groupby("doc_id").size().ge(1).all()
    assert not sections.duplicated(["doc_id", "section"]).any(), "section headings must be unique within a document"
    assert set(sections["doc_id"]) == set(docs["doc_id"])


def test_areas_are_covered(handbook: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    prefixes = handbook[0]["doc_id"].str.split("-").str[0].value_counts()
    for area in ["hr", "it", "travel", "expenses", "oncall", "eng", "product"]:
        assert prefixes.get(area, 0) >= 2, area


def test_superseded_pairs_point_to_current_documents(handbook: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    docs = handbook[0].set_index("doc_id")
    old = docs[docs["status"] == "superseded"]
    assert len(old) >= 5
    for doc_id, row in old.iterrows():
        new = docs.loc[row["superseded_by"]]
        assert new["status"] == "current", doc_id
        assert new["last_updated"] > row["last_updated"], doc_id


def test_superseded_pairs_disagree(handbook: tuple[pd.DataFrame, pd.DataFrame], questions: pd.DataFrame) -> None:
    """Every changed-policy question's reference answer is absent from the outdated version."""
    docs, sections = handbook
    text = sections.set_index(["doc_id", "section"])["text"]
    old_of = docs.set_index("superseded_by")["doc_id"].drop("", errors="ignore")
    changed = questions[questions["type"] == "changed_policy"]
    assert len(changed) >= 10
    for doc_id, section, ref in zip(changed["gold_doc"], changed["gold_section"], changed["reference_answer"], strict=True):
        old_doc = old_of[doc_id]
        old_text = " ".join(text.loc[old_doc]) if old_doc in text.index.get_level_values(0) else ""
        assert ref.lower() not in old_text.lower(), (doc_id, section, ref)


def test_restricted_and_injection_documents_exist(handbook: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    docs, sections = handbook
    assert (docs["audience"] == "hr").sum() >= 1 and (docs["audience"] != "all").sum() >= 3
    injected = sections["text"].str.contains("ignore all previous instructions", case=False)
    assert injected.sum() == 1
    assert sections.loc[injected, "doc_id"].item() == "product-partner-notes"


def test_eval_set_columns_and_rates(questions: pd.DataFrame) -> None:
    assert len(questions) >= 150
    assert questions["question_id"].is_unique
    assert set(questions["type"]) == set(rag.QUESTION_TYPES)
    assert set(questions["asker_role"]) <= set(rag.ROLES)
    assert 0.10 <= (~questions["answerable"]).mean() <= 0.20
    assert questions["question"].str.strip().str.len().gt(10).all()


def test_every_gold_reference_exists(handbook: tuple[pd.DataFrame, pd.DataFrame], questions: pd.DataFrame) -> None:
    docs, sections = handbook
    text = sections.set_index(["doc_id", "section"])["text"]
    audience = docs.set_index("doc_id")["audience"]
    status = docs.set_index("doc_id")["status"]
    answerable = questions[questions["answerable"]]
    for row in answerable.itertuples():
        assert (row.gold_doc, row.gold_section) in text.index, row.question_id
        assert row.reference_answer, row.question_id
        assert row.reference_answer.lower() in text.loc[(row.gold_doc, row.gold_section)].lower(), row.question_id
        assert status[row.gold_doc] == "current", row.question_id
        assert audience[row.gold_doc] in rag.ROLES[row.asker_role], f"{row.question_id}: asker cannot read the gold doc"


def test_unanswerable_rows_are_truly_unanswerable(handbook: tuple[pd.DataFrame, pd.DataFrame], questions: pd.DataFrame) -> None:
    """Either no gold at all, or a gold section the asker's role may not read."""
    docs, sections = handbook
    keys = set(zip(sections["doc_id"], sections["section"], strict=True))
    audience = docs.set_index("doc_id")["audience"]
    for row in questions[~questions["answerable"]].itertuples():
        assert row.reference_answer == "", row.question_id
        if row.gold_doc:
            assert (row.gold_doc, row.gold_section) in keys, row.question_id
            assert audience[row.gold_doc] not in rag.ROLES[row.asker_role], row.question_id
        else:
            assert row.gold_section == "", row.question_id


def test_each_fact_has_one_gold_and_answer(questions: pd.DataFrame) -> None:
    answerable = questions[questions["answerable"]]
    per_fact = answerable.groupby("fact_id")[["gold_doc", "gold_section", "reference_answer"]].nunique()
    assert (per_fact == 1).all().all()
    assert answerable.groupby("fact_id").size().max() >= 2, "paraphrases share a fact id"


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_split_keeps_paraphrases_of_a_fact_together(questions: pd.DataFrame, seed: int) -> None:
    train, test = rag.split_questions(questions, test_share=0.4, seed=seed)
    assert len(train) + len(test) == len(questions)
    assert not set(train["fact_id"]) & set(test["fact_id"])
    assert abs(test["fact_id"].nunique() / questions["fact_id"].nunique() - 0.4) < 0.02
    assert test["answerable"].any() and (~test["answerable"]).any()


def test_split_is_deterministic_per_seed(questions: pd.DataFrame) -> None:
    first, second = rag.split_questions(questions, 0.4, 3), rag.split_questions(questions, 0.4, 3)
    pd.testing.assert_frame_equal(first[1], second[1])
    assert not first[1]["question_id"].equals(rag.split_questions(questions, 0.4, 4)[1]["question_id"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"test_share": 0.0}, r"test_share=0 is out of range"),
    ({"test_share": 1.5}, r"test_share=1.5 is out of range"),
    ({"test_share": "half"}, r"test_share must be a number"),
    ({"seed": -1}, r"seed=-1 is out of range"),
])
def test_split_rejects_bad_knobs(questions: pd.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rag.split_questions(questions, **kwargs)


def test_chunk_by_heading_carries_metadata(handbook: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    docs, sections = handbook
    chunks = rag.chunk_by_heading(docs, sections)
    assert len(chunks) == len(sections) and list(chunks.columns) == rag.CHUNK_COLUMNS
    assert chunks["chunk_id"].tolist() == list(range(len(chunks)))
    first = chunks.iloc[0]
    assert first["text"].startswith(f"{first['title']} — {first['section']}. ")
    assert chunks["audience"].notna().all() and chunks["last_updated"].notna().all()


@pytest.mark.parametrize(("size", "overlap"), [(20, 5), (40, 10), (80, 0)])
def test_fixed_windows_cover_every_word(handbook: tuple[pd.DataFrame, pd.DataFrame], size: int, overlap: int) -> None:
    docs, sections = handbook
    windows = rag.chunk_fixed_window(docs, sections, size=size, overlap=overlap)
    assert windows["text"].str.split().str.len().le(size).all()
    for doc_id, group in sections.groupby("doc_id"):
        words = " ".join(group["text"]).split()
        covered = " ".join(windows.loc[windows["doc_id"] == doc_id, "text"])
        assert words[0] in covered and words[-1] in covered.split()[-size:], doc_id


def test_fixed_windows_reject_bad_knobs(handbook: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    docs, sections = handbook
    with pytest.raises(ValueError, match=r"size=2 is out of range"):
        rag.chunk_fixed_window(docs, sections, size=2)
    with pytest.raises(ValueError, match=r"overlap=40 is out of range"):
        rag.chunk_fixed_window(docs, sections, size=40, overlap=40)


def test_parse_document_front_matter_and_sections() -> None:
    meta, parts = rag.parse_document("---\ntitle: T\naudience: hr\n---\n# Ignored\n\n## A\none\ntwo\n\n## B\n\nthree\n", "x.md")
    assert meta == {"title": "T", "audience": "hr"}
    assert parts == [("A", "one two"), ("B", "three")]
    meta, parts = rag.parse_document("Just a note.\nSecond line.", "my_notes.txt")
    assert meta["title"] == "my notes" and parts == [("(top)", "Just a note. Second line.")]


# ------------------------------------------------------------------ bring your own documents

def test_load_folder_reads_md_and_txt(tmp_path: Path) -> None:
    (tmp_path / "policy.md").write_text("# Policy\n\n## Leave\nYou get 30 days.\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("Parking is free on Fridays.", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")  # ignored: not .md/.txt
    docs, sections = rag.load_folder(tmp_path)
    assert docs["file"].tolist() == ["notes.txt", "policy.md"]
    assert docs["audience"].tolist() == ["all", "all"] and docs["status"].tolist() == ["current", "current"]
    assert sections[["doc_id", "section", "text"]].values.tolist() == [
        ["notes", "(top)", "Parking is free on Fridays."], ["policy", "Leave", "You get 30 days."]]
    chunks = rag.chunk_by_heading(docs, sections)
    assert chunks["text"].tolist()[1] == "Policy — Leave. You get 30 days."


def test_load_folder_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        rag.load_folder(tmp_path / "missing")
    file = tmp_path / "a.md"
    file.write_text("# A\n", encoding="utf-8")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        rag.load_folder(file)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.pdf").write_bytes(b"%PDF")
    with pytest.raises(ValueError, match=r"holds no \.md or \.txt files"):
        rag.load_folder(empty)
    blank = tmp_path / "blank"
    blank.mkdir()
    (blank / "x.md").write_text("\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="every .md/.txt file is empty"):
        rag.load_folder(blank)


def test_load_folder_names_an_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("fine", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ValueError, match=r"cannot read 'latin1.txt'.*UTF-8"):
        rag.load_folder(tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions (not root)")
def test_load_folder_permission_denied(tmp_path: Path) -> None:
    locked = tmp_path / "locked.md"
    locked.write_text("secret", encoding="utf-8")
    locked.chmod(0)
    try:
        with pytest.raises(ValueError, match=r"cannot read 'locked.md'"):
            rag.load_folder(tmp_path)
    finally:
        locked.chmod(0o644)


# ------------------------------------------------------------------ the notebook's BYOD path, end to end

@pytest.fixture(scope="module")
def notebook_ns() -> dict:
    """The notebook's namespace up to its trained re-ranker and confidence model (no figures, widgets)."""
    from tests.benchmarks.bench_rag import _notebook_namespace

    return _notebook_namespace()


def _run_byod_cell(ns: dict, docs_path: Path, asked: list[str]) -> pd.DataFrame:
    import nbformat

    from tests.benchmarks.bench_rag import NOTEBOOK

    cell = next(c for c in nbformat.read(NOTEBOOK, as_version=4).cells
                if c.cell_type == "code" and "def answer_folder" in c.source)
    ns.update(DOCS_PATH=str(docs_path), QUESTIONS=asked)
    exec(compile(cell.source, NOTEBOOK.name, "exec"), ns)  # noqa: S102 - our own notebook
    return ns["byod"]


def test_notebook_answers_a_byod_folder(notebook_ns: dict, tmp_path: Path) -> None:
    (tmp_path / "garden.md").write_text(
        "# Garden rules\n\n## Watering\nWater the tomatoes every morning before 09:00.\n\n"
        "## Compost\nKitchen scraps go in the green bin; no meat or dairy.\n", encoding="utf-8")
    (tmp_path / "bikes.txt").write_text("Bikes are parked in the basement. The code for the door is 4711.",
                                        encoding="utf-8")
    asked = ["When should the tomatoes be watered?", "What is the basement door code?", "Who won the match?"]
    table = _run_byod_cell(notebook_ns, tmp_path, asked)
    assert table["question"].tolist() == asked
    assert list(table.columns) == ["question", "answer", "file", "section", "P(correct)"]
    for row in table.itertuples():
        if row.answer.startswith("(abstain"):
            assert row.file == "" and row.section == ""
        else:
            assert row.file in {"garden.md", "bikes.txt"} and row.section
    assert table["P(correct)"].between(0, 1).all()


def test_notebook_byod_empty_folder_fails_clearly(notebook_ns: dict, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"holds no \.md or \.txt files"):
        _run_byod_cell(notebook_ns, tmp_path, ["anything?"])


def test_notebook_cross_fit_scores_every_question_once_out_of_fold(notebook_ns: dict) -> None:
    """The abstain bar is measured by cross-fitting: each question scored once, never with its fact in training."""
    import nbformat

    from tests.benchmarks.bench_rag import NOTEBOOK

    cell = next(c for c in nbformat.read(NOTEBOOK, as_version=4).cells
                if c.cell_type == "code" and "def cross_fit" in c.source)
    ns = dict(notebook_ns)
    exec(compile(cell.source, NOTEBOOK.name, "exec"), ns)  # noqa: S102 - our own notebook
    real, calls = ns["fit_and_score"], []

    def recording(fit_rows: np.ndarray, score_rows: np.ndarray, seed: int) -> pd.DataFrame:
        calls.append((fit_rows, score_rows))
        return real(fit_rows, score_rows, seed)

    ns["fit_and_score"] = recording
    runs = ns["cross_fit"](1)
    facts = ns["questions"]["fact_id"].to_numpy()
    assert len(calls) == ns["FOLDS"]
    assert np.array_equal(np.sort(np.concatenate([score for _, score in calls])), np.arange(len(facts)))
    for fit_rows, score_rows in calls:
        assert not set(facts[fit_rows]) & set(facts[score_rows])
        assert len(fit_rows) + len(score_rows) == len(facts)
    assert list(runs.index) == list(range(len(facts)))
    assert runs["p_correct"].between(0, 1).all()
    assert runs["answerable"].tolist() == ns["questions"]["answerable"].tolist()
