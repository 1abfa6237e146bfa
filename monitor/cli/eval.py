"""`monitor eval pairs`: measure story detection on labelled pairs of articles."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.common import ConfigOption, JsonOption, fail, out, settings_from
from monitor.story.embedding import load_embedder
from monitor.story.evaluation import BOOTSTRAP_SAMPLES, EvalInputError, Result, Score, evaluate

app = typer.Typer(no_args_is_help=True, help="Measure story detection on labelled data.")


@app.command()
def pairs(
    articles: Annotated[Path, typer.Argument(help="Articles, one JSON object a line.")],
    labelled: Annotated[
        Path, typer.Argument(metavar="PAIRS", help="Labelled pairs, one JSON object a line.")
    ],
    config: ConfigOption = None,
    model: Annotated[str | None, typer.Option(help="Embedding model: use-m3 or none.")] = None,
    window_days: Annotated[float | None, typer.Option(help="Story window in days.")] = None,
    same_threshold: Annotated[float | None, typer.Option(help="Same-story threshold.")] = None,
    bootstrap: Annotated[
        int, typer.Option(help="Bootstrap resamples for the 95% intervals (0: none).")
    ] = BOOTSTRAP_SAMPLES,
    as_json: JsonOption = False,
) -> None:
    """Backfill ARTICLES into a fresh temporary database; score same-story decisions on PAIRS."""
    settings = settings_from(config)
    overrides = {
        "model": model,
        "window_days": window_days,
        "same_threshold": same_threshold,
    }
    story = settings.story.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    try:
        result = evaluate(
            articles, labelled, story, load_embedder(story.model, own_process=True), bootstrap
        )
    except EvalInputError as exc:
        raise fail(str(exc)) from None
    if as_json:
        out.print_json(json.dumps(dataclasses.asdict(result)))
        return
    for line in report_lines(result, story.window_days, story.same_threshold):
        out.print(line, highlight=False, markup=False, soft_wrap=True)


def _row(name: str, s: Score) -> str:
    line = (
        f"{name:<14} n={s.pairs:<3} P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f}"
        f"  (tp {s.tp}, fp {s.fp}, fn {s.fn})"
    )
    if s.interval:
        p, r, f = (s.interval[k] for k in ("precision", "recall", "f1"))
        line += (
            f"  95% P [{p[0]:.2f}, {p[1]:.2f}] R [{r[0]:.2f}, {r[1]:.2f}]"
            f" F1 [{f[0]:.2f}, {f[1]:.2f}]"
        )
    return line


def report_lines(result: Result, window_days: float, threshold: float) -> list[str]:
    lines = [
        f"model {result.model}, window {window_days:g} days, same-story threshold {threshold:g}",
        _row("overall", result.overall),
        _row("cross-lingual", result.cross_lingual),
        *(_row(f"  {lp}", s) for lp, s in result.by_languages.items()),
        f"cross-pair merges: {result.cross_pair_merges}",
        f"articles: {result.articles} read, {result.stored} stored, {result.stories} stories",
    ]
    if result.missing:
        lines.append(f"labelled articles not stored: {', '.join(result.missing[:10])}")
    rate = result.articles / result.seconds if result.seconds else 0.0
    lines.append(f"throughput: {rate:.1f} articles/s end to end")
    if result.embedded:
        detect = (result.seconds - result.embedding_seconds) / max(1, result.articles)
        lines.append(
            f"  embedding {result.embedded / result.embedding_seconds:.1f} texts/s;"
            f" everything else {1000 * detect:.1f} ms/article"
        )
    return lines
