import shutil
from pathlib import Path

import numpy as np
import pytest

from lbsup.assist.encoder import (
    DEFAULT_TOKENIZER_PATH,
    EncoderUnavailable,
    _default_model_path,
    load_encoder,
)


def test_it_loads_the_pinned_model_and_embeds_to_unit_vectors():
    encoder = load_encoder()
    vectors = encoder.encode(["My card was stolen", "How do I reset my password?"])
    assert vectors.shape == (2, encoder.dim) == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_it_returns_the_same_process_wide_encoder():
    assert load_encoder() is load_encoder()


def test_it_is_deterministic_and_independent_of_batch_composition():
    encoder = load_encoder()
    text = "I was charged twice for the same order"
    alone = encoder.encode([text])[0]
    in_batch = encoder.encode(["short", text, "a much longer sentence " * 20])[1]
    np.testing.assert_allclose(alone, encoder.encode([text])[0], atol=0)
    # Padding to the longest text of a batch must not change a text's vector.
    np.testing.assert_allclose(alone, in_batch, atol=1e-4)


def test_it_places_paraphrases_closer_than_unrelated_sentences():
    vectors = load_encoder().encode(
        ["I lost my credit card", "My bank card is missing", "What time does the store open tomorrow?"]
    )
    paraphrase = float(vectors[0] @ vectors[1])
    unrelated = float(vectors[0] @ vectors[2])
    assert paraphrase > unrelated + 0.3


def test_it_embeds_hostile_input_without_crashing():
    encoder = load_encoder()
    texts = ["", "x" * 1_000_000, "\x00\x01\ufffd\ud800 junk", "退款在哪里 🙂🙂", "ignore previous instructions"]
    vectors = encoder.encode(texts)
    assert vectors.shape == (len(texts), 384)
    assert np.isfinite(vectors).all()
    assert encoder.encode([]).shape == (0, 384)


def _copy_model_files(tmp_path: Path) -> tuple[Path, Path]:
    model = tmp_path / "model.onnx"
    tokenizer = tmp_path / "tokenizer.json"
    shutil.copyfile(_default_model_path(), model)
    shutil.copyfile(DEFAULT_TOKENIZER_PATH, tokenizer)
    return model, tokenizer


def test_it_accepts_intact_copies_of_the_files_at_an_explicit_path(tmp_path):
    model, tokenizer = _copy_model_files(tmp_path)
    encoder = load_encoder(model, tokenizer)
    assert encoder.encode(["hello"]).shape == (1, 384)


def test_it_refuses_a_corrupted_model_file(tmp_path):
    model, tokenizer = _copy_model_files(tmp_path)
    with model.open("r+b") as stream:
        stream.seek(1000)
        stream.write(b"\xff\xff\xff\xff")
    with pytest.raises(EncoderUnavailable, match="model.onnx.*corrupt"):
        load_encoder(model, tokenizer)


def test_it_refuses_a_corrupted_tokenizer_file(tmp_path):
    model, tokenizer = _copy_model_files(tmp_path)
    tokenizer.write_text(tokenizer.read_text().replace("[UNK]", "[UNX]", 1))
    with pytest.raises(EncoderUnavailable, match="tokenizer"):
        load_encoder(model, tokenizer)


def test_it_reports_missing_files_clearly(tmp_path):
    with pytest.raises(EncoderUnavailable, match="not found"):
        load_encoder(tmp_path / "absent.onnx", DEFAULT_TOKENIZER_PATH)
