"""The model in its own process: same vectors, survives its process's death, dies with us."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np

from monitor.story.embedding import Embedder, ModelProcess, OwnProcess

TEXTS = ["Ramiz Mehdiyev detained", "Рамиз Мехтиев задержан", "earthquake in Turkey"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) counts as gone
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def test_the_model_process_gives_the_in_process_vectors(embedder: Embedder | None) -> None:
    assert embedder is not None
    model = ModelProcess()
    assert np.allclose(model.encode(TEXTS), embedder.encode(TEXTS), atol=1e-5)
    # the pipeline runs its other CPU-bound stages there (Pipeline.compute)
    assert isinstance(model, OwnProcess) and not isinstance(embedder, OwnProcess)


def test_a_killed_model_process_is_replaced() -> None:
    model = ModelProcess()
    first = model.run(os.getpid)
    os.kill(first, signal.SIGKILL)
    vectors = model.encode(TEXTS)  # fails on the dead process, then starts another
    assert vectors.shape == (3, 512)
    assert model.run(os.getpid) != first


def test_the_model_process_ends_when_its_parent_is_killed() -> None:
    script = (
        "import os\n"
        "from monitor.story.embedding import ModelProcess\n"
        "if __name__ == '__main__':\n"
        "    print(ModelProcess().run(os.getpid), flush=True)\n"
        "    input()\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert alive(child)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(child)
