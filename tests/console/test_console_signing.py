"""The console's SHA-256, HMAC and SigV4 code, run in the browser, against the
standards' vectors and against botocore's signer."""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from playwright.sync_api import Browser

from tests.conftest import ServerProcess
from tests.console.conftest import check_watch, open_console

MESSAGES = [
    b"",
    b"abc",
    b"abcdbcdecdefdefgefghfghighijhijkijkljklmjklmnklmnolmnopmnopq",
    b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
    b"a" * 1_000_000,
    # Either side of where padding needs a second block.
    *(os.urandom(n) for n in (55, 56, 63, 64, 65, 119, 120, 1000)),
]
# FIPS 180-4 example and RFC 4231 test cases 1 and 2, written out (the rest are
# checked against Python's hashlib and hmac).
KNOWN = {
    "sha256 abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "hmac case 1": "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    "hmac case 2": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
}
HMAC_CASES = [
    (b"\x0b" * 20, b"Hi There"),
    (b"Jefe", b"what do ya want for nothing?"),
    (b"\xaa" * 20, b"\xdd" * 50),
    (bytes(range(1, 26)), b"\xcd" * 50),
    (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First"),
    (
        b"\xaa" * 131,
        b"This is a test using a larger than block-size key and a larger than block-size data. "
        b"The key needs to be hashed before being used by the HMAC algorithm.",
    ),
]

HASH_IN_PAGE = """async ([messages, hmacCases]) => {
    const m = await import("/console/static/sha256.js");
    const bytes = (hex) => Uint8Array.from(hex.match(/../g) || [], (h) => parseInt(h, 16));
    const out = { fallback: [], webcrypto: [], hmacFallback: [], hmacWebcrypto: [] };
    for (const hex of messages) {
        out.fallback.push(m.toHex(m.sha256Fallback(bytes(hex))));
        out.webcrypto.push(m.toHex(await m.sha256(bytes(hex))));
    }
    for (const [key, data] of hmacCases) {
        out.hmacFallback.push(m.toHex(m.hmacSha256Fallback(bytes(key), bytes(data))));
        out.hmacWebcrypto.push(m.toHex(await m.hmacSha256(bytes(key), bytes(data))));
    }
    out.usesWebCrypto = m.usesWebCrypto();
    return out;
}"""


def test_sha256_and_hmac_match_the_standards(browser: Browser, server: ServerProcess) -> None:
    page, watch = open_console(browser, server.url)
    page.goto(server.url + "/console#/models")
    result: dict[str, Any] = page.evaluate(
        HASH_IN_PAGE, [[m.hex() for m in MESSAGES], [[k.hex(), d.hex()] for k, d in HMAC_CASES]]
    )
    digests = [hashlib.sha256(m).hexdigest() for m in MESSAGES]
    macs = [hmac.new(k, d, hashlib.sha256).hexdigest() for k, d in HMAC_CASES]
    assert result["usesWebCrypto"] is True  # http://127.0.0.1 is a secure context
    assert result["fallback"] == digests
    assert result["webcrypto"] == digests
    assert result["hmacFallback"] == macs
    assert result["hmacWebcrypto"] == macs
    assert (digests[1], macs[0], macs[1]) == (KNOWN["sha256 abc"], KNOWN["hmac case 1"], KNOWN["hmac case 2"])
    check_watch(page, watch)


SIGN_IN_PAGE = """async ([host, body, stamp]) => {
    const { signRequest } = await import("/console/static/sigv4.js");
    return signRequest({
        host,
        headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "RekognitionService.ListFaces" },
        body: new TextEncoder().encode(body),
        region: "eu-west-3",
        accessKeyId: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        now: new Date(stamp),
    });
}"""


def test_sigv4_signature_matches_botocore(browser: Browser, server: ServerProcess) -> None:
    host = "192.168.1.20:8765"
    body = '{"CollectionId":"people","MaxResults":24}'
    page, watch = open_console(browser, server.url)
    page.goto(server.url + "/console#/models")
    headers: dict[str, str] = page.evaluate(SIGN_IN_PAGE, [host, body, "2026-03-04T05:06:07Z"])

    request = AWSRequest(
        method="POST",
        url=f"http://{host}/",
        data=body.encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "RekognitionService.ListFaces",
            "X-Amz-Date": "20260304T050607Z",
        },
    )
    request.context["timestamp"] = "20260304T050607Z"
    signer = SigV4Auth(
        Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), "rekognition", "eu-west-3"
    )
    signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    assert headers["x-amz-date"] == "20260304T050607Z"
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260304/eu-west-3/rekognition/aws4_request, "
        f"SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={signature}"
    )
    assert "host" not in headers  # the browser sets Host itself
    check_watch(page, watch)
