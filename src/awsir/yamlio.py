"""Read YAML unit definitions with YAML 1.2 booleans and line numbers for error messages.

Why not plain ``yaml.safe_load``: PyYAML implements YAML 1.1, where ``yes``, ``no``, ``on`` and
``off`` are booleans. The catalog says "enabled by default: no" and means the word, so only
``true``/``false`` are booleans here (as in YAML 1.2). Errors must name the file, the line and the
field, so the node tree is kept to map a field path back to its line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x


class UnitLoader(_BASE):  # type: ignore[valid-type,misc]
    """SafeLoader whose implicit booleans are only ``true`` and ``false``."""


UnitLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
UnitLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class YamlError(ValueError):
    """A YAML file that cannot be read, with the file and line in the message."""


def _no_duplicate_keys(node: yaml.Node | None, path: Path) -> None:
    """PyYAML keeps the last of two equal keys; in a card that silently drops a fact."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.value in seen:
                raise YamlError(
                    f"{path}:{line}: duplicate key {key.value!r} (first on line {seen[key.value]})"
                )
            seen[key.value] = line
            _no_duplicate_keys(value, path)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _no_duplicate_keys(item, path)


def load(path: Path) -> tuple[Any, yaml.Node | None]:
    """Return the parsed document and its node tree (for :func:`line_of`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        loader = UnitLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(f"{where}: invalid YAML: {problem}") from None
    _no_duplicate_keys(node, path)
    return data, node


def line_of(node: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """1-based line of the deepest field along ``loc`` (a pydantic error location).

    For a mapping key the line is where the key is written, so a missing sub-field points at
    its parent's key.
    """
    best = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == key), None)
            if pair is None:
                break
            best, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            best = node.start_mark.line + 1
        else:
            break
    return best


def load_model(path: Path, model: type[M]) -> tuple[M, yaml.Node | None]:
    """Read ``path`` and validate it as ``model``; each problem reads ``file:line: field: why``."""
    try:
        data, node = load(path)
    except OSError as exc:
        raise YamlError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not isinstance(data, dict):
        raise YamlError(f"{path}: expected a mapping of fields, got {data!r:.40}")
    try:
        return model.model_validate(data), node
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = [part for part in err["loc"] if not str(part).startswith("function-after")]
            where = ".".join(str(p) for p in loc) or "(top level)"
            lines.append(f"{path}:{line_of(node, loc)}: {where}: {err['msg']}")
        raise YamlError("\n".join(lines)) from None
