"""The incident summary the demo prints, worked out from the case and the readiness report, not
from the story: who the intruder is (the principals behind the high-severity findings, their
access keys and addresses, where the data went), what they did in order across sources (the
events the findings point at), the detections, and which questions the logging gaps leave
unanswered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from awsir.findings import load_findings
from awsir.parse.sql import literal
from awsir.readiness.model import Account
from awsir.readiness.scan import read_snapshot
from awsir.store.case import Case
from awsir.store.catalog import open_case, views

SERIOUS = ("critical", "high", "medium")


def summarize(case: Path, report: dict[str, Any]) -> dict[str, Any]:
    findings = load_findings(case)
    serious = [f for f in findings if f["severity"] in SERIOUS]
    principals = sorted(
        {f["subject"] for f in serious if (f["subject"] or "").startswith("arn:aws:")}
    )
    # a correlation's subject names its group ("userIdentity.arn=arn:..."): the ARN after =
    principals += sorted(
        {f["subject"].split("=", 1)[1] for f in serious if "=arn:aws:" in (f["subject"] or "")}
        - set(principals)
    )
    refs = sorted({r for f in serious for r in f["evidence"]})
    con = open_case(Case(case))
    try:
        present = set(views(con))
        keys: list[str] = []
        addresses: list[str] = []
        if principals and "cloudtrail" in present:
            listed = ", ".join(literal(p) for p in principals)
            rows = con.sql(
                "SELECT DISTINCT userIdentity->>'$.accessKeyId' AS k, sourceIPAddress AS ip "
                f"FROM cloudtrail WHERE userIdentity->>'$.arn' IN ({listed})"
            ).fetchall()
            keys = sorted({k for k, _ in rows if k})
            addresses = sorted({ip for _, ip in rows if ip and ip[0].isdigit()})
        # where data went: destinations of the large outbound flows, and the names they had
        outbound = [
            r for f in findings if f["id"] == "vpc_flow_large_outbound" for r in f["evidence"]
        ]
        destinations: list[str] = []
        domains: list[str] = []
        if outbound:
            listed = ", ".join(literal(r) for r in outbound)
            destinations = [
                d
                for (d,) in con.sql(
                    f"SELECT DISTINCT dst_ip FROM events WHERE raw_ref IN ({listed}) ORDER BY 1"
                ).fetchall()
            ]
        if destinations and "route53_resolver" in present:
            listed = ", ".join(literal(d) for d in destinations)
            domains = [
                n
                for (n,) in con.sql(
                    "SELECT DISTINCT query_name FROM route53_resolver, unnest(CAST(answers AS "
                    "JSON[])) AS a(x) WHERE x->>'$.Rdata' IN (" + listed + ") ORDER BY 1"
                ).fetchall()
            ]
        # the findings' events, and every API call made from the intruder's addresses (the
        # reconnaissance no single rule flags: GetCallerIdentity, ListBuckets...)
        alternatives = []
        if refs:
            alternatives.append(f"raw_ref IN ({', '.join(literal(r) for r in refs)})")
        if addresses:
            listed = ", ".join(literal(a) for a in addresses)
            alternatives.append(f"(source = 'cloudtrail' AND src_ip IN ({listed}))")
        if domains:  # the lookups of where the data went
            named = " OR ".join(f"contains(message, {literal(d)})" for d in domains)
            alternatives.append(f"(source = 'route53_resolver' AND ({named}))")
        timeline = []
        if alternatives:
            timeline = [
                {"time": t.strftime("%H:%M:%S"), "source": s, "message": m}
                for t, s, m in con.sql(
                    f"SELECT time, source, message FROM events WHERE {' OR '.join(alternatives)} "
                    "ORDER BY time, source, raw_ref"
                ).fetchall()
            ]
    finally:
        con.close()
    blinded = _blinded(case, report, principals)
    unanswered = [q for q in report.get("questions", []) if q["status"] in ("not", "partly")]
    gaps = [v for v in report.get("verdicts", []) if v["status"] == "fail"]
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    gaps.sort(key=lambda v: (order.get(v["severity"], 9), v["check"], v.get("resource") or ""))
    return {
        "score": report.get("score"),
        "gaps": gaps,
        "unanswered": unanswered,
        "principals": principals,
        "access_keys": keys,
        "addresses": addresses,
        "exfiltration": {"addresses": destinations, "domains": domains},
        "timeline": timeline,
        "blinded": blinded,
        "detections": sorted(
            (
                {
                    "severity": f["severity"],
                    "id": f["id"],
                    "title": f["title"],
                    "subject": f["subject"],
                    "count": f["count"],
                    "kind": f["kind"],
                }
                for f in findings
            ),
            key=lambda f: (order.get(f["severity"], 9), f["id"], f["subject"] or ""),
        ),
    }


def _blinded(case: Path, report: dict[str, Any], principals: list[str]) -> list[dict[str, Any]]:
    """The intruder's commands on instances whose VPC logs nothing: where the readiness gaps
    hide what happened next (the instance's VPC comes from the scan's inventory)."""
    inventory = case / "inventory.json"
    if not principals or not inventory.exists():
        return []
    where: dict[str, tuple[str, str]] = {}
    for raw in read_snapshot(inventory):
        account = Account(raw)
        for region in account.regions:
            answer = account.answer(region, "ec2.DescribeInstances").data or {}
            for reservation in answer.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    where[instance["InstanceId"]] = (instance.get("VpcId") or "", region)
    gaps = {
        (v["check"], v.get("resource"))
        for v in report.get("verdicts", [])
        if v["status"] in ("fail", "unknown")
    }
    con = open_case(Case(case))
    try:
        listed = ", ".join(literal(p) for p in principals)
        rows = con.sql(
            "SELECT time, action, CAST(requestParameters AS VARCHAR) FROM cloudtrail "
            f"WHERE userIdentity->>'$.arn' IN ({listed}) "
            "AND eventName IN ('SendCommand', 'StartSession', 'SendSSHPublicKey') ORDER BY time"
        ).fetchall()
    finally:
        con.close()
    found = []
    for when, action, request in rows:
        for instance, (vpc, region) in where.items():
            if instance not in (request or ""):
                continue
            missing = [
                name
                for check, name in (
                    ("vpc_flow_logs", "no flow log"),
                    ("resolver_query_logging", "no DNS query log"),
                )
                if (check, vpc) in gaps
            ]
            if missing:
                found.append(
                    {
                        "time": when.strftime("%H:%M:%S"),
                        "action": action,
                        "instance": instance,
                        "region": region,
                        "vpc": vpc,
                        "missing": missing,
                    }
                )
    return found


def _squeeze(timeline: list[dict[str, Any]], most: int = 40) -> list[dict[str, Any]]:
    """Events of the same kind within ten minutes shown once, with a count (a GetObject burst,
    a run of refused calls); the first event of each run is the one shown."""
    out: list[dict[str, Any]] = []
    open_runs: dict[tuple[str, str], dict[str, Any]] = {}
    for event in timeline:
        message = event["message"] or ""
        refused = "AccessDenied" in message or "UnauthorizedOperation" in message
        kind = (event["source"], "refused" if refused else message.split(" ")[0])
        run = open_runs.get(kind)
        if run is not None and _minutes(event["time"]) - _minutes(run["time"]) <= 10:
            run["n"] += 1
            continue
        run = {**event, "n": 1, "refused": refused}
        open_runs[kind] = run
        out.append(run)
    return out[:most]


def _minutes(hms: str) -> float:
    hh, mm, ss = (int(x) for x in hms.split(":"))
    return hh * 60 + mm + ss / 60


def render(found: dict[str, Any], case: Path, seconds: float, window: tuple[str, str]) -> str:
    lines = [
        "",
        "=" * 100,
        "Incident summary (worked out from the case, not from the story)",
        "=" * 100,
        f"Readiness score before the investigation: {found['score']}/100. Top gaps:",
    ]
    for v in found["gaps"][:8]:
        lines.append(
            f"  - [{v['severity']}] {v['check']} {v.get('resource') or ''} "
            f"({v.get('region') or ''}): {v.get('reason') or ''}"
        )
    lines += ["", "The intruder:"]
    lines.append(f"  principals:   {', '.join(found['principals']) or '(none found)'}")
    lines.append(f"  access keys:  {', '.join(found['access_keys']) or '(none found)'}")
    lines.append(f"  from:         {', '.join(found['addresses']) or '(none found)'}")
    exfil = found["exfiltration"]
    if exfil["addresses"]:
        lines.append(
            f"  data sent to: {', '.join(exfil['addresses'])}"
            + (f" ({', '.join(exfil['domains'])})" if exfil["domains"] else "")
        )
    lines += [
        "",
        "What they did (the events of the findings and the intruder's API calls, every source):",
    ]
    for e in _squeeze(found["timeline"]):
        more = f"  (and {e['n'] - 1} more like it)" if e["n"] > 1 else ""
        lines.append(f"  {e['time']}  {e['source']:<17} {(e['message'] or '')[:110]}{more}")
    lines += ["", "Detections that fired (hunts and Sigma rules; one line per rule):"]
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for d in found["detections"]:
        by_rule.setdefault(d["id"], []).append(d)
    for rule_id, hits in by_rule.items():
        first = hits[0]
        subjects = f"{len(hits)} subjects, e.g. " if len(hits) > 1 else ""
        lines.append(
            f"  [{first['severity']:<8}] {first['title']} ({rule_id}, {first['kind']}): "
            f"{subjects}{first['subject'] or ''}; {sum(h['count'] for h in hits)} event(s)"
        )
    if found["blinded"]:
        lines += ["", "Where the gaps blind the investigation:"]
        for b in found["blinded"]:
            lines.append(
                f"  {b['time']}  {b['action']} reached {b['instance']} ({b['region']}); "
                f"its VPC {b['vpc']} has {' and '.join(b['missing'])}: what it sent, "
                "and to whom, cannot be known."
            )
    lines += ["", "Questions the logging gaps leave unanswered:"]
    for q in found["unanswered"]:
        blind = ", ".join(sorted({b.get("resource") or "" for b in q["blind"]})[:6])
        lines.append(f"  - {q['text']} {q['status'].upper()}: blind on {blind}")
    lines += [
        "",
        f"Done in {seconds:.0f} s. Explore further:",
        f"  awsir timeline --case {case} --actor {(found['principals'] or ['NAME'])[-1]}",
        f"  awsir timeline --case {case} --finding ct_admin_user_created",
        f"  awsir pivot {found['addresses'][0] if found['addresses'] else 'IP'} --case {case}",
        f"  awsir query \"SELECT * FROM events WHERE time BETWEEN '{window[0]}' AND '{window[1]}' "
        f'LIMIT 20" --case {case}',
        f"  awsir serve --case {case} --history {case / 'history'}",
        f"  open {case / 'readiness.html'}",
    ]
    return "\n".join(lines)
