// What each operation's answer looks like drawn over its photo.
//
// shapesOf(operation, response, which) turns a response into plain shapes:
//   { type: "box", role, box: {Left, Top, Width, Height}, label }
//   { type: "point", role, point: {X, Y}, label }
//   { type: "polygon", role, points: [{X, Y}...], label }
// (coordinates are ratios of the image's width and height, as the API gives them);
// `which` is "source" or "target" for CompareFaces' two photos. photoFigure() shows
// a photo with an SVG over it; draw() puts shapes on that SVG, one element per
// shape, each marked data-role so that tests can count them against the response.

import { el, percent } from "./ui.js";

const SVG = "http://www.w3.org/2000/svg";

function box(role, bounding, label) {
  return bounding ? [{ type: "box", role, box: bounding, label }] : [];
}

function faceShapes(detail, index) {
  const label = `Face ${index + 1} · ${percent(detail.Confidence)}`;
  return [
    ...box("face", detail.BoundingBox, label),
    ...(detail.Landmarks || []).map((mark) => ({
      type: "point",
      role: "landmark",
      point: { X: mark.X, Y: mark.Y },
      label: mark.Type,
    })),
  ];
}

const SHAPES = {
  DetectFaces: (response) => (response.FaceDetails || []).flatMap(faceShapes),
  DetectLabels: (response) =>
    (response.Labels || []).flatMap((label) =>
      (label.Instances || []).flatMap((instance) =>
        box("label-instance", instance.BoundingBox, `${label.Name} ${percent(instance.Confidence)}`),
      ),
    ),
  DetectText: (response) =>
    (response.TextDetections || []).map((text) => ({
      type: "polygon",
      role: text.Type === "LINE" ? "text-line" : "text-word",
      points: text.Geometry.Polygon,
      label: text.DetectedText,
    })),
  DetectModerationLabels: () => [],
  DetectProtectiveEquipment: (response) =>
    (response.Persons || []).flatMap((person) => [
      ...box("person", person.BoundingBox, `Person ${person.Id} · ${percent(person.Confidence)}`),
      ...(person.BodyParts || []).flatMap((part) =>
        (part.EquipmentDetections || []).flatMap((equipment) =>
          box(
            "equipment",
            equipment.BoundingBox,
            `${equipment.Type} on ${part.Name}${equipment.CoversBodyPart?.Value ? " (covers)" : ""}`,
          ),
        ),
      ),
    ]),
  CompareFaces: (response, which) =>
    which === "source"
      ? box("source-face", response.SourceImageFace?.BoundingBox, "Source face")
      : [
          ...(response.FaceMatches || []).flatMap((match) =>
            box("match", match.Face.BoundingBox, `Match ${percent(match.Similarity)}`),
          ),
          ...(response.UnmatchedFaces || []).flatMap((face) => box("unmatched", face.BoundingBox, "No match")),
        ],
  RecognizeCelebrities: (response) => [
    ...(response.CelebrityFaces || []).flatMap((celebrity) =>
      box("celebrity", celebrity.Face.BoundingBox, `${celebrity.Name} ${percent(celebrity.MatchConfidence)}`),
    ),
    ...(response.UnrecognizedFaces || []).flatMap((face) => box("unrecognized", face.BoundingBox, "Not recognised")),
  ],
  SearchFacesByImage: (response) => box("searched-face", response.SearchedFaceBoundingBox, "Searched face"),
};

export function shapesOf(operation, response, which = "source") {
  const shapes = SHAPES[operation];
  return shapes ? shapes(response, which) : [];
}

/** A figure holding the photo and an SVG overlay sized to it; resolves when the photo is loaded. */
export async function photoFigure(url, caption) {
  const image = el("img", { src: url, alt: caption });
  const overlay = document.createElementNS(SVG, "svg");
  overlay.setAttribute("class", "overlay");
  overlay.setAttribute("aria-hidden", "true");
  const figure = el("figure", { class: "photo" }, el("div", { class: "stage" }, image, overlay), el("figcaption", {}, caption));
  await image.decode().catch(() => undefined);
  overlay.setAttribute("viewBox", `0 0 ${image.naturalWidth || 1} ${image.naturalHeight || 1}`);
  overlay.setAttribute("preserveAspectRatio", "none");
  return { figure, overlay, width: image.naturalWidth || 1, height: image.naturalHeight || 1 };
}

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/** Draws shapes on a photoFigure's overlay (replacing what was there). */
export function draw({ overlay, width, height }, shapes) {
  overlay.replaceChildren();
  const unit = Math.max(width, height) / 400; // sizes follow the photo, not the screen
  for (const shape of shapes) {
    const group = svg("g", { class: `shape ${shape.role}`, "data-role": shape.role });
    const title = svg("title", {});
    title.textContent = shape.label || shape.role;
    group.append(title);
    if (shape.type === "box") {
      const x = shape.box.Left * width;
      const y = shape.box.Top * height;
      group.append(svg("rect", { x, y, width: shape.box.Width * width, height: shape.box.Height * height }));
      if (shape.label) {
        // A box near the right edge gets its label ending at its right side, not past the photo.
        const nearRight = shape.box.Left + shape.box.Width / 2 > 0.75;
        const text = svg("text", {
          x: nearRight ? x + shape.box.Width * width - unit : x + unit,
          y: Math.max(y - unit, 8 * unit),
          "font-size": 7 * unit,
          "text-anchor": nearRight ? "end" : "start",
        });
        text.textContent = shape.label;
        group.append(text);
      }
    } else if (shape.type === "point") {
      group.append(svg("circle", { cx: shape.point.X * width, cy: shape.point.Y * height, r: 1.6 * unit }));
    } else if (shape.type === "polygon") {
      const points = shape.points.map((p) => `${p.X * width},${p.Y * height}`).join(" ");
      group.append(svg("polygon", { points }));
    }
    overlay.append(group);
  }
}
