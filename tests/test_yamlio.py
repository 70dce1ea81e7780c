from __future__ import annotations

import pytest

from awsir import yamlio


def test_only_true_false_are_booleans(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: yes\nb: no\nc: on\nd: off\ne: true\nf: false\ng: 'no'\n")
    data, _ = yamlio.load(path)
    assert data == {"a": "yes", "b": "no", "c": "on", "d": "off", "e": True, "f": False, "g": "no"}


def test_line_of_follows_mappings_and_lists(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("top: 1\nnested:\n  inner: 2\n  items:\n    - a\n    - b\n")
    _, node = yamlio.load(path)
    assert yamlio.line_of(node, ["top"]) == 1
    assert yamlio.line_of(node, ["nested", "inner"]) == 3
    assert yamlio.line_of(node, ["nested", "items", 1]) == 6
    assert yamlio.line_of(node, ["nested", "missing"]) == 2  # deepest existing parent


def test_empty_document(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("")
    assert yamlio.load(path) == (None, None)


def test_duplicate_key_is_an_error_with_both_lines(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb:\n  c: 2\n  c: 3\n")
    with pytest.raises(yamlio.YamlError, match=r"x.yaml:4: duplicate key 'c' \(first on line 3\)"):
        yamlio.load(path)


def test_binary_file_is_a_clear_error(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes(b"title: \xff\xfe\x00\n")
    with pytest.raises(yamlio.YamlError, match="not UTF-8"):
        yamlio.load(path)
