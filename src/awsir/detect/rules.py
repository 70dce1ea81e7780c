"""Sigma rules as awsir loads them: the built-in ones (``awsir/rules/**/*.yml`` and plugins'
``awsir.rules``) and any file or folder a responder names, each rule tied to its file.

A file may hold several YAML documents (a correlation rule and the rules it counts). Correlation
rules find the rules they name in any loaded file. A file or rule that does not load is a
:class:`RuleProblem` naming the file and the reason; it never stops the other rules.

A built-in rule keeps its cases next to it: ``<id>.positive.<ext>`` must fire and
``<id>.negative.<ext>`` must not (``awsir rules test``). ``<id>.positive.<source>.<ext>`` names the
source whose format the case is in when the content alone does not say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.rule import SigmaLevel, SigmaRule

from awsir.findings import Severity
from awsir.registry import Registry, default_registry

SEVERITY = {
    SigmaLevel.INFORMATIONAL: Severity.info, SigmaLevel.LOW: Severity.low,
    SigmaLevel.MEDIUM: Severity.medium, SigmaLevel.HIGH: Severity.high,
    SigmaLevel.CRITICAL: Severity.critical,
}  # fmt: skip
CASE_KINDS = ("positive", "negative")
_TECHNIQUE = re.compile(r"^attack\.(t\d{4}(\.\d{3})?)$", re.IGNORECASE)


@dataclass
class RuleProblem:
    path: Path
    reason: str
    rule: str | None = None  # the rule's id when the file itself loaded

    def __str__(self) -> str:
        return f"{self.path}: {self.rule + ': ' if self.rule else ''}{self.reason}"


@dataclass
class Rule:
    id: str
    sigma: SigmaRule | SigmaCorrelationRule
    path: Path
    provider: str  # awsir, a plugin's distribution, or "--rules"
    referenced_only: bool = False  # counted by a correlation, not reported alone
    cases: dict[str, list[Path]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return str(self.sigma.title)

    @property
    def severity(self) -> Severity:
        return (
            SEVERITY.get(self.sigma.level, Severity.medium) if self.sigma.level else Severity.medium
        )

    @property
    def attack(self) -> list[str]:
        found = (_TECHNIQUE.match(f"{t.namespace}.{t.name}") for t in self.sigma.tags or [])
        return [m.group(1).upper() for m in found if m]

    @property
    def kind(self) -> str:
        if isinstance(self.sigma, SigmaCorrelationRule):
            return f"correlation:{self.sigma.type.name.lower()}"
        return "rule"

    @property
    def logsource(self) -> str:
        if isinstance(self.sigma, SigmaCorrelationRule):
            return ", ".join(ref.rule.title for ref in self.sigma.rules or [] if ref.rule)
        ls = self.sigma.logsource
        return " ".join(f"{k}:{v}" for k, v in
                        (("product", ls.product), ("service", ls.service),
                         ("category", ls.category)) if v)  # fmt: skip

    def meta(self) -> dict[str, object]:
        return {
            "id": self.id, "title": self.title, "severity": str(self.severity),
            "kind": self.kind, "logsource": self.logsource, "attack": self.attack,
            "description": self.sigma.description, "path": str(self.path),
            "provider": self.provider, "sigma_id": str(self.sigma.id) if self.sigma.id else None,
            "status": str(self.sigma.status.name.lower()) if self.sigma.status else None,
            "cases": {k: [p.name for p in v] for k, v in self.cases.items()},
        }  # fmt: skip


def rule_files(paths: list[Path]) -> tuple[list[Path], list[RuleProblem]]:
    """The ``.yml``/``.yaml`` files under ``paths`` (files or folders), sorted, once each."""
    found: dict[Path, None] = {}
    problems = []
    for path in paths:
        if path.is_dir():
            for f in sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml")):
                if not any(part.startswith(".") for part in f.relative_to(path).parts):
                    found.setdefault(f, None)
        elif path.is_file():
            found.setdefault(path, None)
        else:
            problems.append(RuleProblem(path, "no such file or folder"))
    return list(found), problems


def _cases(path: Path, stem: str) -> dict[str, list[Path]]:
    cases: dict[str, list[Path]] = {}
    for kind in CASE_KINDS:
        files = sorted(path.parent.glob(f"{stem}.{kind}.*"))
        if files:
            cases[kind] = files
    return cases


def _load_file(path: Path) -> tuple[list[SigmaRule | SigmaCorrelationRule], list[RuleProblem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [RuleProblem(path, f"unreadable: {exc}")]
    try:
        collection = SigmaCollection.from_yaml(
            text, collect_errors=True, source=SigmaRuleLocation(path), resolve_references=False
        )
    except Exception as exc:  # noqa: BLE001 - YAML errors come as many types; each is one line
        return [], [RuleProblem(path, _one_line(exc))]
    problems = []
    good = []
    for rule in collection.rules:
        if rule.errors:
            problems.append(RuleProblem(path, _one_line(rule.errors[0]), str(rule.title)))
        else:
            good.append(rule)
    said = {p.reason for p in problems}  # pySigma lists a rule's errors for the file too
    problems += [RuleProblem(path, r) for e in collection.errors if (r := _one_line(e)) not in said]
    return good, problems


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def load_rules(
    paths: list[Path] | None = None, *, builtin: bool = True, registry: Registry | None = None
) -> tuple[list[Rule], list[RuleProblem]]:
    """Every rule of the built-in set (unless ``builtin`` is false) and of ``paths``."""
    sources: list[tuple[Path, str]] = []
    if builtin:
        units = (registry or default_registry()).of("rules")
        sources += [(u.path, u.provider) for u in sorted(units.values(), key=lambda u: u.id)]
    files, problems = rule_files(list(paths or []))
    seen = {p.resolve() for p, _ in sources}
    sources += [(f, "--rules") for f in files if f.resolve() not in seen]
    rules: list[Rule] = []
    ids: set[str] = set()
    for path, provider in sources:
        loaded, found = _load_file(path)
        problems += found
        stem = path.name.split(".", 1)[0]
        named = [r for r in loaded if isinstance(r, SigmaCorrelationRule)] or loaded
        for k, sigma in enumerate(loaded):
            rule_id = (
                stem
                if len(loaded) == 1 or (len(named) == 1 and sigma is named[0])
                else (f"{stem}:{sigma.name or k + 1}")
            )
            if rule_id in ids:
                problems.append(RuleProblem(path, f"a rule with id {rule_id!r} is already loaded"))
                continue
            ids.add(rule_id)
            cases = _cases(path, stem) if rule_id == stem else {}
            rules.append(Rule(rule_id, sigma, path, provider, cases=cases))
    return resolve_references(rules, problems)


def resolve_references(
    rules: list[Rule], problems: list[RuleProblem]
) -> tuple[list[Rule], list[RuleProblem]]:
    """Correlation rules find the rules they count, by name or id, among all loaded rules."""
    collection = SigmaCollection([r.sigma for r in rules], resolve_references=False)
    kept = []
    referenced: set[int] = set()
    for rule in rules:
        if isinstance(rule.sigma, SigmaCorrelationRule):
            try:
                rule.sigma.resolve_rule_references(collection)
            except SigmaError as exc:
                problems.append(RuleProblem(rule.path, _one_line(exc), rule.id))
                continue
            if not rule.sigma.generate:
                referenced.update(id(ref.rule) for ref in rule.sigma.rules or [])
        kept.append(rule)
    for rule in kept:
        rule.referenced_only = id(rule.sigma) in referenced
    return kept, problems
