#!/usr/bin/env python3
"""Write the signed-webhook vectors telephony-telnyx's tests check against.

Maintainer tool, not part of the build: the output is committed as
`telephony-telnyx/tests/fixtures/signature_vectors.json`. Each case is a public key, the two
headers, a body, the clock, and the verdict of telnyx-python's own
`telnyx.lib.webhook_verification.verify_webhook_signature` (PyNaCl underneath) when this script
ran. The signatures are made with `cryptography`'s Ed25519, an implementation independent of
both PyNaCl and the Rust side.

    pip install telnyx==4.189.0 pynacl==1.6.2 cryptography==48.0.0
    python3 tools/telnyx_vectors.py > telephony-telnyx/tests/fixtures/signature_vectors.json

The cases: genuine deliveries with random keys, bodies (JSON with escapes, non-ASCII text,
empty) and clocks inside the window; and the same deliveries changed one way each (a body
byte, the timestamp, the signature, the key, a missing header, a clock outside the window in
either direction).
"""

import base64
import json
import random
import sys
from unittest import mock

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
import telnyx
from telnyx.lib import webhook_verification as wv

RNG = random.Random(20261203)
BASE = 1_700_000_000


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def body(i: int) -> str:
    kind = i % 5
    if kind == 0:
        return ""
    if kind == 1:
        return "plain text, not JSON"
    event = RNG.choice(["call.initiated", "call.answered", "call.hangup", "streaming.started"])
    payload = {
        "call_control_id": "v3:" + "".join(RNG.choice("abcdefghijklmnopqrstuvwxyz0123456789_-") for _ in range(40)),
        "from": "+1312" + str(RNG.randrange(10**6, 10**7)),
        "to": "+1415" + str(RNG.randrange(10**6, 10**7)),
        "client_state": b64(bytes(RNG.randrange(256) for _ in range(RNG.randrange(0, 24)))),
    }
    if kind == 3:
        payload["caller_id_name"] = "Zoë \"Z\" Ünal \u2603 \\ /"
    data = {"data": {"event_type": event, "id": f"e-{i}", "occurred_at": "2026-12-03T12:00:00.000000Z", "payload": payload, "record_type": "event"}, "meta": {"attempt": RNG.randrange(1, 4)}}
    if kind == 4:
        return json.dumps(data, indent=RNG.choice([None, 2]), ensure_ascii=False)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=RNG.choice([True, False]))


def sdk(public: str, headers: dict, body_bytes: bytes, now: int) -> bool:
    with mock.patch.object(wv.time, "time", return_value=float(now)):
        try:
            wv.verify_webhook_signature(body_bytes, headers, public)
            return True
        except Exception:
            return False


def main() -> None:
    cases = []
    for i in range(30):
        key = Ed25519PrivateKey.generate()
        public = b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        other = b64(Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        ts = str(BASE + RNG.randrange(-10**6, 10**6))
        raw = body(i).encode()
        sig = b64(key.sign(ts.encode() + b"|" + raw))
        now = int(ts) + RNG.randrange(-300, 301)
        variants = [("genuine", public, {"telnyx-signature-ed25519": sig, "telnyx-timestamp": ts}, raw, now)]
        if raw:
            j = RNG.randrange(len(raw))
            changed = raw[:j] + bytes([raw[j] ^ (1 << RNG.randrange(7))]) + raw[j + 1 :]
            variants.append(("body byte changed", public, {"telnyx-signature-ed25519": sig, "telnyx-timestamp": ts}, changed, now))
        variants.append(("body with a newline", public, {"telnyx-signature-ed25519": sig, "telnyx-timestamp": ts}, raw + b"\n", now))
        variants.append(("timestamp changed", public, {"telnyx-signature-ed25519": sig, "telnyx-timestamp": str(int(ts) + 1)}, raw, now))
        flipped = bytearray(base64.b64decode(sig))
        flipped[RNG.randrange(64)] ^= 1 << RNG.randrange(8)
        variants.append(("signature changed", public, {"telnyx-signature-ed25519": b64(bytes(flipped)), "telnyx-timestamp": ts}, raw, now))
        variants.append(("another key", other, {"telnyx-signature-ed25519": sig, "telnyx-timestamp": ts}, raw, now))
        variants.append(("no signature", public, {"telnyx-timestamp": ts}, raw, now))
        variants.append(("no timestamp", public, {"telnyx-signature-ed25519": sig}, raw, now))
        variants.append(("headers in capitals", public, {"Telnyx-Signature-Ed25519": sig, "Telnyx-Timestamp": ts}, raw, now))
        variants.append(("clock 301 s late", public, {"telnyx-signature-ed25519": sig, "telnyx-timestamp": ts}, raw, int(ts) + 301))
        variants.append(("clock 301 s early", public, {"telnyx-signature-ed25519": sig, "telnyx-timestamp": ts}, raw, int(ts) - 301))
        variants.append(("clock 300 s late", public, {"telnyx-signature-ed25519": sig, "telnyx-timestamp": ts}, raw, int(ts) + 300))
        variants.append(("truncated signature", public, {"telnyx-signature-ed25519": b64(base64.b64decode(sig)[:63]), "telnyx-timestamp": ts}, raw, now))
        for what, pk, headers, b, clock in variants:
            cases.append({
                "what": what,
                "public_key": pk,
                "headers": headers,
                "body_b64": b64(b),
                "now": clock,
                "sdk": sdk(pk, headers, b, clock),
            })
    json.dump({"telnyx": telnyx.__version__, "cases": cases}, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
