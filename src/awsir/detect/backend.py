"""Sigma rules as DuckDB SQL over a case's views: a pySigma ``TextQueryBackend``.

Sigma's semantics, in DuckDB terms (https://sigmahq.io/docs/basics/modifiers.html):

- string values match **case-insensitively**, whole value unless wildcards say otherwise:
  ``ILIKE`` with ``*``/``?`` as ``%``/``_`` and ``\\`` escaping literal ``%``, ``_`` and ``\\``;
- ``re`` is a regular expression searched in the value (``regexp_matches``, RE2);
- ``|fieldref`` compares two fields, ``null`` is ``IS NULL``, ``exists`` ``IS NOT NULL``;
- keywords (values without a field) are searched in the whole event: the row as text;
- a dotted field whose first part is a JSON column (CloudTrail's ``userIdentity.arn``,
  ``requestParameters.userName``) is read from that JSON (``json_extract_string``); the JSON
  column itself compares as its text, so ``requestParameters|contains`` searches inside it.

The backend is told the view a rule reads, its columns and which hold JSON, before each rule
(:meth:`DuckDBBackend.for_view`); a field the view does not have is an absent value (and is
listed in ``unknown_fields``), so such a condition is false rather than an error.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from sigma.conditions import ConditionAND, ConditionNOT, ConditionOR
from sigma.conversion.base import TextQueryBackend
from sigma.conversion.state import ConversionState
from sigma.rule import SigmaRule
from sigma.types import SigmaCompareExpression

from awsir.parse.sql import ident, literal

if TYPE_CHECKING:
    from awsir.detect.targets import Target

ROW = "e"
"""The alias of the view's row in every query (keywords search ``CAST(e AS VARCHAR)``)."""
_QUOTE_ESCAPED = re.compile(r"\\.")  # an escape and the character it escapes
_PATH_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UnknownField(ValueError):
    """A field the strict (OCSF) view has no equivalent for."""

    def __init__(self, name: str) -> None:
        super().__init__(f"field {name!r} has no equivalent in this view")
        self.field = name


class DuckDBBackend(TextQueryBackend):
    name: ClassVar[str] = "awsir DuckDB"
    formats: ClassVar[dict[str, str]] = {"default": "DuckDB SELECT over a case view"}
    requires_pipeline: ClassVar[bool] = False
    # rules a correlation counts are compiled whole too: awsir runs correlations itself
    finalize_correlation_subqueries = True

    precedence: ClassVar[tuple[type, type, type]] = (ConditionNOT, ConditionAND, ConditionOR)
    group_expression: ClassVar[str] = "({expr})"
    token_separator = " "
    or_token: ClassVar[str] = "OR"
    and_token: ClassVar[str] = "AND"
    not_token: ClassVar[str] = "NOT"
    eq_token: ClassVar[str] = " = "  # numbers
    eq_expression: ClassVar[str] = "{field} ILIKE {value} ESCAPE '\\'"  # strings, any case

    str_quote: ClassVar[str] = "'"
    escape_char: ClassVar[str] = "\\"
    wildcard_multi: ClassVar[str] = "%"
    wildcard_single: ClassVar[str] = "_"
    add_escaped: ClassVar[str] = "\\"
    filter_chars: ClassVar[str] = ""
    bool_values: ClassVar[dict[bool, str | None]] = {True: "true", False: "false"}

    wildcard_match_expression: ClassVar[str] = "{field} ILIKE {value} ESCAPE '\\'"
    re_expression: ClassVar[str] = "regexp_matches({field}, '{regex}')"  # RE2, searched
    re_escape_char: ClassVar[str] = "'"  # a quote in a regex is doubled, as SQL text wants
    re_escape: ClassVar[list[str]] = ["'"]
    re_escape_escape_char = False
    case_sensitive_match_expression: ClassVar[str] = "{field} LIKE {value} ESCAPE '\\'"
    case_sensitive_startswith_expression: ClassVar[str] = "starts_with({field}, {value})"
    case_sensitive_endswith_expression: ClassVar[str] = "ends_with({field}, {value})"
    case_sensitive_contains_expression: ClassVar[str] = "contains({field}, {value})"
    # no native CIDR test in DuckDB without the inet extension: pySigma expands a network into
    # the address prefixes it covers (10.0.0.0/8 -> '10.%'), matched like any wildcard
    cidr_expression: ClassVar[str | None] = None
    compare_op_expression: ClassVar[str] = "{field} {operator} {value}"
    compare_operators: ClassVar[dict[Any, str]] = {
        SigmaCompareExpression.CompareOperators.LT: "<",
        SigmaCompareExpression.CompareOperators.LTE: "<=",
        SigmaCompareExpression.CompareOperators.GT: ">",
        SigmaCompareExpression.CompareOperators.GTE: ">=",
    }
    field_equals_field_expression: ClassVar[str] = "{field1} = {field2}"
    field_null_expression: ClassVar[str] = "{field} IS NULL"
    field_exists_expression: ClassVar[str] = "{field} IS NOT NULL"
    field_not_exists_expression: ClassVar[str] = "{field} IS NULL"
    convert_or_as_in: ClassVar[bool] = False  # IN would compare case-sensitively
    convert_and_as_in: ClassVar[bool] = False
    unbound_value_str_expression: ClassVar[str] = (
        f"CAST({ROW} AS VARCHAR) ILIKE '%' || {{value}} || '%' ESCAPE '\\'"
    )
    unbound_value_num_expression: ClassVar[str] = f"CAST({ROW} AS VARCHAR) LIKE '%{{value}}%'"
    unbound_value_re_expression: ClassVar[str] = (
        f"regexp_matches(CAST({ROW} AS VARCHAR), {{value}})"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.view = "events"
        self.json_columns: frozenset[str] | set[str] = set()
        self.struct_columns: frozenset[str] | set[str] = set()
        self.columns: frozenset[str] | set[str] = set()
        self.strict = False
        self.unknown_fields: set[str] = set()  # fields of the last rules the view lacks
        self.last_condition: str | None = None  # the WHERE of the last rule converted

    def for_view(
        self, view: str, columns: set[str] | frozenset[str], json_columns: set[str] | frozenset[str]
    ) -> DuckDBBackend:
        """Compile the next rules against ``view`` (its columns and which hold JSON)."""
        self.view, self.columns, self.json_columns = view, columns, json_columns
        self.struct_columns, self.strict = set(), False
        self.unknown_fields = set()
        return self

    def for_target(self, target: Target) -> DuckDBBackend:
        """Compile the next rules against a resolved :class:`~awsir.detect.targets.Target`."""
        self.for_view(target.view, target.columns, target.json_columns)
        self.struct_columns, self.strict = target.struct_columns, target.strict
        return self

    def escape_and_quote_field(self, field_name: str) -> str:
        head, _, rest = field_name.partition(".")
        if head in self.json_columns:
            if not rest:
                return f"CAST({ident(head)} AS VARCHAR)"
            keys = rest.split(".")
            path = "$" + "".join(
                f".{k}" if _PATH_KEY.match(k) else '."' + k.replace('"', '\\"') + '"' for k in keys
            )
            return f"json_extract_string({ident(head)}, {literal(path)})"
        if rest and head in self.struct_columns:  # OCSF objects: actor.user.uid
            return ".".join([ROW, ident(head), *(ident(k) for k in rest.split("."))])
        if self.columns and field_name not in self.columns:
            if self.strict:
                raise UnknownField(field_name)
            # a field the logs never carry is absent from every event, as Sigma reads it: a
            # condition on it is false, never an error that would hide the rule's other matches
            self.unknown_fields.add(field_name)
            return "CAST(NULL AS VARCHAR)"
        return ident(field_name)

    def convert_value_str(self, s: Any, state: ConversionState) -> str:
        """A quoted SQL string: pySigma escapes the quote with the escape character (``\\'``),
        SQL doubles it (``''``); escaped wildcards and backslashes stay for ``ESCAPE '\\'``."""
        quoted = super().convert_value_str(s, state)
        return _QUOTE_ESCAPED.sub(lambda m: "''" if m.group(0) == "\\'" else m.group(0), quoted)

    def finalize_query_default(
        self, rule: SigmaRule, query: Any, index: int, state: ConversionState
    ) -> str:
        self.last_condition = str(query)
        return f"SELECT * FROM {ident(self.view)} AS {ROW} WHERE {query}"
