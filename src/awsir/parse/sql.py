"""Quoting for generated DuckDB SQL: field names and values come from definitions and logs."""

from __future__ import annotations


def ident(name: str) -> str:
    """A quoted identifier (AWS field names contain '-', ':', '(' and spaces)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted string literal."""
    return "'" + text.replace("'", "''") + "'"
