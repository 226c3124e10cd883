"""Numbers as gymrun shows them, by one rule: a figure with an uncertainty (a standard
deviation, an interval) is rounded where that uncertainty's second significant digit falls;
one without is given to four significant digits; integers are written plainly.

Every table, page and message that shows a reward or a statistic formats it here.
"""

from __future__ import annotations

import math
from typing import Any

DIGITS = 4  # significant digits of a figure without an uncertainty
MAX_DECIMALS = 8


def decimals_for(uncertainty: float | None, of: float | None = None) -> int | None:
    """The decimals that keep two significant digits of `uncertainty` (None: no rule), the
    uncertainty `of` a value: one within float rounding of it is none (a return of 500
    steps of 0.01 is 5 give or take 1e-15, not 5.00000000 ± 0.00000000).

    >>> decimals_for(12.04), decimals_for(0.9526), decimals_for(0.034), decimals_for(0.0)
    (0, 2, 3, None)
    >>> decimals_for(8.9e-16, of=5.0), decimals_for(0.034, of=5.0)
    (None, 3)
    """
    if uncertainty is None or not math.isfinite(uncertainty) or uncertainty <= 0:
        return None
    if _rounding(uncertainty, of):
        return None
    return min(MAX_DECIMALS, max(0, 1 - math.floor(math.log10(uncertainty))))


def _rounding(uncertainty: float, of: float | None) -> bool:
    """Whether `uncertainty` is no more than float rounding of the value `of`."""
    return of is not None and math.isfinite(of) and uncertainty <= abs(of) * 1e-9


def figure(value: Any, decimals: int | None = None) -> str:
    """`value` as text: to `decimals` places when given, else integers plainly and others to
    four significant digits; ``—`` for None, ``nan``/``inf``/``-inf`` as they are.

    >>> figure(195.0), figure(22.3988), figure(127.39033730158731), figure(0.000123456)
    ('195', '22.4', '127.4', '0.0001235')
    >>> figure(22.3988, decimals=0), figure(5.08086, decimals=2), figure(None), figure("nan")
    ('22', '5.08', '—', 'nan')
    >>> figure(123456.7), figure(-0.0), figure(1e20), figure(True), figure(1.4e201, decimals=0)
    ('123457', '0', '1e+20', 'True', '1.4e+201')
    """
    if type(value) is float and decimals is None and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # (first: a board shows thousands of whole rewards a page)
    if value is None:
        return "—"
    if isinstance(value, str | bool):
        return str(value)
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if decimals is not None and abs(value) < 1e15:  # not a line of a thousand digits
        text = f"{value:.{decimals}f}"
    elif value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
    elif 1e4 <= abs(value) < 1e15:
        text = f"{value:.0f}"
    else:
        text = f"{value:.{DIGITS}g}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0"


def plus_minus(mean: float | None, std: float | None) -> str:
    """``mean ± std``, both rounded by the standard deviation.

    >>> plus_minus(22.3988, 12.04), plus_minus(5.08086, 0.9526), plus_minus(500.0, 0.0)
    ('22 ± 12', '5.08 ± 0.95', '500 ± 0')
    >>> plus_minus(5.000000000000001, 8.9e-16)
    '5 ± 0'
    """
    decimals = decimals_for(std, mean)
    if std is not None and math.isfinite(std) and std > 0 and decimals is None:
        return f"{figure(mean)} ± 0"  # float rounding's spread, not the episodes'
    return f"{figure(mean, decimals)} ± {figure(std, decimals)}"


def interval(value: float | None, low: float | None, high: float | None) -> str:
    """``value [low, high]``, rounded by the interval's half width; the value alone when
    there is no interval.

    >>> interval(13.8933, 13.52, 14.2), interval(9.427, 9.343, 9.51), interval(7.0, None, None)
    ('13.89 [13.52, 14.20]', '9.427 [9.343, 9.510]', '7')
    """
    if value is None:
        return "—"
    if low is None or high is None:
        return figure(value)
    decimals = decimals_for((high - low) / 2, value)
    return f"{figure(value, decimals)} [{figure(low, decimals)}, {figure(high, decimals)}]"


def interval_against(
    value: float | None, low: float | None, high: float | None, bound: float | None
) -> str:
    """``value [low, high]`` as `interval` shows it, with as many more decimals as it takes
    for each number to fall on the same side of `bound` as it does unrounded (a number equal
    to the bound only when it is): which side of a threshold each end lies on is read from
    the text.

    >>> interval(0.78, 0.69975, 0.86), interval_against(0.78, 0.69975, 0.86, 0.7)
    ('0.780 [0.700, 0.860]', '0.7800 [0.6997, 0.8600]')
    >>> interval_against(196.4, 194.97, 198.1, 195.0), interval_against(20.0, 12.5, 27.5, 15.0)
    ('196.40 [194.97, 198.10]', '20.0 [12.5, 27.5]')
    """
    if value is None or low is None or high is None or bound is None:
        return interval(value, low, high)
    decimals = decimals_for((high - low) / 2, value)
    if decimals is None:
        return interval(value, low, high)

    def misplaced(number: float, places: int) -> bool:
        shown = float(figure(number, places))
        return (shown > bound) != (number > bound) or (shown == bound) != (number == bound)

    while decimals < MAX_DECIMALS and any(misplaced(v, decimals) for v in (value, low, high)):
        decimals += 1
    return f"{figure(value, decimals)} [{figure(low, decimals)}, {figure(high, decimals)}]"


def counted(count: int, noun: str) -> str:
    """`count` and `noun`, plural unless the count is one.

    >>> counted(1, "episode"), counted(0, "group"), counted(12, "run")
    ('1 episode', '0 groups', '12 runs')
    """
    return f"{count} {noun}{'' if count == 1 else 's'}"


def share(fraction: float | None) -> str:
    """A fraction as a percentage.

    >>> share(0.5), share(0.0), share(1 / 3), share(None)
    ('50%', '0%', '33%', '—')
    """
    return "—" if fraction is None else f"{fraction:.0%}"
