#!/usr/bin/env python3
"""Write the signed-webhook vectors telephony-vonage's tests check against.

Maintainer tool, not part of the build: the output is committed as
`telephony-vonage/tests/fixtures/signed_webhooks.json`. Each case is a request (method, URL,
body, Authorization header), the clock the Rust validator is given, what the Rust validator
must answer, and what vonage 4.9.1's own `vonage_jwt.verify_signature` answered when this
script ran (`true`, `false`, or `error`): the tokens are made with PyJWT, the library Vonage's
SDK verifies with, so the two are checked against the same implementation.

    pip install vonage==4.9.1
    python3 tools/vonage_vectors.py > telephony-vonage/tests/fixtures/signed_webhooks.json

Where the two differ, the Rust side is deliberately stricter: the SDK does not check
`payload_hash`, bounds `iat` only against the future, and ignores which account or
application a token is for.
"""

import hashlib
import json
import sys

import jwt
import vonage
from vonage_jwt import verify_signature

SECRET = "sig-s3cr3t-for-tests"
API_KEY = "a1b2c3d"
APP = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
NOW = 1_700_000_000
URL = "https://agent.example.com/vonage/events"
BODY = json.dumps(
    {
        "from": "442079460000",
        "to": "447700900000",
        "uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "conversation_uuid": "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "status": "answered",
        "direction": "inbound",
        "timestamp": "2023-11-14T22:13:20.000Z",
    },
    separators=(",", ":"),
)
KEY = open("telephony-vonage/tests/fixtures/test_private.key").read()


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def claims(**over):
    c = {
        "iat": NOW - 5,
        "jti": "c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5",
        "iss": "Vonage",
        "payload_hash": sha(BODY),
        "api_key": API_KEY,
        "application_id": APP,
    }
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def hs256(c, secret=SECRET, alg="HS256"):
    return jwt.encode(c, secret, algorithm=alg)


def sdk(token):
    try:
        return verify_signature(token, SECRET)
    except Exception:
        return "error"


cases = []


def case(name, token, expect, body=BODY, method="POST", url=URL, now=NOW):
    cases.append(
        {
            "name": name,
            "method": method,
            "url": url,
            "body": body,
            "authorization": "Bearer " + token,
            "now": now,
            "expect": expect,
            "sdk": sdk(token),
        }
    )


case("valid", hs256(claims()), "ok")
case("tampered body", hs256(claims()), "body_hash_mismatch", body=BODY.replace("answered", "completed"))
case("payload hash in upper case", hs256(claims(payload_hash=sha(BODY).upper())), "ok")
case("no payload hash", hs256(claims(payload_hash=None)), "malformed")  # the body is not covered: refused unless allowed
case("iat as a string", hs256(claims(iat=str(NOW - 5))), "ok")
case("expired", hs256(claims(exp=1_600_000_000)), "expired")
case("iat an hour old", hs256(claims(iat=NOW - 3600)), "stale")
case("iat in the future", hs256(claims(iat=4_000_000_000)), "stale")
case("no iat", hs256(claims(iat=None)), "malformed")
case("alg HS512", hs256(claims(), alg="HS512"), "unsupported_algorithm")
case("alg RS256", jwt.encode(claims(), KEY, algorithm="RS256"), "unsupported_algorithm")
case("alg none", jwt.encode(claims(), None, algorithm="none"), "unsupported_algorithm")
case("wrong secret", hs256(claims(), secret="another-secret"), "token_mismatch")
tok = hs256(claims())
head, payload, sig = tok.split(".")
flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
case("tampered signature", f"{head}.{payload}.{flipped}", "token_mismatch")
forged = jwt.encode(claims(application_id="ffffffff-bbbb-cccc-dddd-0123456789ab"), SECRET, algorithm="HS256")
case("another application", forged, "wrong_audience")
case("another account", hs256(claims(api_key="zzz9999")), "wrong_audience")
query = "to=447700900000&from=442079460000&uuid=aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
query_json = json.dumps(
    {"to": "447700900000", "from": "442079460000", "uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"},
    separators=(",", ":"),
)
case(
    "GET answer hashed over its query",
    hs256(claims(payload_hash=sha(query_json))),
    "ok",
    body="",
    method="GET",
    url="https://agent.example.com/vonage/answer?" + query,
)
case(
    "GET with a changed query",
    hs256(claims(payload_hash=sha(query_json))),
    "body_hash_mismatch",
    body="",
    method="GET",
    url="https://agent.example.com/vonage/answer?" + query.replace("447700900000", "447700900001"),
)
case("not a JWT", "abc.def", "malformed")

json.dump(
    {
        "generated_by": f"tools/vonage_vectors.py with vonage {vonage.__version__ if hasattr(vonage, '__version__') else '4.9.1'} and PyJWT {jwt.__version__}",
        "secret": SECRET,
        "api_key": API_KEY,
        "application_id": APP,
        "tolerance_secs": 300,
        "cases": cases,
    },
    sys.stdout,
    indent=1,
)
sys.stdout.write("\n")
