"""Request validation against the real Rekognition model shipped with botocore."""

from __future__ import annotations

import base64
import time
import warnings
from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StringShape, StructureShape

from openrek.protocol.errors import SerializationException, ValidationException
from openrek.protocol.java_regex import compile_java_pattern
from openrek.protocol.validation import parse_request

MODEL: ServiceModel = botocore.session.get_session().get_service_model("rekognition")
IMAGE = base64.b64encode(b"\xff\xd8\xff\xe0 not really a jpeg").decode()


def shape(operation: str) -> StructureShape:
    input_shape = MODEL.operation_model(operation).input_shape
    assert isinstance(input_shape, StructureShape)
    return input_shape


def validation_message(operation: str, body: Any) -> str:
    with pytest.raises(ValidationException) as info:
        parse_request(shape(operation), body)
    return info.value.message


def serialization_message(operation: str, body: Any) -> str:
    with pytest.raises(SerializationException) as info:
        parse_request(shape(operation), body)
    return info.value.message


# ---- happy paths -------------------------------------------------------------


def test_detect_faces_decodes_the_blob_and_drops_unknown_members() -> None:
    body: dict[str, Any] = {"Image": {"Bytes": IMAGE}, "Attributes": ["ALL"], "NotInTheModel": 1}
    parsed = parse_request(shape("DetectFaces"), body)
    assert parsed == {
        "Image": {"Bytes": b"\xff\xd8\xff\xe0 not really a jpeg"},
        "Attributes": ["ALL"],
    }
    # A new dict: the caller's body is left alone.
    assert body["Image"]["Bytes"] == IMAGE
    assert "NotInTheModel" in body


def test_null_members_count_as_absent() -> None:
    parsed = parse_request(shape("DetectFaces"), {"Image": {"Bytes": IMAGE}, "Attributes": None})
    assert parsed == {"Image": {"Bytes": b"\xff\xd8\xff\xe0 not really a jpeg"}}


def test_numbers_are_converted_to_the_shape_type() -> None:
    body = {
        "CollectionId": "faces",
        "Image": {"S3Object": {"Bucket": "my-bucket", "Name": "a.jpg"}},
        "MaxFaces": 10,
        "FaceMatchThreshold": 80,
    }
    parsed = parse_request(shape("SearchFacesByImage"), body)
    assert parsed["MaxFaces"] == 10 and isinstance(parsed["MaxFaces"], int)
    assert parsed["FaceMatchThreshold"] == 80.0 and isinstance(parsed["FaceMatchThreshold"], float)
    assert parsed["Image"] == {"S3Object": {"Bucket": "my-bucket", "Name": "a.jpg"}}


def test_unicode_tags_satisfy_the_java_unicode_pattern() -> None:
    body = {"CollectionId": "c", "Tags": {"équipe": "北京 ١٢", "a:b/c": "x+y=z@w"}}
    assert parse_request(shape("CreateCollection"), body)["Tags"] == body["Tags"]


def test_operation_without_members_and_none_shape() -> None:
    assert parse_request(shape("ListCollections"), {}) == {}
    assert parse_request(None, {"Anything": 1}) == {}


def test_top_level_body_must_be_an_object() -> None:
    with pytest.raises(SerializationException):
        parse_request(shape("DetectFaces"), [])
    with pytest.raises(SerializationException):
        parse_request(None, "text")


# ---- constraint violations (ValidationException) ----------------------------


def test_missing_image() -> None:
    assert validation_message("DetectFaces", {}) == (
        "1 validation error detected: Value null at 'image' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_max_faces_above_4096() -> None:
    body = {"CollectionId": "c", "Image": {"Bytes": IMAGE}, "MaxFaces": 4097}
    assert validation_message("SearchFacesByImage", body) == (
        "1 validation error detected: Value '4097' at 'maxFaces' failed to satisfy constraint: "
        "Member must have value less than or equal to 4096"
    )


def test_float_range_is_printed_like_java() -> None:
    body = {"CollectionId": "c", "Image": {"Bytes": IMAGE}, "FaceMatchThreshold": 100.5}
    assert validation_message("SearchFacesByImage", body) == (
        "1 validation error detected: Value '100.5' at 'faceMatchThreshold' failed to satisfy "
        "constraint: Member must have value less than or equal to 100"
    )


def test_create_collection_pattern() -> None:
    assert validation_message("CreateCollection", {"CollectionId": "my collection"}) == (
        "1 validation error detected: Value 'my collection' at 'collectionId' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-]+"
    )


def test_empty_collection_id_breaks_pattern_and_length() -> None:
    assert validation_message("CreateCollection", {"CollectionId": ""}) == (
        "2 validation errors detected: "
        "Value '' at 'collectionId' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-]+; "
        "Value '' at 'collectionId' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


def test_index_faces_external_image_id_pattern() -> None:
    body = {"CollectionId": "c", "Image": {"Bytes": IMAGE}, "ExternalImageId": "my photo.jpg"}
    assert validation_message("IndexFaces", body) == (
        "1 validation error detected: Value 'my photo.jpg' at 'externalImageId' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-:]+"
    )


def test_nested_path_is_lower_camel_case() -> None:
    body = {"Image": {"S3Object": {"Bucket": "ab", "Name": "x.jpg"}}}
    assert validation_message("DetectFaces", body) == (
        "1 validation error detected: Value 'ab' at 'image.s3Object.bucket' failed to satisfy "
        "constraint: Member must have length greater than or equal to 3"
    )


def test_empty_blob_is_shown_as_a_java_byte_buffer() -> None:
    assert validation_message("DetectFaces", {"Image": {"Bytes": ""}}) == (
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=0 cap=0]' at "
        "'image.bytes' failed to satisfy constraint: Member must have length greater than or "
        "equal to 1"
    )


def test_blob_length_is_measured_after_decoding() -> None:
    too_big = base64.b64encode(bytes(5 * 1024 * 1024 + 1)).decode()
    message = validation_message("DetectFaces", {"Image": {"Bytes": too_big}})
    assert message == (
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=5242881 "
        "cap=5242881]' at 'image.bytes' failed to satisfy constraint: Member must have length "
        "less than or equal to 5242880"
    )
    # Exactly 5 MiB decoded is fine although its base64 text is longer than that.
    just_right = base64.b64encode(bytes(5 * 1024 * 1024)).decode()
    parsed = parse_request(shape("DetectFaces"), {"Image": {"Bytes": just_right}})
    assert len(parsed["Image"]["Bytes"]) == 5 * 1024 * 1024


def test_scalar_list_elements_are_reported_on_the_list() -> None:
    message = validation_message("DetectFaces", {"Image": {"Bytes": IMAGE}, "Attributes": ["ALL", "HAIR"]})
    attribute = MODEL.shape_for("Attribute")
    assert isinstance(attribute, StringShape)
    enum = ", ".join(attribute.enum)
    assert message == (
        "1 validation error detected: Value '[ALL, HAIR]' at 'attributes' failed to satisfy "
        "constraint: Member must satisfy constraint: "
        f"[Member must satisfy enum value set: [{enum}]]"
    )


def test_structures_in_lists_use_member_paths() -> None:
    body = {"Datasets": [{"Arn": "not-an-arn-but-long-enough"}, {}]}
    message = validation_message("DistributeDatasetEntries", body)
    arn_pattern = MODEL.shape_for("DatasetArn").metadata["pattern"]
    assert message == (
        "2 validation errors detected: "
        "Value 'not-an-arn-but-long-enough' at 'datasets.1.member.arn' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {arn_pattern}; "
        "Value null at 'datasets.2.member.arn' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_list_length_comes_before_its_elements() -> None:
    message = validation_message("DistributeDatasetEntries", {"Datasets": [{}]})
    assert message == (
        "2 validation errors detected: "
        "Value '[{}]' at 'datasets' failed to satisfy constraint: "
        "Member must have length greater than or equal to 2; "
        "Value null at 'datasets.1.member.arn' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_null_structure_inside_a_list() -> None:
    body = {"Image": {"Bytes": IMAGE}, "Filters": {"RegionsOfInterest": [None]}}
    assert validation_message("DetectText", body) == (
        "1 validation error detected: Value null at 'filters.regionsOfInterest.1.member' failed "
        "to satisfy constraint: Member must not be null"
    )


def test_reserved_tag_key_is_reported_on_the_map() -> None:
    body = {"CollectionId": "c", "Tags": {"aws:owner": "me"}}
    key_pattern = MODEL.shape_for("TagKey").metadata["pattern"]
    assert validation_message("CreateCollection", body) == (
        "1 validation error detected: Value '{aws:owner=me}' at 'tags' failed to satisfy "
        "constraint: Map keys must satisfy constraint: [Member must have length less than or "
        "equal to 128, Member must have length greater than or equal to 1, Member must satisfy "
        f"regular expression pattern: {key_pattern}]"
    )


def test_several_errors_are_joined() -> None:
    body = {
        "CollectionId": "bad id",
        "Image": {"Bytes": IMAGE},
        "MaxFaces": 0,
        "QualityFilter": "BEST",
    }
    message = validation_message("SearchFacesByImage", body)
    assert message.startswith("3 validation errors detected: ")
    errors = message.removeprefix("3 validation errors detected: ").split("; ")
    assert errors == [
        "Value 'bad id' at 'collectionId' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-]+",
        "Value '0' at 'maxFaces' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1",
        "Value 'BEST' at 'qualityFilter' failed to satisfy constraint: "
        "Member must satisfy enum value set: [NONE, AUTO, LOW, MEDIUM, HIGH]",
    ]


def test_long_values_are_not_echoed_in_full() -> None:
    body = {"CollectionId": "c", "Image": {"Bytes": IMAGE}, "ExternalImageId": "x" * 100_000}
    message = validation_message("IndexFaces", body)
    assert "Member must have length less than or equal to 255" in message
    assert len(message) < 2_000


# ---- wrong JSON types (SerializationException) ------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10", "STRING_VALUE cannot be converted to Integer"),
        (True, "TRUE_VALUE cannot be converted to Integer"),
        ([10], "Start of list found where not expected"),
        ({"n": 10}, "Start of structure or map found where not expected"),
    ],
)
def test_wrong_type_for_an_integer(value: object, message: str) -> None:
    body = {"CollectionId": "c", "Image": {"Bytes": IMAGE}, "MaxFaces": value}
    assert serialization_message("SearchFacesByImage", body) == message


def test_wrong_type_for_a_string() -> None:
    assert (
        serialization_message("CreateCollection", {"CollectionId": 42})
        == "NUMBER_VALUE cannot be converted to String"
    )
    assert (
        serialization_message("CreateCollection", {"CollectionId": 4.2})
        == "DECIMAL_VALUE cannot be converted to String"
    )


def test_wrong_type_for_a_float_boolean_structure_list_map() -> None:
    base = {"CollectionId": "c", "Image": {"Bytes": IMAGE}}
    assert (
        serialization_message("SearchFacesByImage", {**base, "FaceMatchThreshold": "high"})
        == "STRING_VALUE cannot be converted to Float"
    )
    assert serialization_message("DetectFaces", {"Image": "s3://bucket/key"}) == "Unexpected field type"
    assert (
        serialization_message("DetectFaces", {"Image": {"Bytes": IMAGE}, "Attributes": "ALL"})
        == "Unexpected field type"
    )
    assert (
        serialization_message("CreateCollection", {"CollectionId": "c", "Tags": ["a"]})
        == "Start of list found where not expected"
    )
    assert (
        serialization_message("CreateFaceLivenessSession", {"Settings": {"AuditImagesLimit": False}})
        == "FALSE_VALUE cannot be converted to Integer"
    )


def test_type_errors_win_over_constraint_errors() -> None:
    # AWS deserialises before it validates: the missing Image is never reported.
    assert (
        serialization_message("SearchFacesByImage", {"CollectionId": "", "MaxFaces": "1"})
        == "STRING_VALUE cannot be converted to Integer"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("YWJjZA", "Base64 encoded length is expected a multiple of 4 bytes but found: 6"),
        ("YW Jj", "Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
        ("YW$j", "Invalid Base64 character detected"),
        ("+/+=", "Invalid last non-pad Base64 character dectected"),
    ],
)
def test_invalid_base64(text: str, message: str) -> None:
    assert serialization_message("DetectFaces", {"Image": {"Bytes": text}}) == message


def test_blob_must_be_a_string() -> None:
    assert (
        serialization_message("DetectFaces", {"Image": {"Bytes": 12}})
        == "only base-64-encoded strings are convertible to bytes"
    )


def test_integral_decimal_is_accepted_for_an_integer() -> None:
    body = {"CollectionId": "c", "Image": {"Bytes": IMAGE}, "MaxFaces": 5.0}
    assert parse_request(shape("SearchFacesByImage"), body)["MaxFaces"] == 5


def test_long_out_of_range_is_refused() -> None:
    body = {"Name": "p", "StopSelector": {"MaxDurationInSeconds": 2**64}}
    assert serialization_message("StartStreamProcessor", body) == "NUMBER_VALUE cannot be converted to Long"


# ---- timestamps (no Rekognition input has one; use a synthetic shape) -------


def test_timestamps_become_aware_datetimes() -> None:
    model = ServiceModel(
        {
            "metadata": {"protocol": "json", "apiVersion": "2024-01-01"},
            "operations": {
                "Op": {
                    "name": "Op",
                    "http": {"method": "POST", "requestUri": "/"},
                    "input": {"shape": "OpRequest"},
                },
            },
            "shapes": {
                "OpRequest": {"type": "structure", "members": {"At": {"shape": "Stamp"}}},
                "Stamp": {"type": "timestamp"},
            },
        }
    )
    op_shape = model.operation_model("Op").input_shape
    expected = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_request(op_shape, {"At": 1704164645})["At"] == expected
    assert parse_request(op_shape, {"At": "2024-01-02T03:04:05Z"})["At"] == expected
    with pytest.raises(SerializationException):
        parse_request(op_shape, {"At": "yesterday"})
    with pytest.raises(SerializationException):
        parse_request(op_shape, {"At": True})


# ---- the whole model ----------------------------------------------------------


def _patterns(root: Shape) -> set[str]:
    found: set[str] = set()
    seen: set[str] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node.name in seen:
            continue
        seen.add(node.name)
        if "pattern" in node.metadata:
            found.add(node.metadata["pattern"])
        # botocore builds each structure, list and map as its Shape subclass
        if isinstance(node, StructureShape):
            stack.extend(node.members.values())
        elif isinstance(node, ListShape):
            stack.append(node.member)
        elif isinstance(node, MapShape):
            stack.extend((node.key, node.value))
    return found


def test_every_pattern_of_the_model_compiles_without_warnings() -> None:
    patterns: set[str] = set()
    for name in MODEL.operation_names:
        input_shape = MODEL.operation_model(name).input_shape
        if input_shape is not None:
            patterns |= _patterns(input_shape)
    assert len(patterns) > 20
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for pattern in patterns:
            compile_java_pattern(pattern)


def test_java_pattern_semantics() -> None:
    tag = compile_java_pattern(r"^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]*$")
    assert tag.fullmatch("Ünïcødé 名前 ٣")
    assert not tag.fullmatch("aws:reserved")
    assert not tag.fullmatch("semi;colon")
    # Java's \d is ASCII only.
    assert not compile_java_pattern(r"^[0-9]+$").fullmatch("١٢")
    assert not compile_java_pattern(r"\d+").fullmatch("١٢")
    # Java's '.' stops at any line terminator.
    assert not compile_java_pattern(".{1,}").fullmatch("a\rb")
    # A trailing newline does not sneak past '$'.
    assert not compile_java_pattern("^[0-9]+$").fullmatch("12\n")


def test_every_operation_accepts_an_empty_body_or_names_its_required_members() -> None:
    for name in MODEL.operation_names:
        input_shape = MODEL.operation_model(name).input_shape
        required = [] if input_shape is None else input_shape.required_members
        if not required:
            assert parse_request(input_shape, {}) == {}
            continue
        with pytest.raises(ValidationException) as info:
            parse_request(input_shape, {})
        for member in required:
            lowered = member[0].lower() + member[1:]
            assert f"Value null at '{lowered}' failed" in info.value.message


def test_large_image_is_fast() -> None:
    image = base64.b64encode(bytes(range(256)) * (5 * 1024 * 1024 // 256)).decode()
    start = time.perf_counter()
    parsed = parse_request(shape("DetectFaces"), {"Image": {"Bytes": image}})
    elapsed = time.perf_counter() - start
    assert len(parsed["Image"]["Bytes"]) == 5 * 1024 * 1024
    assert elapsed < 0.5
