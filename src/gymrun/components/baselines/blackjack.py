"""Blackjack-v1's basic strategy, computed exactly for its rules."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

# An infinite deck: ace (1) to nine once each, ten and the face cards four times in 13.
CARDS = {card: 1 / 13 for card in range(1, 10)} | {10: 4 / 13}
STICK, HIT = 0, 1


def _hand(total: int, ace: bool, card: int) -> tuple[int, bool]:
    """A hand (hard total, holds an ace) after drawing `card`."""
    return total + card, ace or card == 1


def _points(total: int, ace: bool) -> int:
    """What a hand counts: an ace counts 11 where that does not bust it."""
    return total + 10 if ace and total + 10 <= 21 else total


@functools.cache
def dealer_outcomes(total: int, ace: bool) -> dict[int, float]:
    """The distribution of the dealer's final points (22 = bust) from a hand: the dealer
    draws until 17 or more, as Blackjack-v1's does.

    >>> round(sum(dealer_outcomes(10, False).values()), 12)
    1.0
    """
    points = _points(total, ace)
    if points >= 17:
        return {min(points, 22): 1.0}
    outcomes: dict[int, float] = {}
    for card, chance in CARDS.items():
        for final, p in dealer_outcomes(*_hand(total, ace, card)).items():
            outcomes[final] = outcomes.get(final, 0.0) + chance * p
    return outcomes


def _stick_value(points: int, dealer: int) -> float:
    """The expected payoff of standing on `points` against the dealer's up card."""
    ace = dealer == 1
    value = 0.0
    for final, p in dealer_outcomes(dealer, ace).items():
        value += p * (1.0 if final == 22 or points > final else -1.0 if points < final else 0.0)
    return value


@functools.cache
def best_value(total: int, ace: bool, dealer: int) -> tuple[float, int]:
    """The expected payoff of a hand played optimally from here, and the action."""
    points = _points(total, ace)
    if points > 21:
        return -1.0, STICK
    stick = _stick_value(points, dealer)
    hit = sum(
        chance * best_value(*_hand(total, ace, card), dealer)[0] for card, chance in CARDS.items()
    )
    return (hit, HIT) if hit > stick else (stick, STICK)


class BasicStrategy:
    """Blackjack-v1's optimal play (stick or hit), computed exactly by recursion over an
    infinite deck against a dealer who draws to 17: the basic strategy of the game as the
    env plays it (no doubling or splitting). Reads the observation only: (player's sum,
    dealer's card, usable ace).

    >>> agent = BasicStrategy()
    >>> agent.act((20, 10, 0)), agent.act((12, 2, 0)), agent.act((18, 9, 1))
    (0, 1, 1)
    """

    def __init__(self) -> None:
        self.table = np.zeros((32, 11, 2), dtype=np.int64)
        for points in range(4, 22):
            for dealer in range(1, 11):
                hard = best_value(points, False, dealer)[1]
                self.table[points, dealer, 0] = hard
                if points >= 12:  # a usable ace: the hand holds an ace counted as 11
                    self.table[points, dealer, 1] = best_value(points - 10, True, dealer)[1]

    def act(self, observation: Any) -> int:
        points, dealer, usable = (int(value) for value in observation)
        return int(self.table[min(points, 31), dealer, usable])


def expected_return(*, sab: bool = True, natural: bool = False) -> float:
    """The exact expected payoff of a hand of Blackjack played with the basic strategy: the
    game's optimum. Blackjack-v1 plays ``sab`` rules (Sutton and Barto's: a natural, ace and
    ten, wins unless the dealer has one too); with ``natural`` and not ``sab`` a natural's
    win pays 1.5. Neither changes a decision: a natural stands.

    >>> round(expected_return(), 4), round(expected_return(sab=False), 4)
    (-0.0431, -0.0466)
    """
    value = 0.0
    for first, p1 in CARDS.items():
        for second, p2 in CARDS.items():
            total, ace = _hand(*_hand(0, False, first), second)
            for dealer, p3 in CARDS.items():
                if ace and total == 11 and (sab or natural):  # a natural: it stands
                    hand = _natural_value(dealer, sab)
                else:
                    hand = best_value(total, ace, dealer)[0]
                value += p1 * p2 * p3 * hand
    return value


def _natural_value(dealer: int, sab: bool) -> float:
    """A natural's expected payoff against the dealer's up card."""
    hole = {1: CARDS[10], 10: CARDS[1]}.get(dealer, 0.0)  # the dealer's natural too: a push
    if sab:
        return 1.0 - hole
    twenty_one = dealer_outcomes(dealer, dealer == 1).get(21, 0.0)  # pushes
    return 1.5 * (1.0 - twenty_one)
