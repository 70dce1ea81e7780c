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

from pydantic import BaseModel

from awsir import yamlio
from awsir.parse.spec import ParseSpec
from awsir.registry import Registry, Unit, default_registry
from awsir.sources.schema import SourceCard

PARSE_FILE = "parse.yaml"
"""Beside ``source.yaml``: the source's format definition, when awsir can read its files."""


class CatalogError(ValueError):
    """A source card that cannot be used; the message names file, line and field."""


@dataclass(frozen=True)
class Source:
    id: str
    card: SourceCard
    unit: Unit
    parse: ParseSpec | None = None

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
        card, node = yamlio.load_model(unit.path, SourceCard)
        parse_path = unit.path.with_name(PARSE_FILE)
        parse = yamlio.load_model(parse_path, ParseSpec)[0] if parse_path.exists() else None
    except yamlio.YamlError as exc:
        raise CatalogError(str(exc)) from None
    unknown = [
        f"{unit.path}:{yamlio.line_of(node, ['related', i])}: related.{i}: "
        f"unknown source id {rid!r}"
        for i, rid in enumerate(card.related)
        if known_ids is not None and rid not in known_ids
    ]
    if unknown:
        raise CatalogError("\n".join(unknown))
    return Source(unit.id, card, unit, parse)


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


_SAME = (
    # Words AWS and responders use interchangeably; a query word matches any of its group.
    ("login", "logon", "signin", "sign", "logged"),
)


def _query_terms(query: str) -> list[tuple[str, ...]]:
    """Each query word with the words that count as the same (plural 's' dropped)."""
    terms = []
    for word in _words(query):
        if word in _STOP:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]  # "objects" -> "object"
        group = next((g for g in _SAME if word in g), ())
        terms.append((word, *(w for w in group if w != word)))
    return terms


@dataclass(frozen=True)
class Answer:
    source: Source
    score: int
    questions: list[str]


def _hits(term: tuple[str, ...], words: list[str]) -> bool:
    """A word matches a term when it starts with it; a short term ("ran", "ip") may only be
    followed by two more letters ("ipv4", not "random")."""
    return any(
        w.startswith(t) and (len(t) >= 4 or len(w) - len(t) <= 2) for t in term for w in words
    )


def find_answers(catalog: Catalog, query: str) -> list[Answer]:
    """Sources that answer ``query``, best first, with the questions that matched best.

    Each of the source's incident questions is read together with the source's topic (id, title,
    service, log type) and, last, its description: a query word found in the question weighs 3,
    in the topic 2, in the description 1, and every word must be found. A source scores as its
    best question, so "s3 object" prefers "Who read object X?" on an S3 card over a card whose
    questions mention S3 and objects separately.
    """
    terms = _query_terms(query)
    if not terms:
        return []
    results = []
    for source in catalog:
        card = source.card
        topic = _words(f"{source.id} {card.title} {card.service} {card.log_type}")
        described = _words(card.records)
        scored: list[tuple[int, str | None]] = []
        for question in [*card.answers, None]:
            asked = _words(question) if question else []
            weights = [
                3 if _hits(t, asked) else 2 if _hits(t, topic) else 1 if _hits(t, described) else 0
                for t in terms
            ]
            if all(weights):
                scored.append((sum(weights), question if 3 in weights else None))
        if scored:
            best = max(score for score, _ in scored)
            questions = [q for score, q in scored if score == best and q is not None]
            results.append(Answer(source, best, questions))
    # Ties: the source with more questions about it is the more central one.
    return sorted(results, key=lambda a: (-a.score, -len(a.questions), a.source.id))


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
