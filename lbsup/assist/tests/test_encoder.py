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
    # A text's neighbours in a call (and their length) must not change its vector.
    np.testing.assert_allclose(alone, in_batch, atol=0)
    # Many texts are encoded on parallel threads; each still gets its own vector, in order.
    many = [f"order {number} arrived damaged" for number in range(70)] + [text]
    np.testing.assert_allclose(encoder.encode(many)[-1], alone, atol=0)
    np.testing.assert_allclose(encoder.encode(many)[:3], encoder.encode(many[:3]), atol=0)


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


def test_it_multiplies_the_pinned_int8_weights_as_integers_and_stays_close_to_the_float_model():
    import onnxruntime

    encoder = load_encoder()
    # 6 layers × (query, key, value, attention output, feed-forward up and down)
    assert encoder.integer_matmuls == 36
    texts = ["I was charged twice for the same order", "Can I move my appointment to Tuesday after 3pm?"]
    reference = onnxruntime.InferenceSession(str(_default_model_path()), providers=["CPUExecutionProvider"])
    for text, vector in zip(texts, encoder.encode(texts)):
        ids = np.array([encoder._tokenizer.encode(text).ids], dtype=np.int64)
        (hidden,) = reference.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                         "token_type_ids": np.zeros_like(ids)})
        pooled = hidden[0].mean(axis=0)
        float_vector = pooled / np.linalg.norm(pooled)
        assert 0.99 < float(vector @ float_vector) < 0.99999  # close, and really computed another way
