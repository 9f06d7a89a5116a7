"""RecognizeCelebrities and GetCelebrityInfo, over the operator's gallery (openrek.celebrities).

With an empty gallery (the state a new server starts in: no registry package carries
a celebrity gallery) every face is answered in UnrecognizedFaces.
"""

from __future__ import annotations

from typing import Any

from openrek.celebrities.matching import MATCH_THRESHOLD, Recognition, recognise
from openrek.inference.faces.analyzer import Need
from openrek.operations.compare_faces import compared_face
from openrek.protocol.errors import ResourceNotFoundException
from openrek.services import Services

# AWS: "RecognizeCelebrities returns the 64 largest faces in the image."
MAX_FACES = 64


def recognize_celebrities(params: dict[str, Any], services: Services) -> dict[str, Any]:
    image = services.load_image(params["Image"])
    version = services.default_face_model_version
    gallery = services.celebrities.face_vectors(version)
    # Identity needs refined points; an empty gallery needs no identity at all.
    # Emotions and Smile are part of every answered face (compared_face).
    needs = {Need.EMOTION, Need.EXPRESSION} | ({Need.ALIGNMENT} if len(gallery) else set())
    faces = services.faces.analyze(image.rgb, frozenset(needs), MAX_FACES, turned=True)
    found: list[Recognition | None] = [None] * len(faces)
    if len(gallery):
        embedder = services.embedder_for(version)
        vectors = [embedder.embed(image.rgb, face.points) for face in faces]
        found = recognise(vectors, gallery, services.min_cosine(MATCH_THRESHOLD, version))
    recognised: list[dict[str, Any]] = []
    unrecognised: list[dict[str, Any]] = []
    for face, recognition in zip(faces, found, strict=True):
        compared = compared_face(face, image.width, image.height)
        if recognition is None:
            unrecognised.append(compared)
            continue
        celebrity = recognition.celebrity
        recognised.append(
            {
                **celebrity.info(),
                "Id": celebrity.celebrity_id,
                "Face": compared,
                "MatchConfidence": float(services.similarity(recognition.cosine, version)),
            }
        )
    return {"CelebrityFaces": recognised, "UnrecognizedFaces": unrecognised}


def get_celebrity_info(params: dict[str, Any], services: Services) -> dict[str, Any]:
    celebrity = services.celebrities.get(params["Id"])
    if celebrity is None:
        raise ResourceNotFoundException(f"The celebrity id: {params['Id']} does not exist")
    return celebrity.info()


HANDLERS = {
    "RecognizeCelebrities": recognize_celebrities,
    "GetCelebrityInfo": get_celebrity_info,
}
