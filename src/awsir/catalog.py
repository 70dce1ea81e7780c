"""The catalog of AWS log sources: load and validate cards, look them up, find who answers what.

A card is ``sources/<id>/source.yaml`` validated against :class:`~awsir.sources.schema.SourceCard`.
Errors name the file, the line and the field (``path:12: delivery.max_minutes: ...``) so a
plugin author can fix a card without reading awsir's code.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from awsir import yamlio
from awsir.registry import Registry, Unit, default_registry
from awsir.sources.schema import SourceCard


class CatalogError(ValueError):
    """A source card that cannot be used; the message names file, line and field."""


@dataclass(frozen=True)
class Source:
    id: str
    card: SourceCard
    unit: Unit

    def card_value(self, path: str) -> Any:
        """The value at a dotted card path, e.g. ``delivery.latency``."""
        return value_at(self.card, path)

    def to_dict(self) -> dict[str, Any]:
        """The card as plain JSON-ready data, with its id and provider first."""
        return {"id": self.id, "provider": self.unit.provider, **self.card.model_dump(mode="json")}


def load_source(unit: Unit, known_ids: set[str] | None = None) -> Source:
    """Parse and validate one card; raise :class:`CatalogError` listing every problem.

    ``known_ids``, when given, are the ids ``related`` may name.
    """
    try:
        data, node = yamlio.load(unit.path)
    except (OSError, yamlio.YamlError) as exc:
        raise CatalogError(str(exc)) from None
    if not isinstance(data, dict):
        raise CatalogError(f"{unit.path}: a source card is a mapping of fields, got {data!r:.40}")
    try:
        card = SourceCard.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = [part for part in err["loc"] if not str(part).startswith("function-after")]
            where = ".".join(str(p) for p in loc) or "(card)"
            line = yamlio.line_of(node, loc)
            lines.append(f"{unit.path}:{line}: {where}: {err['msg']}")
        raise CatalogError("\n".join(lines)) from None
    unknown = [
        f"{unit.path}:{yamlio.line_of(node, ['related', i])}: related.{i}: "
        f"unknown source id {rid!r}"
        for i, rid in enumerate(card.related)
        if known_ids is not None and rid not in known_ids
    ]
    if unknown:
        raise CatalogError("\n".join(unknown))
    return Source(unit.id, card, unit)


@dataclass
class Catalog:
    sources: dict[str, Source] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Source]:
        return iter(self.sources.values())

    def __len__(self) -> int:
        return len(self.sources)

    def close_matches(self, wrong_id: str) -> list[str]:
        ids = list(self.sources)
        close = difflib.get_close_matches(wrong_id.lower(), ids, n=5, cutoff=0.5)
        prefix = [i for i in ids if wrong_id.lower() in i and i not in close]
        return close + prefix[: 5 - len(close)]


def load_catalog(registry: Registry | None = None) -> Catalog:
    """Every source of the registry that validates; the others become ``problems``."""
    registry = registry or default_registry()
    catalog = Catalog(problems=list(registry.problems_of("sources")))
    units = registry.of("sources")
    for unit in units.values():
        try:
            catalog.sources[unit.id] = load_source(unit, known_ids=set(units))
        except CatalogError as exc:
            catalog.problems.append(str(exc))
    return catalog


# --- "which source answers my question?" -------------------------------------------------------

_STOP = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "by", "did", "do", "does", "for", "from", "how"),
        *("i", "in", "is", "it", "my", "of", "on", "or", "the", "to", "was", "were", "what"),
        *("when", "where", "which", "who", "whom", "whose", "why", "with"),
    }
)
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _query_terms(query: str) -> list[str]:
    terms = [w for w in _words(query) if w not in _STOP]
    # A trailing plural 's' should not miss the singular ("objects" -> "object").
    return [t[:-1] if len(t) > 3 and t.endswith("s") and not t.endswith("ss") else t for t in terms]


@dataclass(frozen=True)
class Answer:
    source: Source
    score: int
    questions: list[str]


def _hits(term: str, words: list[str]) -> bool:
    return any(w.startswith(term) for w in words)


def find_answers(catalog: Catalog, query: str) -> list[Answer]:
    """Sources whose incident questions, title or description cover every term of ``query``.

    Questions weigh most: a source that lists "who read object X" answers "s3 object" better
    than one that merely mentions S3. Results are ranked, best first.
    """
    terms = _query_terms(query)
    if not terms:
        return []
    results = []
    for source in catalog:
        card = source.card
        fields = [
            (3, [(q, _words(q)) for q in card.answers]),
            (2, [(card.title, _words(f"{source.id} {card.title} {card.service} {card.log_type}"))]),
            (1, [(card.records, _words(card.records))]),
        ]
        score, matched = 0, []
        for term in terms:
            term_score = 0
            for weight, texts in fields:
                for text, words in texts:
                    if _hits(term, words):
                        term_score = max(term_score, weight)
                        if weight == 3 and text not in matched:
                            matched.append(text)
            if not term_score:
                break
            score += term_score
        else:
            strong = [q for q in matched if all(_hits(t, _words(q)) for t in terms)]
            results.append(Answer(source, score + 3 * len(strong), strong or matched))
    return sorted(results, key=lambda a: (-a.score, a.source.id))


GROUP = object()
"""Value of a heading row in :func:`field_rows`."""


def field_rows(model: BaseModel, depth: int = 0) -> Iterator[tuple[int, str, Any]]:
    """(depth, label, value) rows of a card in schema order, labels from the schema's titles.

    A nested group (delivery, retention...) yields a heading row whose value is :data:`GROUP`,
    then its fields one level deeper.
    """
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        label = info.title or name.replace("_", " ").capitalize()
        if isinstance(value, BaseModel):
            yield depth, label, GROUP
            yield from field_rows(value, depth + 1)
        else:
            yield depth, label, value


LISTING = ("title", "log_type", "default.enabled", "delivery.latency", "destinations")
"""Card fields shown in one-line-per-source listings (CLI table, docs index), after the id."""


def value_at(model: BaseModel, path: str) -> Any:
    for name in path.split("."):
        model = getattr(model, name)
    return model


def title_at(path: str, model: type[BaseModel] = SourceCard) -> str:
    """The schema's label for a dotted field path, e.g. ``default.enabled``."""
    *parents, last = path.split(".")
    for name in parents:
        model = model.model_fields[name].annotation  # type: ignore[assignment]
    return model.model_fields[last].title or last


def as_text(value: Any) -> str:
    """One-line text of a card value (lists joined with commas)."""
    if isinstance(value, list | tuple):
        return ", ".join(as_text(v) for v in value)
    return "none documented" if value is None else str(value)
