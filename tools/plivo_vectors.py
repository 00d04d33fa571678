#!/usr/bin/env python3
"""Write the webhook-signature vectors telephony-plivo's tests check against.

Maintainer tool, not part of the build: the output is committed as
`telephony-plivo/tests/fixtures/signature_vectors.json`. Each V3 case is a request (method,
URL, parameters as `[name, value]` pairs in the order sent, repeated names kept), a token and a
nonce, the string plivo-python 4.63 signs (`construct_get_url` / `construct_post_url`) and
the signature it computes (`get_signature_v3`); every one is also checked with the SDK's own
`validate_v3_signature` before it is written. V2 cases are checked with `validate_signature`.

    pip install 'plivo==4.63.*'
    python3 tools/plivo_vectors.py > telephony-plivo/tests/fixtures/signature_vectors.json

The SDK takes parameters as a dict: a name sent more than once becomes a list of its values,
as a web framework's multi-dict gives them (`request.form.to_dict(flat=False)`).
"""

import base64
import hashlib
import hmac
import json
import sys
from importlib.metadata import version
from urllib.parse import urlparse

from plivo.utils import validate_signature
from plivo.utils.signature_v3 import (
    construct_get_url,
    construct_post_url,
    get_signature_v3,
    validate_v3_signature,
)

TOKENS = ["MzYyNjk3NTA0ZGE1ZDQ5ZjU3ZTdlYWI4ZTQzNjQ5", "token-two"]
NONCES = ["05429567804466091622", "12345678901234567890"]

HANGUP = [
    ("CallUUID", "b2a7c1d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d"),
    ("CallStatus", "completed"),
    ("Duration", "17"),
    ("BillDuration", "60"),
    ("HangupCause", "NORMAL_CLEARING"),
    ("Event", "Hangup"),
    ("From", "14155550199"),
    ("To", "14155550100"),
    ("Direction", "outbound"),
]

V3 = [
    # Examples of the V3 string rules (see the module docs of telephony-plivo/src/signature.rs).
    ("POST", "https://example.com/answer/", [("To", "+1"), ("From", "+2"), ("A", "x y")]),
    ("POST", "https://example.com/a?z=1&b=x+y", [("K", "v")]),
    ("GET", "https://example.com/a?z=1&a=2", [("b", "3")]),
    ("GET", "https://example.com/a", []),
    # Requests as Plivo sends them.
    ("POST", "https://agent.example.com/plivo/answer", []),
    ("POST", "https://agent.example.com/plivo/answer?tenant=acme", []),
    ("POST", "https://agent.example.com:8443/plivo/hangup/", HANGUP),
    (
        "POST",
        "https://example.com/p?x=1&x=2&y=&z=a%2Bb",
        [("Empty", ""), ("Plus", "a+b"), ("Space", "a b"), ("Amp", "a&b")],
    ),
    ("GET", "https://example.com/p?CallUUID=abc&From=%2B1415&Event=StartApp", []),
    ("POST", "https://example.com/p;params?q=1", [("A", "1")]),
    # A body parameter sent more than once: each value, sorted, after its name.
    (
        "POST",
        "https://example.com/gather?x=1",
        [("Digits", "2"), ("A", "z"), ("Digits", "1"), ("Digits", "10")],
    ),
    # A GET whose query names a parameter too: the query's values replace the parameter's.
    (
        "GET",
        "https://example.com/cb?CallUUID=from-query&x=1",
        [("CallUUID", "from-params"), ("b", "2")],
    ),
    (
        "GET",
        "https://example.com/cb?tag=q2&tag=q1",
        [("tag", "p1"), ("tag", "p2"), ("tag", "p3"), ("a", "1")],
    ),
]

V2 = [
    "https://example.com/answer/",
    "https://example.com/a?z=1",
    "https://agent.example.com:8443/p/q/",
]


def as_dict(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            out[k] = (out[k] if isinstance(out[k], list) else [out[k]]) + [v]
        else:
            out[k] = v
    return out


def signed(method, url, pairs):
    params = as_dict(pairs)
    s = construct_get_url(url, params) if method == "GET" else construct_post_url(url, params)
    return s.decode("utf-8")


def v3_cases():
    cases = []
    for method, url, pairs in V3:
        for token in TOKENS:
            for nonce in NONCES:
                string = signed(method, url, pairs)
                sig = get_signature_v3(token.encode(), string, nonce.encode()).decode()
                assert validate_v3_signature(method, url, nonce, token, sig, as_dict(pairs)), url
                assert not validate_v3_signature(method, url, nonce, "x" + token, sig, as_dict(pairs))
                cases.append(
                    {
                        "method": method,
                        "url": url,
                        "params": [list(p) for p in pairs],
                        "token": token,
                        "nonce": nonce,
                        "signed_string": string,
                        "signature": sig,
                    }
                )
    return cases


def v2_cases():
    cases = []
    for url in V2:
        for token in TOKENS:
            for nonce in NONCES:
                p = urlparse(url)
                base = f"{p.scheme}://{p.netloc}{p.path}"
                mac = hmac.new(token.encode(), (base + nonce).encode(), hashlib.sha256)
                sig = base64.b64encode(mac.digest()).decode()
                assert validate_signature(url, nonce, sig, token), url
                cases.append({"url": url, "token": token, "nonce": nonce, "signature": sig})
    return cases


def random_cases():
    """Randomized URLs, judged by the SDK: a host's case, default and other ports, an empty
    path, `;params`, characters a WHATWG parser would percent-encode; each request signed for
    its own URL or another spelling of it, and `valid` is what `validate_v3_signature` says."""
    import random
    from urllib.parse import urlencode

    rng = random.Random(20261203)
    chars = "abcXYZ019'~!*()$,;:@/+-._"
    cases = []
    for i in range(120):
        scheme = rng.choice(["https", "http"])
        host = "".join(c.upper() if rng.random() < 0.3 else c for c in "agent.example.com")
        port = rng.choice(["", "", ":443", ":8443"])
        path = rng.choice(["", "/", "/plivo/hangup", "/Answer/", "/x;v=1"])
        query = ""
        if rng.random() < 0.6:
            query = "?" + "&".join(
                f"{rng.choice('kqz')}={''.join(rng.choice(chars) for _ in range(rng.randint(0, 5)))}"
                for _ in range(rng.randint(1, 3))
            )
        url = f"{scheme}://{host}{port}{path}{query}"
        method = "GET" if rng.random() < 0.3 else "POST"
        pairs = [] if method == "GET" else [("CallUUID", f"call-{i}"), ("Event", "Hangup")]
        spelling = rng.randrange(4)
        if spelling == 0:
            signed_url = url
        elif spelling == 1:
            signed_url = url.replace(host, host.lower())
        elif spelling == 2:
            signed_url = url.replace(host + port, host + (":443" if not port else ""))
        else:
            signed_url = url.replace(path + query, (path or "/") + query, 1)
        nonce = NONCES[i % 2]
        token = TOKENS[0]
        string = signed(method, signed_url, pairs)
        sig = get_signature_v3(token.encode(), string, nonce.encode()).decode()
        valid = validate_v3_signature(method, url, nonce, token, sig, as_dict(pairs))
        cases.append(
            {
                "method": method,
                "url": url,
                "params": [list(p) for p in pairs],
                "body": urlencode(pairs),
                "token": token,
                "nonce": nonce,
                "signed_url": signed_url,
                "signature": sig,
                "valid": valid,
            }
        )
    return cases


json.dump(
    {
        "source": f"plivo-python {version('plivo')} (plivo.utils.signature_v3 and plivo.utils.validate_signature)",
        "v3": v3_cases(),
        "v2": v2_cases(),
        "random": random_cases(),
    },
    sys.stdout,
    indent=1,
    ensure_ascii=False,
)
sys.stdout.write("\n")
