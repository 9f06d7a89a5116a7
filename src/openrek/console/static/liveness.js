// The Face Liveness capture page: /console/liveness?sessionId=ID (docs/liveness.md).
//
// It runs the session's challenge in front of the camera and sends the capture:
// GET /liveness/sessions/{id}/challenge, then POST /liveness/sessions/{id}/frames, both
// signed like any API call (rekognition.js signedJson), then GetFaceLivenessSessionResults.
//
// The timeline is fixed, counted from the moment the camera started (the first frame's
// capture time less its mediaTime, where the browser gives them), so that footage made
// for a session (the browser tests' fake camera, which plays a file from its first frame
// at camera start) follows it to the frame:
//   0 .. FIT_MS                 the small oval: fit your face at arm's length;
//   FIT_MS .. FIT_MS + flashes  the session's oval, "move closer", the flashes in order,
//                               each for its DurationMs (MOVE_MS when there are none);
//   then HOLD_MS                hold still in the oval.
// Each new camera frame (at most one per MIN_GAP_MS) is sent with its time on this
// timeline and the index of the flash the timeline shows at that time.

import { call, signedJson } from "./rekognition.js";
import { errorText, percent, say } from "./ui.js";

export const FIT_MS = 1800;
export const MOVE_MS = 2500; // the move closer when the challenge has no flashes
export const HOLD_MS = 500;
const MIN_GAP_MS = 66; // at most ~15 frames a second: enough, and the upload stays small
const MAX_SIDE = 640; // frames are scaled down to this, never up
const JPEG_QUALITY = 0.85;
// A first frame whose mediaTime says the camera ran longer than this was not opened by
// this page (a shared stream): the timeline then starts at that frame instead.
const MAX_CAMERA_LEAD_S = 2;
// Where a face at arm's length sits before moving closer (ratios of the frame).
const START_OVAL = { CenterX: 0.5, CenterY: 0.45, Width: 0.26, AspectRatio: 1.35 };
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const $ = (id) => document.getElementById(id);
const startButton = $("liveness-start");
const status = $("liveness-status");
const prompt = $("liveness-prompt");
const video = $("liveness-camera");
const flashLayer = $("liveness-flash");
const sessionId = new URLSearchParams(location.search).get("sessionId") || "";

/** Where the timeline is at `t` ms: its phase, and the index of the flash on screen (or null). */
export function timelineAt(challenge, t) {
  const flashes = challenge.Flashes || [];
  if (t < FIT_MS) return { phase: "fit", flash: null };
  let elapsed = t - FIT_MS;
  if (!flashes.length) return elapsed < MOVE_MS ? { phase: "move", flash: null } : holdOrEnd(elapsed - MOVE_MS);
  for (let index = 0; index < flashes.length; index += 1) {
    if (elapsed < flashes[index].DurationMs) return { phase: "move", flash: index };
    elapsed -= flashes[index].DurationMs;
  }
  return holdOrEnd(elapsed);
}

function holdOrEnd(elapsed) {
  return { phase: elapsed < HOLD_MS ? "hold" : "end", flash: null };
}

const PROMPTS = {
  fit: "Fit your face in the oval",
  move: "Move closer until your face fills the oval",
  hold: "Hold still",
  end: "Checking…",
};

function drawOval(oval, width, height) {
  const svg = $("liveness-oval");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const ellipse = $("liveness-ellipse");
  const rx = (oval.Width * width) / 2;
  ellipse.setAttribute("cx", String(oval.CenterX * width));
  ellipse.setAttribute("cy", String(oval.CenterY * height));
  ellipse.setAttribute("rx", String(rx));
  ellipse.setAttribute("ry", String(rx * oval.AspectRatio));
}

function showFlash(color) {
  if (color) {
    flashLayer.style.background = `rgb(${color[0]}, ${color[1]}, ${color[2]})`;
    flashLayer.hidden = false;
    document.body.classList.add("flashing");
  } else {
    flashLayer.hidden = true;
    document.body.classList.remove("flashing");
  }
}

/** Calls `handle(metadata)` for each new camera frame (requestVideoFrameCallback where
 * the browser has it, else each animation frame); stops when it returns false. */
function eachFrame(handle) {
  if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    const step = (now, metadata) => {
      if (handle(now, metadata)) video.requestVideoFrameCallback(step);
    };
    video.requestVideoFrameCallback(step);
  } else {
    const step = (now) => {
      if (handle(now, {})) requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }
}

function frameCanvas() {
  const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  return canvas;
}

function jpeg(canvas) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the frame could not be encoded"))), "image/jpeg", JPEG_QUALITY);
  });
}

function base64Of(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/** Runs the challenge in front of the camera; resolves to the frames taken. */
function capture(challenge) {
  const canvas = frameCanvas();
  const context = canvas.getContext("2d");
  const frames = [];
  let start = null; // capture time of the first frame, on performance.now()'s clock
  let lastTaken = -Infinity;
  let shownPhase = null;
  let shownFlash = null;

  // The screen follows the timeline on every animation frame (finer than the camera's).
  function paint() {
    if (start === null) return requestAnimationFrame(paint);
    const { phase, flash } = timelineAt(challenge, performance.now() - start);
    if (phase !== shownPhase) {
      shownPhase = phase;
      prompt.textContent = PROMPTS[phase];
      drawOval(phase === "fit" ? START_OVAL : challenge.Oval, canvas.width, canvas.height);
    }
    if (flash !== shownFlash) {
      shownFlash = flash;
      showFlash(flash === null ? null : challenge.Flashes[flash].Color);
    }
    if (phase !== "end") requestAnimationFrame(paint);
  }
  requestAnimationFrame(paint);

  return new Promise((resolve, reject) => {
    eachFrame((now, metadata) => {
      // captureTime: when the camera took the frame (Chromium gives it for local cameras).
      const taken = typeof metadata.captureTime === "number" ? metadata.captureTime : now;
      if (start === null) {
        // mediaTime: how long the camera had been running when it took this frame
        // (Chromium counts it from the camera's start). The timeline starts there, so a
        // frame's time on it does not depend on how long the page took to show the first.
        const sinceCameraStart =
          typeof metadata.mediaTime === "number" && metadata.mediaTime >= 0 && metadata.mediaTime < MAX_CAMERA_LEAD_S
            ? metadata.mediaTime * 1000
            : 0;
        start = Math.min(taken, performance.now()) - sinceCameraStart;
      }
      const t = taken - start;
      const { phase, flash } = timelineAt(challenge, t);
      if (phase === "end") {
        Promise.all(frames).then(resolve, reject);
        return false;
      }
      if (t - lastTaken >= MIN_GAP_MS) {
        lastTaken = t;
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        const timestamp = Math.round(t * 10) / 10;
        frames.push(jpeg(canvas).then((blob) => ({ TimestampMs: timestamp, Flash: flash, blob })));
      }
      return true;
    });
  });
}

async function openCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error("This browser gives no camera here (the page needs https, or http on localhost)");
  }
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } },
  });
  video.srcObject = stream;
  $("capture-view").hidden = false;
  await video.play();
  if (!video.videoWidth) await new Promise((resolve) => video.addEventListener("loadedmetadata", resolve, { once: true }));
  return stream;
}

function showOutcome(results) {
  $("liveness-result-status").textContent = results.Status;
  $("liveness-confidence").textContent = results.Confidence === undefined ? "none" : percent(results.Confidence);
  const outcome = $("liveness-outcome");
  outcome.hidden = false;
  outcome.dataset.status = results.Status;
}

async function run() {
  if (!SESSION_ID.test(sessionId)) {
    say(status, "Open this page as /console/liveness?sessionId=ID, with the SessionId CreateFaceLivenessSession returned.", "error");
    return;
  }
  $("liveness-outcome").hidden = true;
  let stream = null;
  try {
    say(status, "Getting the session's challenge…");
    const { Challenge: challenge } = await signedJson("GET", `/liveness/sessions/${sessionId}/challenge`);
    say(status, "Opening the camera…");
    stream = await openCamera();
    say(status, "Capturing: follow the prompts.");
    const frames = await capture(challenge);
    stream.getTracks().forEach((track) => track.stop());
    stream = null;
    showFlash(null);
    say(status, `Sending ${frames.length} frames…`);
    const payload = {
      SDKType: "openrek-console",
      Frames: await Promise.all(
        frames.map(async ({ TimestampMs, Flash, blob }) => ({ TimestampMs, Flash, Image: await base64Of(blob) })),
      ),
    };
    await signedJson("POST", `/liveness/sessions/${sessionId}/frames`, payload);
    showOutcome(await call("GetFaceLivenessSessionResults", { SessionId: sessionId }));
    say(status, "Done.", "done");
    prompt.textContent = "";
  } catch (error) {
    say(status, errorText(error), "error");
    prompt.textContent = "";
  } finally {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    showFlash(null);
    $("capture-view").hidden = true;
  }
}

$("liveness-session").textContent = sessionId ? `Session ${sessionId}` : "No session given.";
startButton.addEventListener("click", async () => {
  if (startButton.getAttribute("aria-disabled") === "true") return;
  startButton.setAttribute("aria-disabled", "true");
  try {
    await run();
  } finally {
    startButton.removeAttribute("aria-disabled");
  }
});
