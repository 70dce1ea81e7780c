"""The registry finds built-in and plugin units through one mechanism, and reports problems."""

from __future__ import annotations

import importlib
import re
import shutil
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from awsir.catalog import load_catalog
from awsir.registry import BUILTIN, default_registry, discover


@pytest.fixture
def plugin_pkg(tmp_path, monkeypatch):
    """An importable package ``extra_units`` holding one unit of each kind."""
    root = tmp_path / "extra_units"
    builtin_card = default_registry().of("sources")["cloudtrail_trail"].path
    (root / "sources" / "my_app_logs").mkdir(parents=True)
    card = re.sub(r"(?m)^related: .*$", "related: [cloudtrail_trail]", builtin_card.read_text())
    (root / "sources" / "my_app_logs" / "source.yaml").write_text(card)
    (root / "sources" / "__pycache__").mkdir()  # ignored: not a unit
    (root / "checks" / "s3").mkdir(parents=True)
    (root / "checks" / "s3" / "bucket_logging.py").write_text("")
    (root / "checks" / "s3" / "_helpers.py").write_text("")  # private module: not a check
    (root / "rules" / "aws").mkdir(parents=True)
    (root / "rules" / "aws" / "mass_delete.yml").write_text("title: x\n")
    for pkg in (root, root / "sources", root / "checks", root / "rules"):
        (pkg / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    for name in [m for m in sys.modules if m.split(".")[0] == "extra_units"]:
        monkeypatch.delitem(sys.modules, name)
    yield root
    for name in [m for m in sys.modules if m.split(".")[0] == "extra_units"]:
        del sys.modules[name]


def _eps(*triples):
    return [EntryPoint(name, value, group) for name, value, group in triples]


def test_builtins_come_from_the_package_folders():
    registry = discover(eps=[])
    units = registry.of("sources")
    assert "cloudtrail_trail" in units
    assert all(u.provider == BUILTIN for u in units.values())
    assert all(u.path.name == "source.yaml" and u.path.parent.name == u.id for u in units.values())


def test_plugins_of_every_kind_are_discovered_the_same_way(plugin_pkg):
    registry = discover(
        eps=_eps(
            ("extra", "extra_units.sources", "awsir.sources"),
            ("extra", "extra_units.checks", "awsir.checks"),
            ("extra", "extra_units.rules", "awsir.rules"),
        )
    )
    assert registry.of("sources")["my_app_logs"].provider == "extra"
    assert "cloudtrail_trail" in registry.of("sources")
    assert registry.of("checks")["bucket_logging"].provider == "extra"
    assert "vpc_flow_logs" in registry.of("checks")  # built in, found the same way
    assert "_helpers" not in registry.of("checks")
    assert registry.of("rules")["mass_delete"].provider == "extra"
    assert registry.of("rules")["ct_admin_user_created"].provider == BUILTIN
    assert not any(registry.problems.values())


def test_plugin_source_is_in_the_catalog(plugin_pkg):
    registry = discover(eps=_eps(("extra", "extra_units.sources", "awsir.sources")))
    catalog = load_catalog(registry)
    assert catalog.sources["my_app_logs"].unit.provider == "extra"
    assert not [p for p in catalog.problems if "my_app_logs" in p]


def test_id_clash_with_builtin_keeps_builtin_and_reports(plugin_pkg):
    clash = plugin_pkg / "sources" / "cloudtrail_trail"
    clash.mkdir()
    (clash / "source.yaml").write_text("title: impostor\n")
    registry = discover(eps=_eps(("extra", "extra_units.sources", "awsir.sources")))
    assert registry.of("sources")["cloudtrail_trail"].provider == BUILTIN
    [problem] = registry.problems_of("sources")
    assert str(clash) in problem and "already provided by 'awsir'" in problem


def test_badly_named_folder_is_reported_not_loaded(plugin_pkg):
    bad = plugin_pkg / "sources" / "My-Logs"
    bad.mkdir()
    shutil.copy(plugin_pkg / "sources" / "my_app_logs" / "source.yaml", bad / "source.yaml")
    registry = discover(eps=_eps(("extra", "extra_units.sources", "awsir.sources")))
    assert "My-Logs" not in registry.of("sources")
    assert any("'My-Logs'" in p for p in registry.problems_of("sources"))


@pytest.mark.parametrize("value", ["no_such_package_xyz", "json.decoder"])
def test_entry_point_that_is_not_a_package_is_reported(value):
    registry = discover(eps=_eps(("broken", value, "awsir.sources")))
    [problem] = registry.problems_of("sources")
    assert "awsir.sources" in problem and "not an importable package" in problem
    assert "cloudtrail_trail" in registry.of("sources")


def test_broken_plugin_card_is_skipped_with_a_located_error(plugin_pkg):
    card = plugin_pkg / "sources" / "my_app_logs" / "source.yaml"
    card.write_text(card.read_text().replace("log_type: audit", "log_type: nonsense"))
    catalog = load_catalog(discover(eps=_eps(("extra", "extra_units.sources", "awsir.sources"))))
    assert "my_app_logs" not in catalog.sources
    [problem] = [p for p in catalog.problems if "my_app_logs" in p]
    assert f"{card}:" in problem and ": log_type: Input should be" in problem
    assert "cloudtrail_trail" in catalog.sources


def test_discovery_runs_no_plugin_code(tmp_path, monkeypatch):
    pkg = tmp_path / "loud_units"
    (pkg / "sources").mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise RuntimeError('imported!')\n")
    (pkg / "sources" / "__init__.py").write_text("raise RuntimeError('imported!')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    # find_spec of a subpackage imports its parent; a top-level package is located without import.
    registry = discover(eps=_eps(("loud", "loud_units", "awsir.sources")))
    assert registry.problems_of("sources") == []


def test_related_ids_must_exist(plugin_pkg):
    card = plugin_pkg / "sources" / "my_app_logs" / "source.yaml"
    card.write_text(card.read_text().replace("related: [", "related: [no_such_source, "))
    assert "related: [no_such_source, cloudtrail_trail]" in card.read_text()
    catalog = load_catalog(discover(eps=_eps(("extra", "extra_units.sources", "awsir.sources"))))
    assert "my_app_logs" not in catalog.sources
    [problem] = [p for p in catalog.problems if "my_app_logs" in p]
    assert (
        problem.startswith(f"{card}:")
        and "related.0: unknown source id 'no_such_source'" in problem
    )


def test_default_registry_is_cached():
    assert default_registry() is default_registry()


def test_units_are_sorted_and_stable():
    first = list(discover(eps=[]).of("sources"))
    assert first == sorted(first) == list(discover(eps=[]).of("sources"))


def test_unit_paths_exist():
    for unit in default_registry().of("sources").values():
        assert Path(unit.path).is_file()
