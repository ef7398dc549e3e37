"""The values a numeric setting may take.

A setting's type says "a number"; its :class:`Domain` says which numbers
mean something: finite, within a range (a threshold in [0, 1], a
positive scale), and for integers bounds that keep a step's cost sane
(2^logt walk steps). Each domain is defined once, beside the code that
uses the value, and checked where the value enters (settings, labelers,
CRFs, walks), so that a bad value is refused in one line before any work
starts.
"""
import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Iterable, Tuple

from .errors import ConfigError


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class Domain:
    """Finite numbers (or integers) in an interval.

    Args:
        low (float): The lower end. Defaults to -inf (none).
        high (float): The upper end. Defaults to inf (none).
        low_open (bool): ``low`` itself is excluded. Defaults to False.
        high_open (bool): ``high`` itself is excluded. Defaults to False.
        integer (bool): Integers only (bools are not integers here).
            Defaults to False.
        why (str): What the bound protects, for the docs and errors.
            Defaults to ''.
    """

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    why: str = ''

    def __contains__(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(
                value, Integral if self.integer else Real):
            return False
        value = float(value)
        if not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def __str__(self) -> str:
        """E.g. ``'a number in [0, 1]'``, ``'an integer in [0, 12]'``,
        ``'a finite number >= 0'``."""
        kind = 'an integer' if self.integer else 'a number'
        bounded = (math.isfinite(self.low), math.isfinite(self.high))
        if all(bounded):
            text = (f'{kind} in {"(" if self.low_open else "["}'
                    f'{_number(self.low)}, {_number(self.high)}'
                    f'{")" if self.high_open else "]"}')
        elif bounded[0]:
            text = (f'a finite {kind.split()[1]} '
                    f'{">" if self.low_open else ">="} {_number(self.low)}')
        elif bounded[1]:
            text = (f'a finite {kind.split()[1]} '
                    f'{"<" if self.high_open else "<="} {_number(self.high)}')
        else:
            text = f'a finite {kind.split()[1]}'
        return f'{text} ({self.why})' if self.why else text

    def check(self, value: Any, name: str) -> Any:
        """``value``, or a :class:`ConfigError` naming setting ``name``, the
        value and this domain."""
        if value not in self:
            raise ConfigError(f'{name} must be {self}, got {value!r}')
        return value

    def check_each(self, values: Iterable[Any], name: str) -> Tuple:
        """Every item of ``values`` (a tuple of them), or a
        :class:`ConfigError` naming ``name``, the values and this domain."""
        values = tuple(values)
        for value in values:
            if value not in self:
                raise ConfigError(f'{name} must be numbers, each {self}, got '
                                  f'{list(values)!r}')
        return values


# a score of a map, a threshold on the scores, a probability: in [0, 1]
UNIT = Domain(0, 1)
