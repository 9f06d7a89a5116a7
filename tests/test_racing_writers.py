"""Clients racing on one collection's users and faces, through one server or through two
sharing a PostgreSQL: creating and deleting users,
associating and disassociating faces, deleting and indexing faces, all at once.

Every answer is a result or an error the operation declares (never a 500), and what is
left afterwards holds together: each face's user exists, counts agree with listings,
and no user holds more than 100 faces.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess, declared_errors, rekognition_client
from tests.test_durability import PHOTOS, all_faces

pytestmark = pytest.mark.needs_server

CLIENTS = 6
CALLS_PER_CLIENT = 40
USERS = [f"racer-{i}" for i in range(4)]


def _all_users(client: Any, collection_id: str) -> dict[str, str]:
    users: dict[str, str] = {}
    token = None
    while True:
        page = client.list_users(CollectionId=collection_id, **({"NextToken": token} if token else {}))
        users |= {user["UserId"]: user["UserStatus"] for user in page["Users"]}
        token = page.get("NextToken")
        if not token:
            return users


@pytest.fixture(params=["embedded", pytest.param("two-servers-postgres", marks=pytest.mark.needs_postgres)])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """The suite's embedded server, or two servers sharing one PostgreSQL (racers alternate)."""
    if request.param == "embedded":
        server: ServerProcess = request.getfixturevalue("server")
        yield [server.url]
        return
    request.getfixturevalue("models")
    database = {"OPENREK_DATABASE_URL": request.getfixturevalue("postgres_url")}
    started = []
    for i in range(2):
        (tmp_path / f"server-{i}").mkdir()
        started.append(ServerProcess(tmp_path / f"server-{i}" / "data", env=database))
    yield [s.url for s in started]
    for each in started:
        each.stop()


def test_racing_user_and_face_writers_leave_a_consistent_collection(urls: list[str], photos: Path) -> None:
    collection_id = f"race-{uuid.uuid4().hex[:8]}"
    setup = rekognition_client(urls[0])
    setup.create_collection(CollectionId=collection_id)
    images = [(photos / name).read_bytes() for name in PHOTOS]
    # The same person three times, so that faces pass AssociateFaces' match threshold.
    face_ids: list[str] = []
    for data in [images[0]] * 3 + images[1:]:
        face_ids += [
            r["Face"]["FaceId"]
            for r in setup.index_faces(CollectionId=collection_id, Image={"Bytes": data})["FaceRecords"]
        ]
    pool_lock = threading.Lock()
    outcomes: Counter[str] = Counter()
    faults: list[str] = []

    def call(client: Any, operation: str, **params: Any) -> dict[str, Any] | None:
        try:
            answer: dict[str, Any] = getattr(client, xform_name(operation))(
                CollectionId=collection_id, **params
            )
            outcomes[f"{operation} ok"] += 1
            return answer
        except ClientError as error:
            code = error.response["Error"]["Code"]
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            if status >= 500 or code not in declared_errors(operation):
                faults.append(
                    f"{operation}({params}) -> {status} {code}: {error.response['Error']['Message']}"
                )
            outcomes[f"{operation} {code}"] += 1
            return None

    def racer(number: int) -> None:
        client = rekognition_client(urls[number % len(urls)])
        chance = random.Random(number)
        for _ in range(CALLS_PER_CLIENT):
            user = chance.choice(USERS)
            with pool_lock:
                some = chance.sample(face_ids, k=min(len(face_ids), chance.randint(1, 3)))
            roll = chance.random()
            if roll < 0.15:
                call(client, "CreateUser", UserId=user)
            elif roll < 0.25:
                call(client, "DeleteUser", UserId=user)
            elif roll < 0.55 and some:
                call(client, "AssociateFaces", UserId=user, FaceIds=some)
            elif roll < 0.75 and some:
                call(client, "DisassociateFaces", UserId=user, FaceIds=some)
            elif roll < 0.8 and some:
                answer = call(client, "DeleteFaces", FaceIds=some[:1])
                if answer is not None:
                    with pool_lock:
                        gone = set(answer["DeletedFaces"])
                        face_ids[:] = [f for f in face_ids if f not in gone]
            elif roll < 0.9:
                answer = call(client, "IndexFaces", Image={"Bytes": chance.choice(images[:1] * 3 + images)})
                if answer is not None:
                    with pool_lock:
                        face_ids.extend(r["Face"]["FaceId"] for r in answer["FaceRecords"])
            else:
                call(client, "SearchUsers", UserId=user)

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(racer, range(CLIENTS)))
    assert faults == [], "\n".join(faults)
    # The race did happen: users were made and given faces, and some calls collided.
    assert outcomes["CreateUser ok"] and outcomes["AssociateFaces ok"] and outcomes["DeleteUser ok"], outcomes

    client = rekognition_client(urls[-1])
    users = _all_users(client, collection_id)
    faces = all_faces(client, collection_id)
    described = client.describe_collection(CollectionId=collection_id)
    assert described["FaceCount"] == len(faces)
    assert described["UserCount"] == len(users)
    holders = Counter(face["UserId"] for face in faces if face.get("UserId"))
    assert set(holders) <= set(users), f"faces held by users that do not exist: {set(holders) - set(users)}"
    assert all(count <= 100 for count in holders.values())
    for user, status in users.items():
        # A user with faces is ACTIVE; its faces are found by SearchUsers from the user.
        if holders[user]:
            assert status == "ACTIVE", (user, status)
            found = client.search_users(CollectionId=collection_id, UserId=user)
            assert all(match["User"]["UserId"] in users for match in found["UserMatches"])
