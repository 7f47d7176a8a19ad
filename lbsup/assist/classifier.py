"""Category classifier: sentence embeddings + TF-IDF n-grams in one logistic regression.

Why this shape (measured in bench/classify.py, see bench/README.md): on
Banking77 the embedding alone and the n-grams alone each stay around 92% and
90%, while one linear model over both reaches ~94%; it trains in seconds on a
playbook and well under two minutes on 10k examples.  Probabilities are
temperature-scaled on out-of-fold predictions so that "0.8" means roughly
"right 8 times in 10", which triage relies on to say `unsure`.  Each label's logit also
gets its closest example's cosine similarity times a weight fitted with the temperature on
the same out-of-fold predictions (0 when it does not help): with few examples a near copy of
one of them is strong evidence a linear model underrates (Banking77 with 10 examples per
intent: 85.96 → 86.41; bench/README.md).  Each
prediction also carries `familiarity` (similarity to the closest training
example), which catches out-of-scope messages that probabilities alone miss.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import minimize
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from lbsup.assist.encoder import clean_text, load_encoder

ALGORITHM_VERSION = "emb-minilm-int8mm+tfidf-word12-char25+lr-C10-balanced+nearest+temperature/2"
FORMAT_VERSION = 2
# All three feature blocks are unit-norm; giving the embedding twice the weight
# of each TF-IDF block was best on a split held out of Banking77 train.
EMBEDDING_WEIGHT = 2.0
REGULARIZATION_C = 10.0
CALIBRATION_FOLDS = 3
# One held-out third already gives thousands of predictions to fit a single
# temperature on; fitting every fold would double training time on big sets.
CALIBRATION_SINGLE_FOLD_FROM = 3000
EVIDENCE_TERMS = 5
FAMILIARITY_CHUNK = 512
STORED_ARRAYS = ("word_idf", "char_idf", "coef", "intercept", "example_embeddings", "example_targets")
MAX_NEIGHBOUR_WEIGHT = 50.0
WORD_PARAMS = {"ngram_range": (1, 2), "sublinear_tf": True, "dtype": np.float32}
CHAR_PARAMS = {"analyzer": "char_wb", "ngram_range": (2, 5), "sublinear_tf": True, "dtype": np.float32}


@dataclass(frozen=True)
class CategoryScore:
    label: str
    probability: float


@dataclass(frozen=True)
class Prediction:
    scores: tuple[CategoryScore, ...]  # sorted by probability, highest first; sums to 1
    evidence: tuple[str, ...] = ()  # words/bigrams of the message that pushed the top label most
    # Cosine similarity to the closest training example: low means the message is
    # unlike anything the model was taught (out of scope), whatever the probabilities say.
    familiarity: float = 0.0
    # log-sum-exp of the calibrated logits ("energy"): how strongly the message matches any
    # label at all.  Softmax hides it (two weak matches can still give 0.9); on CLINC150 it
    # separates out-of-scope messages far better than the top probability (bench/README.md).
    strength: float = 0.0

    @property
    def top(self) -> CategoryScore:
        return self.scores[0]


def _word_vectorizer(min_df: int) -> TfidfVectorizer:
    return TfidfVectorizer(min_df=min_df, **WORD_PARAMS)


def _char_vectorizer(min_df: int) -> TfidfVectorizer:
    return TfidfVectorizer(min_df=min_df, **CHAR_PARAMS)


def _restored_vectorizer(params: dict, vocabulary: list[str], idf: np.ndarray) -> TfidfVectorizer:
    vectorizer = TfidfVectorizer(vocabulary={term: index for index, term in enumerate(vocabulary)}, **params)
    vectorizer.idf_ = idf
    return vectorizer


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _logsumexp(logits: np.ndarray) -> np.ndarray:
    peak = logits.max(axis=1)
    return peak + np.log(np.exp(logits - peak[:, None]).sum(axis=1))


def _tfidf(vectorizer: TfidfVectorizer, texts: Sequence[str]) -> sparse.csr_matrix:
    """`vectorizer.transform(texts)` (sublinear tf, idf, l2 norm) without scikit-learn's per-call
    input checks and conversions, which cost more than the counting itself on one message."""
    analyze, vocabulary, idf = vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_
    indptr, indices, values = [0], [], []
    for text in texts:
        counts = Counter(vocabulary[term] for term in analyze(text) if term in vocabulary)
        columns = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
        weights = (1.0 + np.log([counts[column] for column in columns])) * idf[columns]
        norm = np.sqrt(np.dot(weights, weights))
        indices.append(columns)
        values.append(weights / norm if norm > 0 else weights)
        indptr.append(indptr[-1] + len(columns))
    return sparse.csr_matrix(
        (np.concatenate(values).astype(np.float32) if values else np.zeros(0, np.float32),
         np.concatenate(indices) if indices else np.zeros(0, np.int64), indptr),
        shape=(len(texts), len(vocabulary)),
    )


def _features(word: TfidfVectorizer, char: TfidfVectorizer, texts: list[str], embeddings: np.ndarray):
    return sparse.hstack(
        [_tfidf(word, texts), _tfidf(char, texts), sparse.csr_matrix(embeddings * EMBEDDING_WEIGHT)],
        format="csr",
    )


def _examples_digest(examples: Sequence[tuple[str, str]], seed: int) -> str:
    digest = hashlib.sha256(f"{ALGORITHM_VERSION}\x00seed={seed}\x00".encode())
    for text, label in examples:
        digest.update(label.encode("utf-8", "replace") + b"\x1f" + text.encode("utf-8", "replace") + b"\x1e")
    return digest.hexdigest()[:16]


class CategoryModel:
    """A trained classifier; holds no encoder weights (they are loaded once per process)."""

    def __init__(
        self,
        *,
        version: str,
        labels: tuple[str, ...],
        word: TfidfVectorizer,
        char: TfidfVectorizer,
        coef: np.ndarray,
        intercept: np.ndarray,
        temperature: float,
        neighbour_weight: float,
        example_embeddings: np.ndarray,
        example_targets: np.ndarray,
    ):
        self.version = version
        self.labels = labels
        self._word = word
        self._char = char
        self._coef = coef.astype(np.float32)
        self._intercept = intercept.astype(np.float32)
        self._temperature = float(temperature)
        self._neighbour_weight = float(neighbour_weight)
        # float16 halves storage; similarities only need two decimals.
        self._example_embeddings = example_embeddings.astype(np.float16)
        self._example_targets = example_targets.astype(np.int64)
        self._word_terms = word.get_feature_names_out() if word.vocabulary_ else np.array([])

    def predict(self, text: str) -> Prediction:
        return self.predict_batch([text])[0]

    def predict_batch(self, texts: Sequence[str]) -> list[Prediction]:
        cleaned = [clean_text(text) for text in texts]
        if not cleaned:
            return []
        embeddings = load_encoder().encode(cleaned)
        features = _features(self._word, self._char, cleaned, embeddings)
        familiarity, closest = self._similarities(embeddings)
        scaled = (self._logits(features) + self._neighbour_weight * closest) / self._temperature
        probabilities = _softmax(scaled)
        strength = _logsumexp(scaled)
        word_count = len(self._word_terms)
        return [
            self._prediction(probabilities[row], features[row, :word_count], float(familiarity[row]),
                             float(strength[row]))
            for row in range(len(cleaned))
        ]

    def _similarities(self, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cosine similarity to the closest training example overall, and per label."""
        examples = self._example_embeddings.astype(np.float32)
        familiarity = np.zeros(len(embeddings), dtype=np.float32)
        closest = np.zeros((len(embeddings), len(self.labels)), dtype=np.float32)
        for start in range(0, len(embeddings), FAMILIARITY_CHUNK):
            similarities = embeddings[start : start + FAMILIARITY_CHUNK] @ examples.T
            familiarity[start : start + len(similarities)] = similarities.max(axis=1)
            closest[start : start + len(similarities)] = _closest_per_label(
                similarities, self._example_targets, len(self.labels))
        return np.clip(familiarity, -1.0, 1.0), closest

    def _logits(self, features) -> np.ndarray:
        return np.asarray(features @ self._coef.T) + self._intercept

    def _prediction(self, probabilities: np.ndarray, word_features, familiarity: float,
                    strength: float) -> Prediction:
        order = np.argsort(-probabilities, kind="stable")
        scores = tuple(CategoryScore(self.labels[i], float(probabilities[i])) for i in order)
        return Prediction(
            scores=scores, evidence=self._evidence(int(order[0]), word_features), familiarity=familiarity,
            strength=strength,
        )

    def _evidence(self, label_index: int, word_features) -> tuple[str, ...]:
        """Message words whose weight favours the top label over the average label."""
        if word_features.nnz == 0 or len(self.labels) < 2:
            return ()
        columns = word_features.indices
        preference = self._coef[label_index, columns] - self._coef[:, columns].mean(axis=0)
        contribution = word_features.data * preference
        ranked = np.argsort(-contribution, kind="stable")
        return tuple(
            str(self._word_terms[columns[i]]) for i in ranked[:EVIDENCE_TERMS] if contribution[i] > 0
        )

    def to_bytes(self) -> bytes:
        """A self-contained, pickle-free serialisation (safe to load from the database)."""
        meta = {
            "format": FORMAT_VERSION,
            "version": self.version,
            "labels": list(self.labels),
            "temperature": self._temperature,
            "neighbour_weight": self._neighbour_weight,
            "word_vocabulary": [str(term) for term in self._vocabulary_in_order(self._word)],
            "char_vocabulary": [str(term) for term in self._vocabulary_in_order(self._char)],
        }
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
            word_idf=self._word.idf_,
            char_idf=self._char.idf_,
            coef=self._coef,
            intercept=self._intercept,
            example_embeddings=self._example_embeddings,
            example_targets=self._example_targets,
        )
        return buffer.getvalue()

    @staticmethod
    def _vocabulary_in_order(vectorizer: TfidfVectorizer) -> list[str]:
        terms = [""] * len(vectorizer.vocabulary_)
        for term, index in vectorizer.vocabulary_.items():
            terms[index] = term
        return terms

    @classmethod
    def from_bytes(cls, data: bytes) -> CategoryModel:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
                stored = {name: arrays[name] for name in STORED_ARRAYS}
        except Exception as error:  # zip/npz/json errors come in many types
            raise ValueError(f"not a serialised category model: {error}") from error
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
            raise ValueError("not a serialised category model of a supported format")
        return cls(
            version=meta["version"],
            labels=tuple(meta["labels"]),
            word=_restored_vectorizer(WORD_PARAMS, meta["word_vocabulary"], stored["word_idf"]),
            char=_restored_vectorizer(CHAR_PARAMS, meta["char_vocabulary"], stored["char_idf"]),
            coef=stored["coef"],
            intercept=stored["intercept"],
            temperature=meta["temperature"],
            neighbour_weight=meta["neighbour_weight"],
            example_embeddings=stored["example_embeddings"],
            example_targets=stored["example_targets"],
        )


def _closest_per_label(similarities: np.ndarray, targets: np.ndarray, n_labels: int) -> np.ndarray:
    """Each row's highest similarity to an example of each label (-1 where a label has none)."""
    closest = np.full((len(similarities), n_labels), -1.0, dtype=np.float32)
    order = np.argsort(targets, kind="stable")
    present, starts = np.unique(targets[order], return_index=True)
    if len(present):
        closest[:, present] = np.maximum.reduceat(similarities[:, order], starts, axis=1)
    return closest


def _fit_linear(features, targets: np.ndarray, n_labels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients as (n_labels, n_features) even when some labels are absent or there are only two."""
    present = np.unique(targets)
    coef = np.zeros((n_labels, features.shape[1]), dtype=np.float32)
    # Absent labels (possible inside a calibration fold) must never win.
    intercept = np.full(n_labels, -1e4, dtype=np.float32)
    if len(present) == 1:
        intercept[present[0]] = 0.0
        return coef, intercept
    model = LogisticRegression(
        C=REGULARIZATION_C, max_iter=1000, class_weight="balanced", random_state=seed
    ).fit(features, targets)
    if len(present) == 2:  # sklearn keeps one row for binary problems: logit of the second class
        coef[present[1]] = model.coef_[0]
        intercept[present[0]] = 0.0
        intercept[present[1]] = model.intercept_[0]
    else:
        coef[present] = model.coef_
        intercept[present] = model.intercept_
    return coef, intercept


def _fit_lexical(texts: list[str]) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    # Rare character n-grams only add noise once there is plenty of data.
    char_min_df = 2 if len(texts) >= 1000 else 1
    word = _word_vectorizer(min_df=1)
    char = _char_vectorizer(min_df=char_min_df)
    # A corpus of only empty/symbol texts has no vocabulary; keep a placeholder so the model still works.
    for vectorizer in (word, char):
        try:
            vectorizer.fit(texts)
        except ValueError:
            vectorizer.fit(["empty"])
    return word, char


def _calibrated_scaling(
    texts: list[str], embeddings: np.ndarray, targets: np.ndarray, n_labels: int, seed: int
) -> tuple[float, float]:
    """(temperature, neighbour weight) that minimise the log-loss of out-of-fold predictions;
    (1.0, 0.0) when there is too little data to tell."""
    if len(texts) < 2 * CALIBRATION_FOLDS or n_labels < 2:
        return 1.0, 0.0
    logits = np.zeros((len(texts), n_labels), dtype=np.float64)
    closest = np.zeros((len(texts), n_labels), dtype=np.float64)
    seen = np.zeros(len(texts), dtype=bool)
    folds = KFold(CALIBRATION_FOLDS, shuffle=True, random_state=seed).split(texts)
    for fold_number, (train_rows, held_rows) in enumerate(folds):
        if fold_number > 0 and len(texts) >= CALIBRATION_SINGLE_FOLD_FROM:
            break
        fold_texts = [texts[i] for i in train_rows]
        word, char = _fit_lexical(fold_texts)
        coef, intercept = _fit_linear(
            _features(word, char, fold_texts, embeddings[train_rows]), targets[train_rows], n_labels, seed
        )
        held = _features(word, char, [texts[i] for i in held_rows], embeddings[held_rows])
        logits[held_rows] = np.asarray(held @ coef.T) + intercept
        closest[held_rows] = _closest_per_label(
            embeddings[held_rows] @ embeddings[train_rows].T, targets[train_rows], n_labels)
        # Labels absent from a fold's training part cannot be predicted; they say nothing about temperature.
        seen[held_rows] = logits[held_rows, targets[held_rows]] > -1e3
    if seen.sum() < 2:
        return 1.0, 0.0
    logits, closest, truth = logits[seen], closest[seen], targets[seen]

    def negative_log_likelihood(parameters: np.ndarray) -> float:
        neighbour_weight, log_temperature = parameters
        scaled = (logits + neighbour_weight * closest) / np.exp(log_temperature)
        scaled -= scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scaled).sum(axis=1))
        return float((log_norm - scaled[np.arange(len(truth)), truth]).mean())

    result = minimize(negative_log_likelihood, x0=[1.0, 0.0], method="L-BFGS-B",
                      bounds=[(0.0, MAX_NEIGHBOUR_WEIGHT), (np.log(0.05), np.log(20.0))])
    neighbour_weight, log_temperature = result.x
    return float(np.exp(log_temperature)), float(neighbour_weight)


def train_category_model(examples: Sequence[tuple[str, str]], *, seed: int = 0) -> CategoryModel:
    """Train on (text, label) pairs; the result does not depend on the order of the examples."""
    cleaned = sorted((clean_text(text), str(label)) for text, label in examples)
    if not cleaned:
        raise ValueError("cannot train a category model without examples")
    if any(not label.strip() for _, label in cleaned):
        raise ValueError("every training example needs a non-empty label")
    texts = [text for text, _ in cleaned]
    labels = tuple(sorted({label for _, label in cleaned}))
    index_of = {label: index for index, label in enumerate(labels)}
    targets = np.array([index_of[label] for _, label in cleaned], dtype=np.int64)

    embeddings = load_encoder().encode(texts)
    temperature, neighbour_weight = _calibrated_scaling(texts, embeddings, targets, len(labels), seed)
    word, char = _fit_lexical(texts)
    coef, intercept = _fit_linear(_features(word, char, texts, embeddings), targets, len(labels), seed)
    return CategoryModel(
        version=_examples_digest(cleaned, seed),
        labels=labels,
        word=word,
        char=char,
        coef=coef,
        intercept=intercept,
        temperature=temperature,
        neighbour_weight=neighbour_weight,
        example_embeddings=embeddings,
        example_targets=targets,
    )
