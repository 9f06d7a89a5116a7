// Try: one photo (two for CompareFaces), a button per operation, the answer drawn
// over the photo with the raw JSON beside it.

import { call } from "../rekognition.js";
import { draw, photoFigure, shapesOf } from "../draw.js";
import { MAX_IMAGE_BYTES, MAX_PPE_IMAGE_BYTES, dropZone, readPhoto } from "../photo.js";
import { clear, el, errorText, percent, say } from "../ui.js";

const OPERATIONS = [
  "DetectFaces",
  "DetectLabels",
  "DetectText",
  "DetectModerationLabels",
  "DetectProtectiveEquipment",
  "CompareFaces",
  "RecognizeCelebrities",
];

// What the console sends besides the image: the answers worth seeing in full.
function requestOf(operation, source, target) {
  const image = { Bytes: source.bytes };
  switch (operation) {
    case "DetectFaces":
      return { Image: image, Attributes: ["ALL"] };
    case "DetectProtectiveEquipment":
      return {
        Image: image,
        SummarizationAttributes: { MinConfidence: 80, RequiredEquipmentTypes: ["FACE_COVER", "HEAD_COVER", "HAND_COVER"] },
      };
    case "CompareFaces":
      return { SourceImage: image, TargetImage: { Bytes: target.bytes } };
    default:
      return { Image: image };
  }
}

const yesNo = (attribute, name) =>
  attribute ? `${attribute.Value ? name : `no ${name}`} ${percent(attribute.Confidence)}` : null;

function faceSummary(face, index) {
  const top = [...(face.Emotions || [])].sort((a, b) => b.Confidence - a.Confidence)[0];
  const parts = [
    `Face ${index + 1}: ${percent(face.Confidence)}`,
    face.AgeRange ? `age ${face.AgeRange.Low}–${face.AgeRange.High}` : null,
    face.Gender ? `${face.Gender.Value} ${percent(face.Gender.Confidence)}` : null,
    top ? `${top.Type} ${percent(top.Confidence)}` : null,
    yesNo(face.Smile, "smile"),
    yesNo(face.EyesOpen, "eyes open"),
    yesNo(face.MouthOpen, "mouth open"),
    yesNo(face.Eyeglasses, "eyeglasses"),
    yesNo(face.Sunglasses, "sunglasses"),
    yesNo(face.Beard, "beard"),
    yesNo(face.Mustache, "mustache"),
    face.Pose ? `pose yaw ${face.Pose.Yaw.toFixed(0)}° pitch ${face.Pose.Pitch.toFixed(0)}° roll ${face.Pose.Roll.toFixed(0)}°` : null,
    `${(face.Landmarks || []).length} landmarks`,
  ];
  return parts.filter(Boolean).join(" · ");
}

const SUMMARIES = {
  DetectFaces: (r) => (r.FaceDetails || []).map(faceSummary),
  DetectLabels: (r) =>
    (r.Labels || []).map((label) => {
      const instances = (label.Instances || []).length;
      const parents = (label.Parents || []).map((p) => p.Name).join(", ");
      return `${label.Name} ${percent(label.Confidence)}${instances ? ` · ${instances} boxed` : ""}${parents ? ` · in ${parents}` : ""}`;
    }),
  DetectText: (r) =>
    (r.TextDetections || []).filter((t) => t.Type === "LINE").map((t) => `“${t.DetectedText}” ${percent(t.Confidence)}`),
  DetectModerationLabels: (r) =>
    (r.ModerationLabels || []).map(
      (label) => `${label.Name}${label.ParentName ? ` (in ${label.ParentName})` : ""} ${percent(label.Confidence)}`,
    ),
  DetectProtectiveEquipment: (r) =>
    (r.Persons || []).map((person) => {
      const parts = (person.BodyParts || []).map((part) => {
        const worn = (part.EquipmentDetections || []).map(
          (e) => `${e.Type}${e.CoversBodyPart?.Value ? " covering" : " not covering"}`,
        );
        return `${part.Name}: ${worn.length ? worn.join(", ") : "nothing"}`;
      });
      return `Person ${person.Id} ${percent(person.Confidence)} · ${parts.join(" · ") || "no body parts seen"}`;
    }),
  CompareFaces: (r) => [
    ...(r.FaceMatches || []).map((m, i) => `Match ${i + 1}: similarity ${percent(m.Similarity)}`),
    ...(r.UnmatchedFaces || []).map((_f, i) => `Unmatched face ${i + 1}`),
  ],
  RecognizeCelebrities: (r) => [
    ...(r.CelebrityFaces || []).map((c) => `${c.Name} ${percent(c.MatchConfidence)}${c.Urls?.length ? ` · ${c.Urls[0]}` : ""}`),
    ...(r.UnrecognizedFaces || []).map((_f, i) => `Unrecognised face ${i + 1}`),
  ],
};

export function render(main) {
  let source = null;
  let target = null;
  const status = el("p", { id: "try-status", class: "status", role: "status" });
  const figures = el("div", { class: "figures", id: "try-figures" });
  const summary = el("ol", { id: "try-summary", class: "summary", "aria-label": "Result summary" });
  const json = el("pre", { id: "try-json", class: "json", tabindex: "0", "aria-label": "Raw JSON response" });
  const buttons = OPERATIONS.map((operation) =>
    el("button", { type: "button", "data-operation": operation, disabled: true, onclick: () => run(operation) }, operation),
  );

  function refreshButtons() {
    for (const button of buttons) {
      const needsTarget = button.dataset.operation === "CompareFaces";
      button.disabled = !source || (needsTarget && !target);
    }
  }

  async function preview() {
    clear(figures);
    clear(summary);
    json.textContent = "";
    for (const [photo, caption] of [
      [source, "Photo"],
      [target, "Second photo"],
    ]) {
      if (photo) figures.append((await photoFigure(photo.url, `${caption}: ${photo.name}`)).figure);
    }
  }

  async function choose(which, files) {
    const file = files[0].file;
    try {
      const photo = await readPhoto(file, MAX_IMAGE_BYTES);
      if (which === "source") source = photo;
      else target = photo;
      say(status, `${photo.name} ready${photo.resized ? " (re-encoded to fit the API's 5 MB limit)" : ""}. Press an operation.`);
      await preview();
    } catch (error) {
      say(status, errorText(error), "error");
    }
    refreshButtons();
  }

  let busy = false;

  async function run(operation) {
    // Presses wait for the answer; the buttons stay enabled so the focus stays put.
    if (busy) return;
    busy = true;
    for (const button of buttons) button.setAttribute("aria-disabled", "true");
    say(status, `${operation}…`);
    main.setAttribute("aria-busy", "true");
    try {
      let photo = source;
      if (operation === "DetectProtectiveEquipment" && photo.bytes.length > MAX_PPE_IMAGE_BYTES) {
        photo = await readPhoto(new File([photo.bytes], photo.name), MAX_PPE_IMAGE_BYTES);
      }
      const response = await call(operation, requestOf(operation, photo, target));
      json.textContent = JSON.stringify(response, null, 2);
      clear(figures);
      const pictured = operation === "CompareFaces" ? [["source", source], ["target", target]] : [["source", photo]];
      for (const [which, shown] of pictured) {
        const figure = await photoFigure(shown.url, `${which === "target" ? "Second photo" : "Photo"}: ${shown.name}`);
        draw(figure, shapesOf(operation, response, which));
        figures.append(figure.figure);
      }
      const lines = SUMMARIES[operation](response);
      summary.replaceChildren(...lines.map((line) => el("li", {}, line)));
      const shapes = figures.querySelectorAll("[data-role]").length;
      say(status, `${operation}: ${lines.length} result${lines.length === 1 ? "" : "s"}, ${shapes} shape${shapes === 1 ? "" : "s"} drawn.`, "done");
    } catch (error) {
      json.textContent = "";
      clear(summary);
      say(status, errorText(error), "error");
    } finally {
      busy = false;
      for (const button of buttons) button.removeAttribute("aria-disabled");
      main.removeAttribute("aria-busy");
      refreshButtons();
    }
  }

  main.append(
    el("h1", {}, "Try"),
    el(
      "section",
      { class: "inputs", "aria-label": "Photos" },
      dropZone({ id: "try-photo", label: "Photo", onFiles: (files) => choose("source", files) }),
      dropZone({ id: "try-target", label: "Second photo (CompareFaces target)", onFiles: (files) => choose("target", files) }),
    ),
    el("div", { class: "operations", role: "group", "aria-label": "Operations" }, buttons),
    status,
    el(
      "div",
      { class: "result" },
      el("div", { class: "drawn" }, figures, summary),
      el("details", { class: "raw", open: true }, el("summary", {}, "Raw JSON"), json),
    ),
  );
}
