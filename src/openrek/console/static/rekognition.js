// The console's Rekognition client: the same API any AWS SDK calls, from the browser.
//
// Interface (import it from any page served under /console):
//
//   import { call } from "/console/static/rekognition.js";
//   const faces = await call("DetectFaces", { Image: { Bytes: photoBytes }, Attributes: ["ALL"] });
//
//   call(operation, params) -> Promise<object>
//     POST / with X-Amz-Target "RekognitionService.<operation>" and Content-Type
//     application/x-amz-json-1.1; `params` as the API documents them, except that a
//     blob (Image.Bytes) may be given as a Uint8Array or ArrayBuffer: it is sent as
//     base64. Resolves to the parsed JSON response. On an AWS error it rejects with a
//     RekognitionError: `.code` (e.g. "InvalidParameterException"), `.message`,
//     `.status` (HTTP status; 0 when the server could not be reached).
//
//   When the server requires access keys (GET /console/config.json says so), the
//   request is signed with SigV4 for the server's region. The key pair is asked for
//   once per tab (a dialog, see key-dialog.js) and kept ONLY in sessionStorage; a key
//   the server does not know, or a secret that does not match, is forgotten so that
//   the next call asks again.
//
//   Also exported: RekognitionError, serverConfig(), storedKeys(), forgetKeys(),
//   keysFor(region) (the tab's keys, asked for once), keysAreWrong(error),
//   errorFrom(response) (the RekognitionError an AWS error answer carries), and
//
//   signedJson(method, path, payload) -> Promise<object>
//     A JSON request ("GET" with no payload, or "POST") to one of openrek's own
//     endpoints beside the API, e.g. "/liveness/sessions/<id>/challenge" (the Face
//     Liveness capture protocol, docs/liveness.md), signed and answered like call():
//     the same keys, the same RekognitionError on an AWS error.

import { signRequest } from "./sigv4.js";
import { utf8 } from "./sha256.js";

const TARGET_PREFIX = "RekognitionService.";
const CONTENT_TYPE = "application/x-amz-json-1.1";
const KEYS_ITEM = "openrek.console.keys";

export class RekognitionError extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = "RekognitionError";
    this.code = code;
    this.status = status;
  }

  toString() {
    return `${this.code}: ${this.message}`;
  }
}

let configPromise = null;

/** { region, keysRequired }, fetched once per page. */
export function serverConfig() {
  if (!configPromise) {
    configPromise = fetch("/console/config.json", { cache: "no-cache" }).then((response) => {
      if (!response.ok) throw new RekognitionError("ConsoleConfigUnavailable", "GET /console/config.json failed", response.status);
      return response.json();
    });
    configPromise.catch(() => {
      configPromise = null; // try again on the next call
    });
  }
  return configPromise;
}

/** The key pair this tab holds, or null. */
export function storedKeys() {
  try {
    const raw = sessionStorage.getItem(KEYS_ITEM);
    const keys = raw ? JSON.parse(raw) : null;
    return keys && keys.accessKeyId && keys.secretAccessKey ? keys : null;
  } catch {
    return null;
  }
}

export function forgetKeys() {
  sessionStorage.removeItem(KEYS_ITEM);
  document.dispatchEvent(new CustomEvent("openrek:keys-changed"));
}

function keepKeys(keys) {
  sessionStorage.setItem(KEYS_ITEM, JSON.stringify(keys));
  document.dispatchEvent(new CustomEvent("openrek:keys-changed"));
}

let pendingPrompt = null;

/** Asks once for a key pair, however many calls are waiting for one. */
export async function keysFor(region) {
  const held = storedKeys();
  if (held) return held;
  if (!pendingPrompt) {
    pendingPrompt = import("./key-dialog.js")
      .then(({ askForKeys }) => askForKeys(region))
      .then((keys) => {
        if (keys) keepKeys(keys);
        return keys;
      })
      .finally(() => {
        pendingPrompt = null;
      });
  }
  return pendingPrompt;
}

function base64(bytes) {
  let binary = "";
  const step = 0x8000; // String.fromCharCode takes its arguments on the stack
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

function encodeBlobs(_key, value) {
  if (value instanceof ArrayBuffer) return base64(new Uint8Array(value));
  if (value instanceof Uint8Array) return base64(value);
  return value;
}

// Answers that mean the keys themselves are wrong (not, say, a skewed clock).
export function keysAreWrong(error) {
  return (
    error.code === "UnrecognizedClientException" ||
    (error.code === "InvalidSignatureException" && error.message.startsWith("The request signature we calculated"))
  );
}

export async function errorFrom(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // not JSON: the status says what there is to say
  }
  const typed = response.headers.get("x-amzn-ErrorType") || body.__type || `HTTP${response.status}`;
  const code = typed.split(":")[0].split("#").pop();
  const message = body.Message || body.message || response.statusText || "request failed";
  return new RekognitionError(code, message, response.status);
}

export async function call(operation, params = {}) {
  const headers = { "content-type": CONTENT_TYPE, "x-amz-target": TARGET_PREFIX + operation };
  return send("POST", "/", headers, utf8(JSON.stringify(params, encodeBlobs)));
}

export async function signedJson(method, path, payload) {
  if (payload === undefined) return send(method, path, {}, undefined);
  return send(method, path, { "content-type": "application/json" }, utf8(JSON.stringify(payload)));
}

// One request to openrek, signed with the tab's keys when the server requires them;
// the parsed JSON answer, or a RekognitionError (wrong keys are forgotten).
async function send(method, path, headers, body) {
  const config = await serverConfig();
  const keys = config.keysRequired ? await keysFor(config.region) : null;
  if (keys) {
    headers = await signRequest({
      method,
      host: location.host,
      path,
      headers,
      body: body ?? new Uint8Array(0),
      region: config.region,
      accessKeyId: keys.accessKeyId,
      secretAccessKey: keys.secretAccessKey,
    });
  }
  let response;
  try {
    const init = { method, headers, cache: "no-store", credentials: "omit" };
    response = await fetch(path, body === undefined ? init : { ...init, body });
  } catch (failure) {
    throw new RekognitionError("NetworkError", `openrek could not be reached (${failure.message})`, 0);
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (keys && keysAreWrong(error)) forgetKeys();
    throw error;
  }
  return response.json();
}
