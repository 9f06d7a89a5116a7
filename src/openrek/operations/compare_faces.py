"""CompareFaces: the largest source face against up to 100 target faces."""

from __future__ import annotations

from typing import Any

import numpy as np

from openrek.inference.faces.analyzer import FaceAnalysis, Need
from openrek.operations.collection_faces import DEFAULT_MATCH_THRESHOLD, largest_face
from openrek.operations.face_detail import face_detail, ratio_box
from openrek.operations.quality_filter import rejection_reasons
from openrek.services import Services

MAX_TARGET_FACES = 100
# The landmarks AWS returns for a compared face: a subset of DetectFaces' 30.
COMPARED_LANDMARKS = {"eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose"}
COMPARED_FIELDS = ("BoundingBox", "Confidence", "Landmarks", "Pose", "Quality", "Emotions", "Smile")


def compared_face(face: FaceAnalysis, width: int, height: int) -> dict[str, Any]:
    detail = face_detail(face, width, height, frozenset({"EMOTIONS", "SMILE"}))
    detail["Landmarks"] = [m for m in detail["Landmarks"] if m["Type"] in COMPARED_LANDMARKS]
    return {key: detail[key] for key in COMPARED_FIELDS if key in detail}


def compare_faces(params: dict[str, Any], services: Services) -> dict[str, Any]:
    quality_filter = params.get("QualityFilter", "NONE")
    threshold = params.get("SimilarityThreshold", DEFAULT_MATCH_THRESHOLD)
    embedder = services.embedder_for(services.default_face_model_version)
    source_image = services.load_image(params["SourceImage"])
    target_image = services.load_image(params["TargetImage"])
    source = largest_face(services, source_image.rgb, quality_filter)
    source_vector = embedder.embed(source_image.rgb, source.points)
    targets = [
        face
        for face in services.faces.analyze(
            target_image.rgb,
            frozenset({Need.EMOTION, Need.EXPRESSION, Need.ALIGNMENT}),
            MAX_TARGET_FACES,
            turned=True,
        )
        if not rejection_reasons(face, quality_filter)
    ]
    scored = []
    for face in targets:
        cosine = float(np.dot(source_vector, embedder.embed(target_image.rgb, face.points)))
        similarity = float(services.similarity(cosine, embedder.version))
        scored.append((similarity, compared_face(face, target_image.width, target_image.height)))
    scored.sort(key=lambda pair: -pair[0])
    return {
        "SourceImageFace": {
            "BoundingBox": ratio_box(source.box, source_image.width, source_image.height),
            "Confidence": float(source.score * 100),
        },
        "FaceMatches": [
            {"Similarity": similarity, "Face": face} for similarity, face in scored if similarity >= threshold
        ],
        "UnmatchedFaces": [face for similarity, face in scored if similarity < threshold],
    }


HANDLERS = {"CompareFaces": compare_faces}
