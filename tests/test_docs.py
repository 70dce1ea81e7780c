"""docs/sources.md is generated from the registry and must not drift from it."""

from __future__ import annotations

from awsir.catalog import load_catalog
from awsir.docs import FORMATS_MD, SOURCES_MD, main, render_formats_md, render_sources_md


def test_sources_md_matches_the_catalog():
    expected = render_sources_md(load_catalog())
    assert SOURCES_MD.read_text(encoding="utf-8") == expected, (
        "docs/sources.md is stale: run .venv/bin/python -m awsir.docs"
    )


def test_every_source_has_a_section_and_index_row():
    text = SOURCES_MD.read_text(encoding="utf-8")
    for source in load_catalog():
        assert f'<a id="{source.id}"></a>' in text
        assert f"[`{source.id}`](#{source.id})" in text


def test_formats_md_matches_the_definitions():
    assert FORMATS_MD.read_text(encoding="utf-8") == render_formats_md(load_catalog()), (
        "docs/formats.md is stale: run .venv/bin/python -m awsir.docs"
    )


def test_every_table_is_documented():
    text = FORMATS_MD.read_text(encoding="utf-8")
    for source in load_catalog():
        for name in source.parse.tables if source.parse else {}:
            assert f"## `{name}` (" in text


def test_check_mode_detects_drift(tmp_path, capsys):
    (tmp_path / "sources.md").write_text("old\n")
    assert main(["--check", "--dir", str(tmp_path)]) == 1
    assert main(["--dir", str(tmp_path)]) == 0
    assert main(["--check", "--dir", str(tmp_path)]) == 0


def test_pipes_in_values_do_not_break_the_index_table():
    for line in SOURCES_MD.read_text(encoding="utf-8").splitlines():
        if line.startswith("| [`"):
            assert line.replace("\\|", "").count("|") == 7, line
