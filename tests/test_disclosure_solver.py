"""The shortcuts of the disclosure check (kept integer points, the linear relaxation) answer
exactly as solving the integer programme every time would, while figures are withheld and
shown again as the greedy search does."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from app.services.disclosure import Known, Quantity, Relation, _Programme
from app.services.suppression import Suppression

K = 5


def _exact(programme: _Programme, quantity: Quantity) -> bool:
    low = programme.extreme(quantity, 1)
    high = programme.extreme(quantity, -1)
    return low is None or high is None or low > 0.5 or high < quantity.k - 1.5


def _random_case(rng: random.Random) -> tuple[list[tuple[tuple[str, ...], int]],
                                                list[Relation], list[Quantity]]:
    names = [f"v{i}" for i in range(rng.randint(3, 8))]
    truth = {n: rng.choice([0, 1, 2, 3, 4, 6, 9]) for n in names}
    figures = []
    for _ in range(rng.randint(3, 9)):
        terms = tuple(rng.sample(names, rng.randint(1, len(names))))
        figures.append((terms, sum(truth[t] for t in terms)))
    relations = []
    if rng.random() < 0.5:
        half = len(names) // 2
        relations.append(Relation(tuple(names[:half]), tuple(names[half:]),
                                  equal=sum(truth[n] for n in names[:half]) ==
                                  sum(truth[n] for n in names[half:])))
    quantities = [Quantity(n, (n,), (), truth[n], K) for n in names]
    for _ in range(3):
        plus, minus = rng.sample(names, 2)
        quantities.append(Quantity(f"{plus}-{minus}", (plus,), (minus,),
                                   truth[plus] - truth[minus], K))
    return figures, relations, quantities


def _known(terms: tuple[str, ...], value: int, state: Suppression) -> Known:
    if state is Suppression.COMPLEMENTARY and value < K:
        state = Suppression.SMALL
    if state is Suppression.SMALL and value >= K:
        state = Suppression.COMPLEMENTARY
    return Known.of(terms, value, state, K)


def test_the_shortcuts_answer_as_the_integer_programme_does() -> None:
    rng = random.Random(20261202)
    states = [Suppression.SHOWN, Suppression.SMALL, Suppression.NOT_RELEASED]
    answers = {True: 0, False: 0}
    for _ in range(60):
        figures, relations, quantities = _random_case(rng)
        known = [_known(t, v, rng.choice(states)) for t, v in figures]
        names = [n for q in quantities for n in (*q.plus, *q.minus)]
        programme = _Programme(known, relations, names)
        for _ in range(4):
            for quantity in quantities:
                expected = _exact(_Programme(known, relations, names), quantity)
                assert programme.exposes(quantity) is expected, quantity
                answers[expected] += 1
            # Withhold or show figures again, as the greedy search does.
            for position in rng.sample(range(len(figures)), min(2, len(figures))):
                terms, value = figures[position]
                known[position] = _known(terms, value, rng.choice(states))
                programme.with_known(position, known[position])
    assert answers[True] > 20 and answers[False] > 20  # both answers are tried


def test_the_check_prints_nothing_on_standard_output() -> None:
    # `candor stats` prints JSON and CSV there, and its first release runs the check.
    script = ("from app.services.disclosure import Figure, Quantity, protect\n"
              "protect([Figure('a', ('x',), 2, 5), Figure('b', ('x', 'y'), 9, 5)], [], [],\n"
              "        [Quantity('x', ('x',), (), 2, 5)])\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.stdout == b""


def test_where_the_relaxation_is_fractional_the_integer_programme_decides() -> None:
    # An odd cycle: with fractions every count can be a half, in whole numbers nothing fits,
    # so the relaxation's point proves nothing and its bound does not settle the difference.
    known = [Known(("a", "b"), 1, 1), Known(("b", "c"), 1, 1), Known(("a", "c"), 1, 1)]
    difference = Quantity("d-a", ("d",), ("a",), 1, K)
    assert _exact(_Programme(known, [], ["a", "b", "c", "d"]), difference)
    programme = _Programme(known, [], ["a", "b", "c", "d"])
    assert programme.exposes(difference)
    solves = programme.solves
    # Shown as "<5" instead, the same figure leaves the difference anything at all.
    programme.with_known(0, Known(("a", "b"), 0, K - 1))
    assert not _exact(_Programme([Known(("a", "b"), 0, K - 1), *known[1:]], [],
                                 ["a", "b", "c", "d"]), difference)
    assert not programme.exposes(difference)
    assert solves >= 2  # the relaxation, then the integer programme
