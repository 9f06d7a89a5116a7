// What each stored-video job's results are, read from its Get* answers: where the
// timestamped items are, what to draw for one of them over the player, and one line
// of text for it. Shared by the Video page and its timeline.
//
//   JOB_KINDS[start] -> { get, items, title, request(options) }
//   timeOf(start, item) -> milliseconds the item belongs to
//   shapesOfItem(start, item) -> draw.js shapes (ratios of the frame)
//   describeItem(start, item) -> text

import { percent } from "./ui.js";

export const JOB_KINDS = {
  StartLabelDetection: {
    get: "GetLabelDetection",
    items: "Labels",
    title: "Labels",
    request: ({ minConfidence }) => ({ MinConfidence: minConfidence }),
  },
  StartFaceDetection: {
    get: "GetFaceDetection",
    items: "Faces",
    title: "Faces",
    request: () => ({ FaceAttributes: "DEFAULT" }),
  },
  StartFaceSearch: {
    get: "GetFaceSearch",
    items: "Persons",
    title: "Face search",
    request: ({ collectionId, faceMatchThreshold }) => ({
      CollectionId: collectionId,
      FaceMatchThreshold: faceMatchThreshold,
    }),
  },
  StartPersonTracking: { get: "GetPersonTracking", items: "Persons", title: "People", request: () => ({}) },
  StartContentModeration: {
    get: "GetContentModeration",
    items: "ModerationLabels",
    title: "Moderation",
    request: ({ minConfidence }) => ({ MinConfidence: minConfidence }),
  },
  StartTextDetection: { get: "GetTextDetection", items: "TextDetections", title: "Text", request: () => ({}) },
  StartSegmentDetection: {
    get: "GetSegmentDetection",
    items: "Segments",
    title: "Segments",
    request: () => ({ SegmentTypes: ["TECHNICAL_CUE", "SHOT"] }),
  },
  StartCelebrityRecognition: {
    get: "GetCelebrityRecognition",
    items: "Celebrities",
    title: "Celebrities",
    request: () => ({}),
  },
};

export function timeOf(start, item) {
  return start === "StartSegmentDetection" ? item.StartTimestampMillis : item.Timestamp;
}

/** How long an item lasts on the timeline: segments have an end; samples are instants. */
export function endOf(start, item) {
  return start === "StartSegmentDetection" ? item.EndTimestampMillis : item.Timestamp;
}

function box(role, bounding, label) {
  return bounding ? [{ type: "box", role, box: bounding, label }] : [];
}

function matchName(match) {
  const face = match.Face || {};
  return face.ExternalImageId || face.UserId || (face.FaceId || "").slice(0, 8);
}

const SHAPES = {
  StartLabelDetection: (item) =>
    (item.Label.Instances || []).flatMap((instance) =>
      box("label-instance", instance.BoundingBox, `${item.Label.Name} ${percent(instance.Confidence)}`),
    ),
  StartFaceDetection: (item) => box("face", item.Face.BoundingBox, `Face ${percent(item.Face.Confidence)}`),
  StartFaceSearch: (item) => {
    const best = (item.FaceMatches || [])[0];
    const where = item.Person.Face?.BoundingBox || item.Person.BoundingBox;
    return best
      ? box("match", where, `#${item.Person.Index} ${matchName(best)} ${percent(best.Similarity)}`)
      : box("unmatched", where, `#${item.Person.Index} no match`);
  },
  StartPersonTracking: (item) => box("person", item.Person.BoundingBox, `Person #${item.Person.Index}`),
  StartContentModeration: () => [],
  StartTextDetection: (item) => {
    const text = item.TextDetection;
    const polygon = text.Geometry?.Polygon;
    if (!polygon || !polygon.length) return box("text-line", text.Geometry?.BoundingBox, text.DetectedText);
    return [{ type: "polygon", role: text.Type === "WORD" ? "text-word" : "text-line", points: polygon, label: text.DetectedText }];
  },
  StartSegmentDetection: () => [],
  StartCelebrityRecognition: (item) =>
    box("celebrity", item.Celebrity.BoundingBox || item.Celebrity.Face?.BoundingBox, `${item.Celebrity.Name} ${percent(item.Celebrity.Confidence)}`),
};

export function shapesOfItem(start, item) {
  return SHAPES[start](item);
}

const TEXT = {
  StartLabelDetection: (item) =>
    `${item.Label.Name} ${percent(item.Label.Confidence)}${(item.Label.Instances || []).length ? ` · ${item.Label.Instances.length} boxed` : ""}`,
  StartFaceDetection: (item) => `Face ${percent(item.Face.Confidence)}`,
  StartFaceSearch: (item) => {
    const best = (item.FaceMatches || [])[0];
    return best ? `Person #${item.Person.Index}: ${matchName(best)} ${percent(best.Similarity)}` : `Person #${item.Person.Index}: no match`;
  },
  StartPersonTracking: (item) => `Person #${item.Person.Index}${item.Person.BoundingBox ? "" : " (not boxed)"}`,
  StartContentModeration: (item) =>
    `${item.ModerationLabel.Name}${item.ModerationLabel.ParentName ? ` (in ${item.ModerationLabel.ParentName})` : ""} ${percent(item.ModerationLabel.Confidence)}`,
  StartTextDetection: (item) => `${item.TextDetection.Type === "WORD" ? "word" : "line"} “${item.TextDetection.DetectedText}”`,
  StartSegmentDetection: (item) => {
    const what = item.Type === "SHOT" ? `Shot ${item.ShotSegment?.Index ?? ""}` : `${item.TechnicalCueSegment?.Type ?? "Technical cue"}`;
    return `${what} until ${clock(item.EndTimestampMillis)}`;
  },
  StartCelebrityRecognition: (item) => `${item.Celebrity.Name} ${percent(item.Celebrity.Confidence)}`,
};

export function describeItem(start, item) {
  return TEXT[start](item);
}

/** 83456 -> "1:23.456" */
export function clock(millis) {
  const whole = Math.max(0, Math.round(millis));
  const minutes = Math.floor(whole / 60000);
  const seconds = ((whole % 60000) / 1000).toFixed(3).padStart(6, "0");
  return `${minutes}:${seconds}`;
}
