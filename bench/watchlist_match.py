"""Per-article watchlist matching time for 10, 1,000 and 10,000 watched actors.

Synthetic actors (realistic first names and surnames from several naming traditions, fixed
seed) and one keyword per ten actors are spread over watchlists of 100 actors each, plus the
seed corpus' own watchlist so that real hits happen. Articles are 5,000-character windows of
the seed corpus texts (../shared/seeds or /work/shared/seeds), read at run time.

    .venv/bin/python bench/watchlist_match.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

from monitor.watchlist.loader import load_watchlists
from monitor.watchlist.matcher import Matcher, evaluate
from monitor.watchlist.schema import Actor, Keyword, Rule, Watchlist

REPO = Path(__file__).resolve().parent.parent
SEED = 20251018
ARTICLE_CHARS = 5_000
PER_WATCHLIST = 100

FIRST = """Ramiz Ilham Heydar Mehriban Elnur Rashad Leyla Aynur Farid Kamran Nigar Samir Togrul
Vugar Zaur Anar Vladimir Sergei Dmitry Nikolai Olga Tatiana Yulia Alexei Mikhail Igor Andrei
Natalia Ivan Pavel Mehmet Ahmet Ayse Fatma Emine Mustafa Recep Kemal Hakan Zeynep John Mary
Robert Linda James Sarah Michael Emma David Laura Pierre Marie Jean Claire Hans Anna Klaus
Giulia Marco Chiara Juan Carmen Pedro Lucia Ali Fatima Hassan Omar Layla Yusuf Zainab""".split()
ROOTS = """mehd ali hasan huseyn mamed ibrahim rza abbas babay guli jafar kerim musa nasir oruj
qasim rahim safar tagi vali yusif zeyn petr ivan smirn kuzn popov sokol lebed kozl novik
morozov volk soloviev vasil zaits pavl semen golub vinogr bogd vorob fedor mikhail beli tarasov
belov komar orlov kiselev makar andre kovalev ilyin gusev titov kuzmin kudryav baran kulik
alexe stepan yakovl sorokin sergeev roman zakharov borisov korolev gerasim ponomar grigor lazar
medved ersh nikit sobolev ryab polyak tsvetk danil zhukov frolov zhuravl nikolaev krylov maxim
sidor osip belous fedot dorof egor matve bobrov dmitri kalinin anisim petukh antonov timof
nikif veselov filipp markov bolshak sukhan mironov shiryaev aleksandr konov shestak kazak
efimov denis gromov fomin davydov melnik shcherb blinov kolesn karpov afanas vlasov maslov
isakov tikhonov aksenov gavrilov rodionov kotov gorbun kudr bykov zuev tretyak savel panov
rybakov suvorov abramov voronov mukhin arkhip trofim martyn emelyan gorshk chernov ovchinn
seleznev panfil kopylov mikheev galkin nazarov lobanov lukin belyakov potapov nekras khokhlov
zhdanov naumov shilov vorontsov ermakov drozdov ignatiev savin loginov safonov kapustin
kirillov moiseev eliseev koshel kostin gorbachev orekh efremov isaev evdokim kalashn kabanov
noskov yudin kulag lapin prokhorov nesterov kharitonov agafonov muravyov laptev filatov
yilmaz kaya demir sahin celik yildiz yildirim ozturk aydin ozdemir arslan dogan kilic aslan
cetin kara koc kurt ozkan simsek polat ozcan korkmaz cakir erdogan yavuz can acar sen aktas
guler yalcin gunes bozkurt bulut keskin unal turan gul ozer isik kaplan avci sari tekin""".split()
ENDINGS = ["ov", "ev", "yev", "iyev", "li", "zade", "oglu", "enko", "sky", "in", "", "er", "man"]
WORDS = """sanctions pipeline election ceasefire embargo referendum protest tariff summit
blockade uprising corruption espionage extradition annexation mobilisation drone missile
refinery airport border frontier treaty accord parliament ministry tribunal verdict arrest
sabotage cyberattack outage flood earthquake wildfire evacuation hostage kidnapping""".split()


def synthetic_watchlists(actors: int, rng: random.Random) -> list[Watchlist]:
    names: set[str] = set()
    while len(names) < actors:
        surname = rng.choice(ROOTS) + rng.choice(ENDINGS)
        names.add(f"{rng.choice(FIRST)} {surname.capitalize()}")
    ordered = sorted(names)
    rng.shuffle(ordered)
    terms = [
        f"{rng.choice(WORDS)}{rng.choice(['', ' ' + rng.choice(WORDS)])}{i}"
        for i in range(max(1, actors // 10))
    ]
    watchlists = []
    for n, start in enumerate(range(0, actors, PER_WATCHLIST)):
        chunk = ordered[start : start + PER_WATCHLIST]
        mine = terms[start // 10 : (start + len(chunk)) // 10] or terms[:1]
        keywords = [Keyword(name=f"k{n}-{i}", terms=[t]) for i, t in enumerate(mine)]
        watchlists.append(
            Watchlist(
                version=1,
                name=f"synthetic-{n}",
                actors=[Actor(name=a, require_first_name=rng.random() < 0.3) for a in chunk],
                keywords=keywords,
                rules=[Rule(name="any", any=[a for a in chunk[:5]] + [k.name for k in keywords])],
            )
        )
    return watchlists


def seed_texts() -> list[str]:
    for shared in (REPO.parent / "shared", Path("/work/shared")):
        if (shared / "seeds").is_dir():
            return [p.read_text(encoding="utf-8") for p in sorted((shared / "seeds").glob("*"))]
    sys.exit("the seed corpus (../shared/seeds) is not here")


def articles(texts: list[str]) -> list[str]:
    """5,000-character articles: windows over the seeds, short seeds repeated to length."""
    out = []
    for text in texts:
        padded = (text + "\n\n") * (ARTICLE_CHARS // len(text) + 1)
        for start in range(0, max(1, len(text) - ARTICLE_CHARS) + 1, 2_500):
            out.append(padded[start : start + ARTICLE_CHARS])
    return out


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def measure(watchlists: list[Watchlist], texts: list[str], repeat: int) -> dict[str, float]:
    """Build time, wall and CPU p50/p95 per article, hits per article. CPU time is the
    steadier figure on a machine shared with other work; wall time is what a report waits."""
    started = time.perf_counter()
    matcher = Matcher(watchlists)
    build = time.perf_counter() - started
    for text in texts:  # warm the folding caches as a running daemon has them
        matcher.find(text)
    wall, cpu = [], []
    hits = 0
    for _ in range(repeat):
        for text in texts:
            t0, c0 = time.perf_counter(), time.process_time()
            found = matcher.find(text)
            evaluate(watchlists, found)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - t0)
            hits += len(found)
    wall50, wall95 = percentiles(wall)
    cpu50, cpu95 = percentiles(cpu)
    return {
        "build": build,
        "p50": wall50,
        "p95": wall95,
        "cpu50": cpu50,
        "cpu95": cpu95,
        "hits": hits / len(wall),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    texts = articles(seed_texts())
    real = load_watchlists(REPO / "watchlists")
    print(f"{len(texts)} articles of {ARTICLE_CHARS} characters, {args.repeat} rounds each")
    print(
        f"{'actors':>7} {'keywords':>8} {'lists':>5} {'build':>7}"
        f" {'wall p50':>9} {'wall p95':>9} {'cpu p50':>8} {'cpu p95':>8} {'hits':>5}"
    )
    p95: dict[int, float] = {}
    for actors in (10, 1_000, 10_000):
        watchlists = synthetic_watchlists(actors, random.Random(SEED)) + real
        r = measure(watchlists, texts, args.repeat)
        p95[actors] = r["p95"]
        keywords = sum(len(w.keywords) for w in watchlists)
        print(
            f"{actors:>7} {keywords:>8} {len(watchlists):>5} {r['build'] * 1e3:>5.0f}ms"
            f" {r['p50'] * 1e3:>7.2f}ms {r['p95'] * 1e3:>7.2f}ms"
            f" {r['cpu50'] * 1e3:>6.2f}ms {r['cpu95'] * 1e3:>6.2f}ms {r['hits']:>5.0f}"
        )
    print(f"wall p95 at 10,000 actors / at 1,000: {p95[10_000] / p95[1_000]:.2f}x")


if __name__ == "__main__":
    main()
