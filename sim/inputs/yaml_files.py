"""YAML read strictly: files (with a safe loader that refuses duplicate keys), and single values typed on the
command line. Any problem becomes a one-line :class:`~sim.core.errors.ConfigError`.

Numbers are read as YAML 1.2's core schema writes them, in files and on the command line alike (``1e-3`` is a
number, as ``1.0e-3`` is; :data:`INTEGER`, :data:`FLOAT`); booleans, nulls and dates as PyYAML's YAML 1.1 reads them.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import os
import re
import stat as stat_module
import sys
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import ConfigError
from ..core.vocabulary import MAX_YAML_BYTES, MAX_YAML_EXPANDED


class StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml's parser: 20x faster
    """A safe loader that refuses duplicate keys (PyYAML would keep the last one silently), and reads numbers as
    YAML 1.2's core schema writes them (:data:`INTEGER`, :data:`FLOAT`)."""


INT_TAG, FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
#: Integers as YAML 1.2's core schema writes them, decimal, ``0o`` octal or ``0x`` hexadecimal, except that a decimal
#: with a leading zero (``010``) is not read as a number: YAML 1.1 (PyYAML's own resolver) reads it as octal, 8, and
#: 1.2 as 10, so where a number is expected it is refused rather than read as either. YAML 1.1's ``1_000``,
#: ``0b11`` and ``1:30`` are text, as in 1.2.
INTEGER = re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+)$")
#: Floats as YAML 1.2's core schema writes them: an exponent needs neither a dot nor a sign (``1e-3``, ``1E3``; YAML
#: 1.1 read both as text, and ``1.0e-3`` as a number), a dot needs no digit before it (``-.5``). Whole numbers
#: without an exponent are :data:`INTEGER`'s.
FLOAT = re.compile(r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
                   r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
# YAML 1.1's booleans (yes, on, ...), nulls and timestamps stay as PyYAML reads them: only the numbers change.
StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in (INT_TAG, FLOAT_TAG)]
    for first, resolvers in StrictLoader.yaml_implicit_resolvers.items()}
StrictLoader.add_implicit_resolver(INT_TAG, INTEGER, list("-+0123456789"))
StrictLoader.add_implicit_resolver(FLOAT_TAG, FLOAT, list("-+0123456789."))


class _TooLong(yaml.constructor.ConstructorError):
    """An integer with more digits than Python converts (``sys.get_int_max_str_digits``): refused, not an internal
    error."""


def _integer(loader: StrictLoader, node: yaml.ScalarNode) -> int:
    """An integer as :data:`INTEGER` writes it (or as an explicit ``!!int`` tag's text, in Python's forms)."""
    text = str(loader.construct_scalar(node)).strip()
    digits, most = len(text.lstrip("-+")), sys.get_int_max_str_digits()
    if 0 < most < digits:
        raise _TooLong(None, None, f"an integer of {digits:,} digits; at most {most:,} are read", node.start_mark)
    try:
        return int(text, 16 if text.startswith("0x") else 8 if text.startswith("0o") else 10)
    except ValueError:
        raise yaml.constructor.ConstructorError(None, None, f"expected an integer, found {text!r}",
                                                node.start_mark) from None


StrictLoader.add_constructor(INT_TAG, _integer)


def _mapping(loader: StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            found = type(key).__name__
            raise yaml.constructor.ConstructorError(None, None, f"a key must be a plain value, found {found}",
                                                    key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen[key] = loader.construct_object(value_node, deep=True)
    return seen


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_yaml(path: Path) -> Any:
    """Read a YAML file with the strict safe loader.

    Parsed files are cached by path, size and modification time (a sweep reads the same files for
    every point); each call returns its own copy.
    """
    status = regular_file(path)
    key = (str(path), status.st_size, status.st_mtime_ns)
    if key in _PARSED:
        return copy.deepcopy(_PARSED[key])
    document = _parse_yaml(path)
    if len(_PARSED) > 64:
        _PARSED.clear()
    _PARSED[key] = copy.deepcopy(document)
    return document


_PARSED: dict[tuple[str, int, int], Any] = {}


#: What :func:`regular_file` says a file was expected to be, unless told.
YAML_FILE = "a YAML file"


def regular_file(path: Path, limit: int = MAX_YAML_BYTES, expected: str = YAML_FILE) -> os.stat_result:
    """``path``'s status, if it is a regular file of at most ``limit`` bytes; otherwise a ConfigError saying what
    it is instead, and that ``expected`` was.

    A FIFO, a device (``/dev/zero``) or a socket is refused from its status, before it is opened: reading one
    could block forever or never end. So is a file too large, before it is read.
    """
    try:
        status = path.stat()
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except (OSError, ValueError) as error:  # a symlink loop, a NUL character, a name too long
        raise ConfigError(path, "", f"cannot be read ({_reason(error)})") from None
    if stat_module.S_ISDIR(status.st_mode):
        raise ConfigError(path, "", f"is a folder, expected {expected}")
    if not stat_module.S_ISREG(status.st_mode):
        raise ConfigError(path, "", f"is {_kind(status.st_mode)}, not a regular file; expected {expected}")
    if status.st_size > limit:
        raise ConfigError(path, "", f"is {status.st_size:,} bytes; at most {limit:,} are read")
    return status


def _kind(mode: int) -> str:
    kinds = {stat_module.S_ISFIFO: "a FIFO (named pipe)", stat_module.S_ISCHR: "a character device",
             stat_module.S_ISBLK: "a block device", stat_module.S_ISSOCK: "a socket"}
    return next((name for test, name in kinds.items() if test(mode)), "a special file")


def _reason(error: OSError | ValueError) -> str:
    if isinstance(error, OSError) and error.errno == errno.ELOOP:
        return "a loop of symbolic links"
    return f"{error.__class__.__name__}: {error.strerror if isinstance(error, OSError) and error.strerror else error}"


def read_bounded(path: Path, limit: int = MAX_YAML_BYTES, expected: str = YAML_FILE) -> bytes:
    """At most ``limit`` bytes of the regular file ``path`` (a ConfigError if it is not one, or is longer).

    Opened without blocking and checked again once open, so a file swapped for a FIFO in between cannot hang it.
    """
    regular_file(path, limit, expected)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise ConfigError(path, "", f"cannot be read ({_reason(error)})") from None
    with os.fdopen(descriptor, "rb") as file:
        if not stat_module.S_ISREG(os.fstat(descriptor).st_mode):
            raise ConfigError(path, "", f"is not a regular file; expected {expected}")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ConfigError(path, "", f"is more than {limit:,} bytes; at most {limit:,} are read")
    return data


def _parse_yaml(path: Path) -> Any:
    try:
        text = read_bounded(path).decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(path, "", f"cannot be read ({error.__class__.__name__}: {error})") from None
    except OSError as error:
        raise ConfigError(path, "", f"cannot be read ({_reason(error)})") from None
    return _load(text, path, "")


def _load(text: str, file: Path | str, key: str) -> Any:
    """``text`` as one YAML document, refused if aliases would expand it beyond :data:`MAX_YAML_EXPANDED`."""
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = expanded_size(node, MAX_YAML_EXPANDED)
        if size > MAX_YAML_EXPANDED:
            raise ConfigError(file, key, f"expands to more than {MAX_YAML_EXPANDED:,} nodes, characters and levels "
                                         f"of nesting, each alias counted as a copy (an alias bomb, or too deep)")
        return loader.construct_document(node)
    except _TooLong as error:  # said as it is, where it is, not as "not valid YAML" with the digits
        mark = error.problem_mark
        raise ConfigError(file, key or (f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""),
                          str(error.problem)) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(file, f"{key} {where}".strip(), f"not valid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(file, key, "not valid YAML: nested too deeply") from None
    finally:
        loader.dispose()


def expanded_size(root: yaml.Node, limit: int) -> int:
    """The size of the document under ``root`` as a copy would be, each alias expanded into the node it names:
    a scalar's characters, one for every node, and two for every level each node is nested (the indentation a
    run's metadata.json writes it with; so deep nesting is counted as well as aliases).

    Counted without expanding: each node's totals (nodes, characters, and the sum of its nodes' depths below it)
    are kept from the first time it is met. Stopped once past ``limit``; an alias inside the node it names is past.
    """
    totals: dict[int, tuple[int, int, int] | None] = {}  # node -> (nodes, characters, depths); None: being counted
    past = (limit + 1, 0, 0)

    def count(node: yaml.Node) -> tuple[int, int, int]:
        if id(node) in totals:
            return totals[id(node)] or past  # None: the alias is inside the node it names
        if isinstance(node, yaml.ScalarNode):
            return 1, len(node.value), 0
        totals[id(node)] = None
        nodes, characters, depths = 1, 0, 0
        children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
        for child in children:
            n, c, d = count(child)
            nodes, characters, depths = nodes + n, characters + c, depths + d + n  # its nodes lie one level deeper
            if nodes + characters + 2 * depths > limit:
                break
        totals[id(node)] = (nodes, characters, depths)
        return nodes, characters, depths

    nodes, characters, depths = count(root)
    return nodes + characters + 2 * depths


def parse_value(text: str, key: str) -> Any:
    """A value typed on the command line (``0.3``, ``two_thirds``, ``[2016, 2017]``), read as YAML.

    ``key`` names the option in the message if it is not valid YAML.
    """
    if len(text) > MAX_YAML_BYTES:
        raise ConfigError("command line", key, f"the value is {len(text):,} characters; at most {MAX_YAML_BYTES:,}")
    try:
        return _load(text, "command line", key)
    except ConfigError as error:
        if "not valid YAML" in error.message:
            raise ConfigError("command line", key, f"value {text!r} is not a valid YAML value") from None
        raise


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, which a run's metadata and a sweep's manifest record of its scenario."""
    return hashlib.sha256(read_bounded(path)).hexdigest()


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``--set PATH=VALUE`` options as {dotted path: value}."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        path, sep, text = pair.partition("=")
        if not sep or not path:
            raise ConfigError(
                "command line", f"--set {pair}", "expected PATH=VALUE, e.g. members.russia.weights.economic=0.3"
            )
        overrides[path.strip()] = parse_value(text, f"--set {path}")
    return overrides
