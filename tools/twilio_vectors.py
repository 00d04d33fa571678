#!/usr/bin/env python3
"""Write the X-Twilio-Signature vectors telephony-twilio's tests check against.

Maintainer tool, not part of the build: the output is committed as
`telephony-twilio/tests/fixtures/signature_vectors.json`. Each case is a request as received
(method, URL, Content-Type, raw body, headers), how its signature was made (`signed_with`: the
URL, parameters, algorithm and key given to twilio's `RequestValidator.compute_signature`), what
the Rust validator must answer (`expect`) and what twilio 9.13's `RequestValidator.validate`
answered when this script ran (`sdk`). The script calls the SDK the way an application does:
it reads the algorithm from `X-Twilio-Webhooks-Signature-Settings` with
`get_signature_algorithm`, builds the validator with the SharedKey secret when that says
HMAC_SHA256 (the Auth Token otherwise), and passes a form POST's parameters as a multi-dict,
a JSON body as the raw string, nothing for a GET.

    pip install twilio==9.13.0
    python3 tools/twilio_vectors.py > telephony-twilio/tests/fixtures/signature_vectors.json

Where `expect` and `sdk` differ, the case has a `note` saying why.
"""

import hashlib
import json
import logging
import sys
from urllib.parse import urlencode, urlparse

import twilio
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
    remove_port,
)

# validate() logs a warning for the unsupported algorithm the vectors include on purpose.
logging.getLogger("twilio.request_validator").setLevel(logging.ERROR)

AUTH_TOKEN = "12345"
SHARED_KEY = "shared-key-s3cr3t"
SHARED_KEY_ID = "webhooks_sharedkey_0123456789abcdef"
KEYS = {"auth_token": AUTH_TOKEN, "shared_key": SHARED_KEY}
FORM = "application/x-www-form-urlencoded"

DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
]
STATUS = [
    ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
    ("CallSid", "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    ("CallStatus", "completed"),
    ("From", "+14155550199"),
    ("To", "+14155550100"),
]
JSON_BODY = json.dumps(
    {"CallSid": "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "StreamEvent": "stream-started"},
    separators=(",", ":"),
)


class MultiDict:
    """The repeated-keys form the SDK reads through `getall`, as Flask's MultiDict offers."""

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def __iter__(self):
        return iter([k for k, _ in self.pairs])

    def __bool__(self):
        return bool(self.pairs)

    def getall(self, name):
        return [v for k, v in self.pairs if k == name]


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def sdk_verdict(method, url, content_type, body, headers):
    algorithm = get_signature_algorithm(headers.get(SIGNATURE_SETTINGS_HEADER))
    token = SHARED_KEY if algorithm.upper() == "HMAC_SHA256" else AUTH_TOKEN
    if method == "GET":
        params = {}
    elif content_type == FORM:
        from urllib.parse import parse_qsl

        params = MultiDict(parse_qsl(body, keep_blank_values=True))
    else:
        params = body
    return RequestValidator(token).validate(
        url, params, headers.get(SIGNATURE_HEADER, ""), algorithm
    )


cases = []


def case(
    name,
    url,
    params=(),
    expect="ok",
    signed_url=None,
    signed_params=None,
    algorithm="HMAC_SHA1",
    key="auth_token",
    settings=None,
    method="POST",
    json_body=None,
    body=None,
    note=None,
):
    params = list(params)
    signed_params = params if signed_params is None else list(signed_params)
    unsigned_url = None
    if json_body is not None:
        content_type = "application/json"
        unsigned_url = url
        url = url + ("&" if "?" in url else "?") + "bodySHA256=" + sha(json_body)
        if signed_url is not None:
            signed_url += ("&" if "?" in signed_url else "?") + "bodySHA256=" + sha(json_body)
        raw = json_body if body is None else body
        signed_params = []
    elif method == "GET":
        content_type = None
        raw = ""
        signed_params = []
    else:
        content_type = FORM
        raw = urlencode(params) if body is None else body
    signed_url = url if signed_url is None else signed_url
    signature = RequestValidator(KEYS[key]).compute_signature(
        signed_url, MultiDict(signed_params), algorithm
    )
    headers = {SIGNATURE_HEADER: signature}
    if settings is not None:
        headers[SIGNATURE_SETTINGS_HEADER] = settings
    sdk = sdk_verdict(method, url, content_type, raw, headers)
    c = {
        "name": name,
        "method": method,
        "url": url,
        "content_type": content_type,
        "body": raw,
        "headers": headers,
        "signed_with": {
            "url": signed_url,
            "params": [[k, v] for k, v in signed_params],
            "algorithm": algorithm,
            "key": key,
        },
        # Whether the signer (sign_request: the URL without its port, HMAC-SHA1, the Auth
        # Token) makes exactly this signature for this request.
        "signer": algorithm == "HMAC_SHA1"
        and key == "auth_token"
        and signed_url == remove_port(urlparse(url))
        and signed_params == params
        and (json_body is None or raw == json_body),
        "expect": expect,
        "sdk": sdk,
    }
    if unsigned_url is not None:
        c["unsigned_url"] = unsigned_url
    if note is not None:
        c["note"] = note
    cases.append(c)


# The documented example, and a tampered copy of it.
case("documented example", DOC_URL, DOC_PARAMS)
case(
    "documented example, a digit changed",
    DOC_URL,
    [(k, "1235" if k == "Digits" else v) for k, v in DOC_PARAMS],
    signed_params=DOC_PARAMS,
    expect="mismatch",
)
case("wrong auth token", DOC_URL, DOC_PARAMS, key="shared_key", expect="mismatch")

# Repeated keys: every value signed, sorted and de-duplicated.
repeated = [
    ("StatusCallbackEvent", "ringing"),
    ("StatusCallbackEvent", "answered"),
    ("StatusCallbackEvent", "completed"),
    ("StatusCallbackEvent", "answered"),
    ("To", "+14155550100"),
    ("From", "+14155550199"),
]
case("repeated keys", "https://agent.example.com/status", repeated)
case(
    "repeated keys, a duplicate dropped",
    "https://agent.example.com/status",
    [p for i, p in enumerate(repeated) if i != 3],
    signed_params=repeated,
)
case(
    "repeated keys, one value missing",
    "https://agent.example.com/status",
    [p for i, p in enumerate(repeated) if i != 2],
    signed_params=repeated,
    expect="mismatch",
)
case(
    "repeated keys, values in another order",
    "https://agent.example.com/status",
    list(reversed(repeated)),
    signed_params=repeated,
)
case(
    "empty values and names",
    "https://agent.example.com/status",
    [("Digits", ""), ("", "x"), ("To", "+14155550100")],
)
case(
    "non-ASCII values in code-point order",
    "https://agent.example.com/status",
    [("Name", "z"), ("Name", "é"), ("Name", "\U0001f600"), ("Name", "\ue000"), ("Name", "Z")],
)
case(
    "spaces and plus signs in values",
    "https://agent.example.com/status",
    [("SpeechResult", "yes please"), ("From", "+14155550199")],
)

# With and without the port.
case("no port, signed with :443", "https://agent.example.com/status", STATUS,
     signed_url="https://agent.example.com:443/status")
case("no port, signed without", "https://agent.example.com/status", STATUS)
case("http, signed with :80", "http://agent.example.com/status", STATUS,
     signed_url="http://agent.example.com:80/status")
case("port 8443, signed with it", "https://agent.example.com:8443/status?x=1", STATUS)
case("port 8443, signed without any port", "https://agent.example.com:8443/status?x=1", STATUS,
     signed_url="https://agent.example.com/status?x=1")
case("port 8443, signed with 443", "https://agent.example.com:8443/status", STATUS,
     signed_url="https://agent.example.com:443/status", expect="mismatch")
case("port 8080 on http, signed without", "http://127.0.0.1:8080/twilio/status", STATUS,
     signed_url="http://127.0.0.1/twilio/status")
case("signed for another host", "https://agent.example.com/status", STATUS,
     signed_url="https://other.example.com/status", expect="mismatch")
case("signed for https, received as http", "http://agent.example.com/status", STATUS,
     signed_url="https://agent.example.com/status", expect="mismatch")
case("signed with an empty query", "https://agent.example.com/status?", STATUS,
     signed_url="https://agent.example.com/status?", expect="mismatch")
case("an encoded query string", "https://agent.example.com/answer?lead=a%20b&n=%2B1415",
     STATUS)

# The URL exactly as received: what a WHATWG parser would change, the SDK hashes as given.
case("a host in capitals, signed as written", "https://Agent.Example.COM/status", STATUS)
case("a host in capitals, signed in lower case", "https://Agent.Example.COM/status", STATUS,
     signed_url="https://agent.example.com/status", expect="mismatch")
case("an explicit :443, signed with it", "https://agent.example.com:443/status", STATUS)
case("an explicit :443, signed without", "https://agent.example.com:443/status", STATUS,
     signed_url="https://agent.example.com/status")
case("an explicit :80 on http", "http://agent.example.com:80/status?x=1", STATUS)
case("an empty path before the query", "https://agent.example.com?x=1", STATUS)
case("no path at all", "https://agent.example.com", STATUS)
case("quotes and tildes in the query", "https://agent.example.com/status?who='x'&n=%7e&m=~",
     STATUS)
case("quotes in a GET's query", "https://agent.example.com/answer?who='x'&From=%2B1415",
     method="GET")
case("an empty ;params at the end of the path", "https://agent.example.com/status;", STATUS,
     expect="mismatch")  # the SDK drops the empty ;params before hashing, as we do
case("a ;param kept in the path", "https://agent.example.com/status;v=1?x=1", STATUS)

# GET: the URL only.
case("GET, the query signed", "https://agent.example.com/answer?CallSid=CA1&From=%2B14155550199",
     method="GET")
case("GET, the query changed",
     "https://agent.example.com/answer?CallSid=CA2&From=%2B14155550199", method="GET",
     signed_url="https://agent.example.com/answer?CallSid=CA1&From=%2B14155550199",
     expect="mismatch")

# JSON bodies: bodySHA256 in the query, the URL signed, the body hashed.
case("JSON body with bodySHA256", "https://agent.example.com/events", json_body=JSON_BODY)
case("JSON body with bodySHA256 after a query", "https://agent.example.com/events?tenant=acme",
     json_body=JSON_BODY)
case("JSON body changed after signing", "https://agent.example.com/events",
     json_body=JSON_BODY, body=JSON_BODY.replace("started", "stopped"),
     expect="body_hash_mismatch")
case("JSON body with a trailing newline", "https://agent.example.com/events",
     json_body=JSON_BODY, body=JSON_BODY + "\n", expect="body_hash_mismatch")
case("JSON body on port 8443, signed without it", "https://agent.example.com:8443/events",
     json_body=JSON_BODY, signed_url="https://agent.example.com/events")
case("JSON body on port 8443, signed with it", "https://agent.example.com:8443/events",
     json_body=JSON_BODY)

# SharedKey: HMAC-SHA256 with the SharedKey secret, named by the settings header.
sk = f"key={SHARED_KEY_ID},algorithm=HMAC_SHA256"
case("SharedKey HMAC-SHA256", DOC_URL, DOC_PARAMS, algorithm="HMAC_SHA256",
     key="shared_key", settings=sk)
case("SharedKey, spaces in the settings", DOC_URL, DOC_PARAMS, algorithm="HMAC_SHA256",
     key="shared_key", settings=f" key = {SHARED_KEY_ID} , algorithm = HMAC_SHA256 ")
case("SharedKey, algorithm in lower case", DOC_URL, DOC_PARAMS, algorithm="HMAC_SHA256",
     key="shared_key", settings=f"key={SHARED_KEY_ID},algorithm=hmac_sha256")
case("SharedKey, an empty algorithm before the real one", DOC_URL, DOC_PARAMS,
     algorithm="HMAC_SHA256", key="shared_key",
     settings=f"algorithm=,key={SHARED_KEY_ID},algorithm=HMAC_SHA256")
case("SharedKey, the name Algorithm capitalized", DOC_URL, DOC_PARAMS, algorithm="HMAC_SHA256",
     key="shared_key", settings=f"key={SHARED_KEY_ID},Algorithm=HMAC_SHA256",
     expect="mismatch")
case("SharedKey, repeated keys and a port", "https://agent.example.com:8443/status", repeated,
     signed_url="https://agent.example.com/status", algorithm="HMAC_SHA256", key="shared_key",
     settings=sk)
case("SharedKey, a JSON body", "https://agent.example.com/events", json_body=JSON_BODY,
     algorithm="HMAC_SHA256", key="shared_key", settings=sk)
case("SharedKey settings, signed with SHA1 and the Auth Token", DOC_URL, DOC_PARAMS,
     settings=sk, expect="mismatch")
case("SharedKey signature, no settings header", DOC_URL, DOC_PARAMS, algorithm="HMAC_SHA256",
     key="shared_key", expect="mismatch")
case("settings without an algorithm: SHA1", DOC_URL, DOC_PARAMS, settings=f"key={SHARED_KEY_ID}")
case("settings naming HMAC_SHA1", DOC_URL, DOC_PARAMS, settings="algorithm=HMAC_SHA1")
case("an unsupported algorithm", DOC_URL, DOC_PARAMS, algorithm="HMAC_SHA256", key="shared_key",
     settings=f"key={SHARED_KEY_ID},algorithm=HMAC_SHA512", expect="unsupported_algorithm")

# Randomized URLs, judged by the SDK: the spellings a WHATWG parser would normalize (a host's
# case, default and other ports, an empty path, characters it would percent-encode), each
# signed as received or as another spelling of it. `expect` is the SDK's own verdict.
import random

rng = random.Random(20261203)
QUERY_CHARS = "abcXYZ019'~!*()$,;:@/?%+-._"


def random_url():
    scheme = rng.choice(["https", "http"])
    host = "".join(c.upper() if rng.random() < 0.3 else c for c in "agent.example.com")
    port = rng.choice(["", "", ":443", ":80", ":8443", ":8080"])
    path = rng.choice(["", "/", "/status", "/a/b", "/Status/", "/x;v=1"])
    query = ""
    if rng.random() < 0.7:
        pairs = []
        for _ in range(rng.randint(1, 3)):
            k = "".join(rng.choice("kqz") for _ in range(rng.randint(1, 3)))
            v = "".join(rng.choice(QUERY_CHARS) for _ in range(rng.randint(0, 6)))
            v = v.replace("%", "%25") if rng.random() < 0.5 else v.replace("%", "")
            pairs.append(f"{k}={v}")
        query = "?" + "&".join(pairs)
    return f"{scheme}://{host}{port}{path}{query}"


def other_spelling(url):
    parsed = urlparse(url)
    choice = rng.randrange(5)
    if choice == 0:
        return url
    if choice == 1:
        return remove_port(parsed)
    if choice == 2:
        return parsed._replace(netloc=parsed.netloc.lower()).geturl()
    if choice == 3 and parsed.port is None:
        default = ":443" if parsed.scheme == "https" else ":80"
        return parsed._replace(netloc=parsed.netloc + default).geturl()
    return url.replace("?", "/?", 1) if "?" in url and not parsed.path.endswith("/") else url


for i in range(160):
    url = random_url()
    signed = other_spelling(url)
    method = "GET" if rng.random() < 0.3 else "POST"
    content_type = None if method == "GET" else FORM
    params = [] if method == "GET" else STATUS
    signature = RequestValidator(AUTH_TOKEN).compute_signature(signed, MultiDict(params))
    headers = {SIGNATURE_HEADER: signature}
    raw = "" if method == "GET" else urlencode(params)
    verdict = sdk_verdict(method, url, content_type, raw, headers)
    cases.append(
        {
            "name": f"random {i}: {method} {url} signed as {signed}",
            "method": method,
            "url": url,
            "content_type": content_type,
            "body": raw,
            "headers": headers,
            "signed_with": {
                "url": signed,
                "params": [[k, v] for k, v in params],
                "algorithm": "HMAC_SHA1",
                "key": "auth_token",
            },
            "signer": False,
            "expect": "ok" if verdict else "mismatch",
            "sdk": verdict,
        }
    )

json.dump(
    {
        "generated_by": f"tools/twilio_vectors.py with twilio {twilio.__version__}",
        "auth_token": AUTH_TOKEN,
        "shared_key_secret": SHARED_KEY,
        "cases": cases,
    },
    sys.stdout,
    indent=1,
    ensure_ascii=False,
)
sys.stdout.write("\n")
