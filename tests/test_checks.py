"""Every readiness check against the cases beside it (``<id>.cases.yaml``): inventory fragments
and the verdicts expected, with no AWS. Each check's cases must show it passing, failing, and
saying ``unknown`` when a call it needs failed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from awsir.aws.calls import BY_NAME
from awsir.catalog import load_catalog
from awsir.readiness.engine import CheckError, load_check, load_checks, run_checks
from awsir.readiness.model import Account, Options

CHECKS = {check.id: check for check in load_checks()}


def cases_of(check_id: str) -> list[dict]:
    path = Path(CHECKS[check_id].module.__file__).with_suffix(".cases.yaml")
    assert path.exists(), f"{check_id} has no cases beside it ({path.name})"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def verdicts(check_id: str, case: dict) -> list[dict]:
    raw = {"account": "111122223333", "regions": case.get("regions", ["us-east-1"]),
           "calls": case["calls"]}  # fmt: skip
    for step in ("access", "function_roles"):  # the policy simulations of awsir scan
        if step in case:
            raw[step] = case[step]
    return [
        {"status": f.status, "region": f.region, "resource": f.subject, "reason": f.reason}
        for f in run_checks([Account(raw)], [CHECKS[check_id]], Options())
    ]


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_check_meets_its_cases(check_id):
    seen = set()
    for case in cases_of(check_id):
        got = verdicts(check_id, case)
        want = case["expect"]
        assert len(got) == len(want), f"{case['name']}: {got}"
        for g, w in zip(got, want, strict=True):
            assert {k: g[k] for k in w} == w, f"{case['name']}: {g}"
            assert g["reason"], f"{case['name']}: a verdict without a reason"
        seen |= {g["status"] for g in got}
    assert {"pass", "fail", "unknown"} <= seen, f"{check_id}: cases cover only {seen}"


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_check_metadata_names_real_things(check_id):
    check = CHECKS[check_id]
    assert check.source in load_catalog().sources, check.source
    assert all(name in BY_NAME for name in check.needs)
    assert (
        len(check.title) < 100
        and len(check.why) > 80
        and "https://docs.aws.amazon.com" in check.why
    )
    assert check.fix


def test_unknown_is_never_a_pass_when_nothing_was_collected():
    """An empty inventory (every call missing) yields unknown (or not_applicable: no responder
    role given), never pass or fail."""
    raw = {"account": "111122223333", "regions": ["us-east-1"], "calls": {}}
    findings = run_checks([Account(raw)], list(CHECKS.values()), Options())
    assert findings and {f.status for f in findings} == {"unknown", "not_applicable"}
    assert {f.id for f in findings if f.status == "not_applicable"} == {
        "responder_can_read_evidence", "responder_can_acquire_evidence"
    }  # fmt: skip


def test_a_check_that_lacks_metadata_is_refused(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text('"""Title.\n\nWhy."""\nSOURCE = "vpc_flow"\n')
    with pytest.raises(CheckError, match="lacks"):
        load_check("broken", path)
    path.write_text(
        '"""T.\n\nW."""\nSOURCE="x"\nSEVERITY="low"\nNEEDS=("ec2.RunInstances",)\nFIX=""\n'
        "def run(a, o): return []\n"
    )
    with pytest.raises(CheckError, match="inventory does not make"):
        load_check("broken", path)


@pytest.mark.parametrize("check_id", sorted(c for c in CHECKS if CHECKS[c].terraform))
def test_terraform_fixes_fill_every_placeholder_and_balance_their_braces(check_id):
    import re

    from awsir.readiness.engine import fix_for
    from awsir.readiness.model import Result, Status

    details = {"wanted": 365, "bucket": "b", "api": "a", "stage": "s", "zone": "z"}
    text = fix_for(CHECKS[check_id].terraform, Result(Status.failed, "9-res/x", "us-east-1", "r",
                                                      details), "111122223333")  # fmt: skip
    assert not re.search(r"(?<!\$)\{[a-z_]+\}", text), text  # ${...} is Terraform's own
    assert text.count("{") == text.count("}")
    if "{label}" in CHECKS[check_id].terraform:  # a Terraform label starts with a letter
        assert '"r_9_res_x"' in text
