"""A third-party source installed as a real distribution shows up in `awsir sources`.

The test builds a tiny package with an ``awsir.sources`` entry point, installs it with pip into a
private folder (so the test environment is untouched) and runs the real CLI with that folder on
PYTHONPATH: the same path a user's ``pip install awsir-mycorp`` takes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from awsir.registry import default_registry


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory):
    src = tmp_path_factory.mktemp("plugin-src")
    (src / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "awsir-acme"
            version = "1.0"

            [project.entry-points."awsir.sources"]
            acme = "awsir_acme.sources"

            [tool.setuptools.package-data]
            "*" = ["*.yaml"]
            """
        )
    )
    card_dir = src / "awsir_acme" / "sources" / "acme_gateway_audit"
    card_dir.mkdir(parents=True)
    (src / "awsir_acme" / "__init__.py").write_text("")
    (src / "awsir_acme" / "sources" / "__init__.py").write_text("")
    builtin = default_registry().of("sources")["cloudtrail_trail"].path.read_text()
    card = builtin.replace(
        "title: CloudTrail trails (S3 and CloudWatch Logs delivery)",
        "title: ACME API gateway audit log",
    )
    card = re.sub(r"(?m)^related: .*$", "related: [cloudtrail_trail]", card)
    (card_dir / "source.yaml").write_text(card)
    broken = src / "awsir_acme" / "sources" / "acme_broken"
    broken.mkdir()
    (broken / "source.yaml").write_text(card.replace("max_minutes: 15", "max_minutes: soon"))
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(target), str(src)],
        check=True,
        capture_output=True,
        text=True,
    )  # fmt: skip
    return {"PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")])}


def test_plugin_source_is_listed_with_its_provider(installed_plugin, cli):
    result = cli("sources", env=installed_plugin)
    assert result.returncode == 0, result.stderr
    assert "acme_gateway_audit" in result.stdout
    assert "ACME API gateway audit log" in result.stdout
    assert "cloudtrail_trail" in result.stdout  # built-ins are still there


def test_broken_plugin_card_is_a_located_warning_not_a_crash(installed_plugin, cli):
    result = cli("sources", "--json", env=installed_plugin)
    assert result.returncode == 0
    ids = {s["id"] for s in json.loads(result.stdout)}
    assert "acme_gateway_audit" in ids and "acme_broken" not in ids
    assert re.search(
        r"warning: \S+acme_broken/source.yaml:\d+: delivery.max_minutes:", result.stderr
    )
    assert "Traceback" not in result.stderr


def test_plugin_card_and_json(installed_plugin, cli):
    card = cli("sources", "acme_gateway_audit", env=installed_plugin)
    assert card.returncode == 0, card.stderr
    assert "provided by awsir-acme" in card.stdout
    listing = json.loads(cli("sources", "--json", env=installed_plugin).stdout)
    [acme] = [s for s in listing if s["id"] == "acme_gateway_audit"]
    assert acme["provider"] == "awsir-acme"


def test_without_the_plugin_the_source_is_unknown(cli):
    result = cli("sources", "acme_gateway_audit")
    assert result.returncode == 2
