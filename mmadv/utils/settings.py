"""Typed settings, each defined once: a frozen dataclass whose fields are
made by :func:`setting`, with their type, default, a doc line, where the
default comes from (``source``: the paper's code or the code of the
method it follows; empty for mmadv's own choice), the paper's value where
it differs (``paper``) and the numbers it may take (``domain``,
:class:`~mmadv.utils.domain.Domain`).

:class:`Settings` builds them from dicts (a config's, the command
line's) with every key, type and domain checked, in one line naming the
source, the setting, the value and what it must be; gives each setting
its command-line option (:meth:`Settings.add_arguments`) and takes it
back (:meth:`Settings.arguments`).
"""
import argparse
import typing
from dataclasses import MISSING, field, fields
from typing import Any, List, Optional, Sequence, Union

from .domain import Domain
from .errors import ConfigError


def setting(default: Any = MISSING,
            doc: str = '',
            source: str = '',
            paper: Any = None,
            factory: Any = MISSING,
            must: Optional[str] = None,
            domain: Optional[Domain] = None) -> Any:
    """A settings field (see the module docstring); ``must`` says what a
    value must be where the type and domain do not, for error messages;
    ``domain`` the numbers it may be (each item's, for a tuple), checked
    when the settings are made."""
    return field(
        default=default,
        default_factory=factory,
        metadata=dict(doc=doc, source=source, paper=paper, must=must,
                      domain=domain))


def _describe(hint) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union:
        return ' or '.join(_describe(a) for a in args)
    if origin is tuple:
        return f'a list of {len(args)} numbers' if args[-1] is not ... \
            else 'a list of numbers'
    return {type(None): 'None', str: 'a string', bool: 'True or False',
            int: 'an integer', float: 'a number', dict: 'a dict'}.get(
                origin or hint, getattr(hint, '__name__', str(hint)))


def _option(name: str, bool_default: Optional[bool] = None) -> str:
    """The command-line option of setting ``name``; a boolean's turns its
    default ``bool_default`` around."""
    dashed = name.replace('_', '-')
    return f'--no-{dashed}' if bool_default else f'--{dashed}'


def _tuple_items(hint) -> Optional[type]:
    """The item type of ``Tuple[<int or float>, ...]``, else None."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and len(args) == 2 and \
            args[1] is ... and args[0] in (int, float):
        return args[0]
    return None


def _has_tuple(hint) -> bool:
    """Whether ``hint`` is a tuple type, or a union with one."""
    return typing.get_origin(hint) is tuple or any(
        typing.get_origin(a) is tuple for a in typing.get_args(hint))


def _conform(value: Any, hint) -> Any:
    """``value`` as type ``hint`` (lists as tuples; an int is accepted, and
    kept, as a float); ``TypeError`` when it is not one."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union:
        for option in args:
            try:
                return _conform(value, option)
            except TypeError:
                pass
        raise TypeError
    if hint is type(None):
        if value is None:
            return None
        raise TypeError
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or (args[-1] is not ... and
                                                    len(value) != len(args)):
            raise TypeError
        return tuple(_conform(v, args[0]) for v in value)
    if hint is float and isinstance(value, (int, float)) and \
            not isinstance(value, bool):
        return value
    if hint is int and isinstance(value, bool):
        raise TypeError
    if isinstance(value, origin or hint):
        return value
    raise TypeError


class Settings:
    """Construction from dicts with every key and value checked: types
    by :meth:`conformed`, domains and the rules between settings when an
    object is made (:meth:`_check` of a subclass)."""

    key = ''  # the prefix of its settings' names in messages

    def __post_init__(self) -> None:
        for f in fields(self):
            name = f'{self.key}.{f.name}' if self.key else f.name
            self.check_domain(f.name, getattr(self, f.name),
                              f'setting {name}')
        self._check()

    @classmethod
    def check_domain(cls, name: str, value: Any, label: str) -> None:
        """Refuse a ``value`` of setting ``name`` outside its domain (each
        item of a list), in a :class:`ConfigError` naming it ``label``."""
        domain = cls._field(name).metadata['domain']
        if domain is None or value is None:
            return
        if isinstance(value, (list, tuple)):
            domain.check_each(value, label)
        else:
            domain.check(value, label)

    def _check(self) -> None:
        """Refuse values that the domains allow but the rules between
        settings do not."""

    @classmethod
    def conformed(cls, values: dict, source: str) -> dict:
        """``values`` checked against the fields, lists as tuples.

        Raises:
            ConfigError: An unknown key or a value of the wrong type or
                domain, named with ``source`` and the setting (with its
                class's ``key`` as a prefix, ``random_walk.logt``).
        """
        prefix = f'{cls.key}.' if cls.key else ''
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f'{source}: unknown settings '
                              f'{[prefix + k for k in unknown]} (known: '
                              f'{sorted(known)})')
        hints = typing.get_type_hints(cls)
        conformed = {}
        for name, value in values.items():
            try:
                conformed[name] = _conform(value, hints[name])
                cls.check_domain(name, value,
                                 f'{source}: setting {prefix}{name}')
            except TypeError:
                meta = known[name].metadata
                must = meta['must'] or _describe(hints[name])
                if meta['domain'] is not None:
                    must = f'{must}, each {meta["domain"]}' if _has_tuple(
                        hints[name]) else str(meta['domain'])
                raise ConfigError(f'{source}: setting {prefix}{name} must be '
                                  f'{must}, got {value!r}') from None
        return conformed

    @classmethod
    def _field(cls, name: str):
        for f in fields(cls):
            if f.name == name:
                return f
        raise KeyError(f'{cls.__name__} has no setting {name}')

    @classmethod
    def domain(cls, name: str) -> Optional[Domain]:
        """The domain of setting ``name`` (None for one without)."""
        return cls._field(name).metadata.get('domain')

    @classmethod
    def default(cls, name: str) -> Any:
        """The default of setting ``name`` (e.g. for argparse)."""
        f = cls._field(name)
        return f.default if f.default_factory is MISSING else \
            f.default_factory()

    @classmethod
    def doc(cls, name: str) -> str:
        """The docstring line of setting ``name``."""
        return cls._field(name).metadata['doc']

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser,
                      names: Sequence[str]) -> None:
        """Add an option for each setting of ``names`` (a number, string,
        boolean or tuple of numbers of any length) with its type, default
        and doc: ``--<name>`` (``_`` as ``-``) taking one value or, for a
        tuple, one or more; for a boolean ``--no-<name>`` when it defaults
        to True and ``--<name>`` when it defaults to False.
        :meth:`arguments` gives them back."""
        hints = typing.get_type_hints(cls)
        for name in names:
            hint, items = hints[name], _tuple_items(hints[name])
            if hint not in (int, float, str, bool) and items is None:
                raise TypeError(f'setting {name} ({_describe(hint)}) has no '
                                'command-line option')
            default = cls.default(name)
            doc = cls.doc(name).replace('%', '%%')  # argparse's format
            if hint is bool:
                parser.add_argument(
                    _option(name, default), dest=name,
                    action='store_false' if default else 'store_true',
                    help=f'turn off: {doc}' if default else
                    f'{doc} (default off)')
            elif items is not None:
                parser.add_argument(
                    _option(name), nargs='+', type=items,
                    default=list(default), help=f'{doc} (default '
                    f'{" ".join(map(str, default))})')
            else:
                parser.add_argument(
                    _option(name), type=hint, default=default,
                    help=f'{doc} (default %(default)s)')

    def arguments(self, names: Sequence[str]) -> List[Any]:
        """The options of :meth:`add_arguments` that give this object's
        values of ``names``."""
        options = []
        for name in names:
            value = getattr(self, name)
            if isinstance(value, bool):
                if value != self.default(name):
                    options.append(_option(name, self.default(name)))
            elif isinstance(value, tuple):
                options += [_option(name), *value]
            else:
                options += [_option(name), value]
        return options

    def to_dict(self) -> dict:
        """Plain values (tuples as lists), as the frozen JSON holds them."""

        def plain(value):
            if isinstance(value, Settings):
                return value.to_dict()
            if isinstance(value, tuple):
                return [plain(v) for v in value]
            return value

        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}
