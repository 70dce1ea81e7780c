"""The dashboard in process (Starlette's TestClient): every page and its ``.json`` twin, the
escaping of attacker-controlled text, the CSP, the token, the read-only SQL box, CSV export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from starlette.testclient import TestClient

from awsir.web.app import CSP, PAGES, create_app
from tests.webcase import XSS, build


@pytest.fixture(scope="module")
def built(tmp_path_factory, cli):
    return build(tmp_path_factory.mktemp("web"), cli)


@pytest.fixture(scope="module")
def client(built):
    case, history = built
    return TestClient(create_app(case, history))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_and_its_json_twin(client, page):
    html = client.get(f"/{page}")
    assert html.status_code == 200, html.text[:500]
    assert html.headers["content-security-policy"] == CSP
    assert html.headers["x-content-type-options"] == "nosniff"
    assert f'href="/{page}" class="on"' in html.text
    twin = client.get(f"/{page}.json")
    assert twin.status_code == 200 and isinstance(twin.json(), dict)


def test_nothing_from_a_log_reaches_the_page_unescaped(client):
    pages = [
        client.get("/readiness").text,
        client.get("/search", params={"sql": "SELECT * FROM events"}).text,
        client.get("/search", params={"sql": "SELECT * FROM s3_access"}).text,
        client.get("/timeline", params={"ip": "198.51.100.99"}).text,
        client.get("/detections").text,
    ]
    text = "\n".join(pages)
    for payload in XSS.values():
        assert payload not in text
    for tag in ("<script>alert", "<svg/onload", "<img/src", "<img src=x"):
        assert tag not in text
    assert "&lt;script&gt;alert(&#39;ua&#39;)&lt;/script&gt;" in text  # shown, as text
    assert "&lt;img/src=x/onerror=alert(&#39;key&#39;)&gt;.csv" in text
    assert "&lt;svg/onload=alert(&#39;uri&#39;)&gt;" in text
    assert "&#34;&gt;&lt;script&gt;alert(&#39;res&#39;)&lt;/script&gt;" in text  # a resource


def test_readiness_shows_score_heat_questions_fixes_trend_and_changes(client):
    data = client.get("/readiness.json").json()
    assert data["scan"]["score"] == 72
    assert [t["score"] for t in data["trend"]] == [100, 72]
    [new] = data["changes"]["new_gaps"]
    assert new["resource"].startswith("vpc-blind") and new["fix"].startswith("aws ec2")
    assert data["heat"]["cells"]["vpc_flow"]["eu-west-1"] == 50  # one pass, one fail
    html = client.get("/readiness").text
    assert 'aria-label="score over time"' in html and 'class="copy"' in html
    assert "<h2>Score by Region</h2>" in html
    assert client.get("/readiness.json", params={"severity": "critical"}).json()["gaps"] == []


def test_search_filters_pages_and_exports_csv(client):
    found = client.get("/search.json", params={"source": "s3_access", "actor": "mallory"}).json()
    assert found["rows"] and all(r[1] == "s3_access" for r in found["rows"])
    assert found["more"] and found["page"] == 1 and len(found["rows"]) == 100
    second = client.get(
        "/search.json", params={"source": "s3_access", "actor": "mallory", "page": "2"}
    ).json()
    assert second["rows"] and second["rows"][0] != found["rows"][0]
    exported = client.get("/search.csv", params={"source": "s3_access", "actor": "mallory"})
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:2] == ["time", "source"] and len(rows) - 1 > 100
    attacker = client.get("/search.csv", params={"sql": "SELECT '=HYPERLINK(1)' AS x"}).text
    assert "'=HYPERLINK(1)" in attacker  # a formula is text in a spreadsheet
    numbers = client.get("/search.csv", params={"sql": "SELECT -1 AS n, '-1' AS t"}).text
    assert numbers.splitlines()[1] == '"-1","\'-1"'  # only text is guarded
    empty = client.get("/search.csv", params={"sql": "SELECT 1 AS a WHERE false"}).text
    assert empty.splitlines() == ['"a"']
    assert client.get("/search.json", params={"page": "x"}).json()["error"].startswith("page")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "COPY (SELECT 1) TO 'lake/x.csv'",
        "SELECT 1; SELECT 2",
        "SET enable_external_access = true",
        "ATTACH '/tmp/awsir-web-test.db'",
    ],
)
def test_the_sql_box_cannot_touch_anything_else(client, sql):
    response = client.get("/search.json", params={"sql": sql})
    assert response.status_code == 400 and response.json()["error"]


def test_detection_links_to_its_timeline(client):
    found = client.get("/detections.json").json()["findings"]
    admin = next(f for f in found if f["id"] == "ct_admin_user_created")
    html = client.get("/detections").text
    assert "/timeline?finding=ct_admin_user_created%40" in html
    events = client.get(
        "/timeline.json", params={"finding": f"ct_admin_user_created@{admin['subject']}"}
    ).json()["events"]
    assert [e["action"] for e in events] == [
        "iam:CreateUser",
        "iam:AttachUserPolicy",
        "iam:CreateAccessKey",
    ]


def test_timeline_histogram_and_sources(client):
    data = client.get("/timeline.json", params={"actor": "mallory"}).json()
    assert data["histogram"]["sources"] and sum(
        sum(b.values()) for b in data["histogram"]["buckets"]
    ) == len(data["events"])
    assert 'aria-label="activity over time"' in client.get("/timeline?actor=mallory").text


def test_sources_page_searches_the_catalog(client):
    found = client.get("/sources.json", params={"q": "resolver"}).json()["sources"]
    assert "route53_resolver_query" in {s["id"] for s in found}
    flow = client.get("/sources.json", params={"q": "flow"}).json()["sources"]
    assert next(s for s in flow if s["id"] == "vpc_flow")["scan"] == {"pass": 1, "fail": 1}


def test_collection_page_without_collected_evidence(client):
    data = client.get("/collection.json", params={"verify": "1"}).json()
    assert data == {"reports": [], "verified": {"checked": 0, "changed": [], "missing": []}}


def test_a_token_is_required_when_one_is_set(built):
    case, history = built
    guarded = TestClient(create_app(case, history, token="s3cret"))
    assert guarded.get("/readiness").status_code == 403
    assert guarded.get("/readiness.json", params={"token": "wrong"}).status_code == 403
    assert guarded.get("/static/app.js").status_code == 403
    ok = guarded.get("/readiness", params={"token": "s3cret"})
    assert ok.status_code == 200
    assert "httponly" in ok.headers["set-cookie"].lower()
    assert guarded.get("/detections.json").status_code == 200  # the cookie, from now on


def test_without_a_case_the_pages_say_so(built):
    _, history = built
    bare = TestClient(create_app(None, history))
    response = bare.get("/search")
    assert response.status_code == 400 and "no case" in response.text
    assert bare.get("/readiness").status_code == 200
    assert json.loads(bare.get("/detections.json").text)["error"].startswith("no case")
