// Puts a file chosen in the browser into the server's local bucket folders, where the
// video jobs read S3 objects from (PUT /console/uploads/<bucket>/<key>, docs/console.md).
//
//   uploadObject(bucket, key, file, onProgress) -> Promise<{ Bucket, Name, Size }>
//     onProgress(sentBytes, totalBytes) as the body goes out. Rejects with a
//     RekognitionError (rekognition.js): the server's AWS error, or "NetworkError".
//
//   checkKey(key) -> a sentence saying why the key cannot be a file, or "".
//
// The request is signed like every other console request when keys are required, but
// with X-Amz-Content-SHA256: UNSIGNED-PAYLOAD, as S3 uploads are: hashing a video of up
// to 2 GiB in the page would read it whole before the first byte is sent (the pure-JS
// SHA-256 at tens of MB/s, or WebCrypto holding all of it in memory). The path, the
// date, the key and the declared hash are all signed. XMLHttpRequest, not fetch:
// only it reports upload progress over HTTP/1.1.

import { RekognitionError, errorFrom, forgetKeys, keysAreWrong, keysFor, serverConfig } from "./rekognition.js";
import { signRequest } from "./sigv4.js";

const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

// SigV4's URI encoding: everything but A-Z a-z 0-9 - _ . ~ (encodeURIComponent spares !'()* too).
function uriEncode(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function checkKey(key) {
  if (!key) return "Name the S3 key to upload to.";
  if (key.split("/").some((part) => part === "" || part === "." || part === "..")) {
    return "The key must be names separated by single '/', none of them '.' or '..', and not end with '/'.";
  }
  return "";
}

export async function uploadObject(bucket, key, file, onProgress = () => {}) {
  const problem = checkKey(key);
  if (problem) throw new RekognitionError("InvalidParameterException", problem, 0);
  const path = `/console/uploads/${uriEncode(bucket)}/${key.split("/").map(uriEncode).join("/")}`;
  const config = await serverConfig();
  let headers = { "x-amz-content-sha256": UNSIGNED_PAYLOAD };
  const keys = config.keysRequired ? await keysFor(config.region) : null;
  if (keys) {
    headers = await signRequest({
      method: "PUT",
      host: location.host,
      // The server signs the path as sent, URI-encoded once more (as every AWS service but S3 does).
      path: path.split("/").map(uriEncode).join("/"),
      headers,
      payloadHash: UNSIGNED_PAYLOAD,
      region: config.region,
      accessKeyId: keys.accessKeyId,
      secretAccessKey: keys.secretAccessKey,
    });
  }
  const response = await new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", path);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.addEventListener("progress", (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size));
    request.addEventListener("load", () =>
      resolve(
        new Response(request.status === 204 ? null : request.responseText, {
          status: request.status,
          headers: { "x-amzn-ErrorType": request.getResponseHeader("x-amzn-ErrorType") || "" },
        }),
      ),
    );
    request.addEventListener("error", () => reject(new RekognitionError("NetworkError", "openrek could not be reached, or closed the upload", 0)));
    request.addEventListener("abort", () => reject(new RekognitionError("NetworkError", "the upload was stopped", 0)));
    request.send(file);
  });
  if (!response.ok) {
    const error = await errorFrom(response);
    if (keys && keysAreWrong(error)) forgetKeys();
    throw error;
  }
  onProgress(file.size, file.size);
  return response.json();
}
