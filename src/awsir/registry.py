"""Discover awsir units — log sources, readiness checks, detection rules — built in or from plugins.

One mechanism for both: a *provider* is a Python package whose folder holds units laid out as the
unit kind prescribes (``<id>/source.yaml`` for sources). awsir's own packages are the first
providers; a third-party distribution adds one by declaring an entry point whose value names its
package, in the group of the kind (``awsir.sources``, ``awsir.checks``, ``awsir.rules``)::

    [project.entry-points."awsir.sources"]
    mycorp = "mycorp_awsir.sources"

Ids come from folder and file names and are never restated inside a unit. Discovery only locates
packages (``importlib.util.find_spec``), so listing units runs no plugin code. Problems (a bad
entry point, an id clash, a badly named folder) are collected, not raised: one broken plugin must
not hide the rest of the catalog.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path, PurePosixPath

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
BUILTIN = "awsir"


@dataclass(frozen=True)
class Kind:
    """A kind of unit: where built-ins live, which entry-point group adds more, how ids read."""

    name: str
    group: str
    builtin: str | None
    pattern: str
    id_of: Callable[[PurePosixPath], str]


def _first_part(rel: PurePosixPath) -> str:
    return rel.parts[0]


def _stem(rel: PurePosixPath) -> str:
    return rel.name.split(".", 1)[0]


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("sources", "awsir.sources", "awsir.sources", "*/source.yaml", _first_part),
        Kind("hunts", "awsir.hunts", "awsir.hunts", "*.sql", _stem),
        Kind("checks", "awsir.checks", "awsir.checks", "*/*.py", _stem),
        Kind("rules", "awsir.rules", "awsir.rules", "**/*.yml", _stem),
    )
}


@dataclass(frozen=True)
class Unit:
    """One discovered unit: its id (from its path), its file, and who provides it."""

    kind: str
    id: str
    path: Path
    provider: str


@dataclass
class Registry:
    """Units by kind and id, plus the problems met while discovering them."""

    units: dict[str, dict[str, Unit]] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)

    def of(self, kind: str) -> dict[str, Unit]:
        return self.units.get(kind, {})

    def problems_of(self, kind: str) -> list[str]:
        return self.problems.get(kind, [])


@dataclass(frozen=True)
class Provider:
    name: str
    package: str


def _package_dirs(package: str) -> list[Path]:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"{package!r} is not an importable package")
    return [Path(p) for p in spec.submodule_search_locations]


def _walk(kind: Kind, provider: Provider, registry: Registry) -> None:
    problems = registry.problems[kind.name]
    try:
        roots = _package_dirs(provider.package)
    except (ImportError, LookupError, ValueError) as exc:
        problems.append(f"entry point {kind.group} of {provider.name!r}: {exc}")
        return
    found = registry.units[kind.name]
    for root in roots:
        for path in sorted(root.glob(kind.pattern)):
            rel = PurePosixPath(path.relative_to(root).as_posix())
            if any(part.startswith(("_", ".")) for part in rel.parts):
                continue
            unit_id = kind.id_of(rel)
            if not _ID.match(unit_id):
                problems.append(f"{path}: id {unit_id!r} (from the path) must match {_ID.pattern}")
                continue
            if unit_id in found:
                other = found[unit_id]
                problems.append(
                    f"{path}: {kind.name[:-1]} id {unit_id!r} from {provider.name!r} is already "
                    f"provided by {other.provider!r} ({other.path}); ignored"
                )
                continue
            found[unit_id] = Unit(kind.name, unit_id, path, provider.name)


def _plugin_providers(eps: Iterable[EntryPoint]) -> list[Provider]:
    providers = []
    for ep in sorted(eps, key=lambda e: (e.dist.name if e.dist else "", e.name)):
        name = ep.dist.name if ep.dist else ep.name
        providers.append(Provider(name, ep.value.split(":", 1)[0].strip()))
    return providers


def discover(eps: Iterable[EntryPoint] | None = None) -> Registry:
    """Find every unit of every kind: built-ins first, then plugins in a stable order.

    ``eps`` replaces the environment's entry points (for tests of the mechanism itself).
    """
    given = None if eps is None else list(eps)
    registry = Registry()
    for kind in KINDS.values():
        registry.units[kind.name] = {}
        registry.problems[kind.name] = []
        providers = [Provider(BUILTIN, kind.builtin)] if kind.builtin else []
        group = (
            entry_points(group=kind.group)
            if given is None
            else [ep for ep in given if ep.group == kind.group]
        )
        for provider in _plugin_providers(group):
            if provider.package != kind.builtin:
                providers.append(provider)
        for provider in providers:
            _walk(kind, provider, registry)
    return registry


@cache
def default_registry() -> Registry:
    """The registry of this Python environment, discovered once per process."""
    return discover()
