// AWS Signature Version 4 for the console's requests: JSON POSTs to "/", and the GET/POST of
// the liveness capture endpoints (rekognition.js signedJson).
//
//   signRequest({ method, host, path, headers, body, region, service, accessKeyId,
//                 secretAccessKey, now, payloadHash }) -> Promise<headers with Authorization added>
//
// `path` is the canonical path (what the server signs it as). `payloadHash`, when given,
// is signed in place of the body's SHA-256: upload.js gives "UNSIGNED-PAYLOAD" (and the
// same value in its X-Amz-Content-SHA256 header) so that a large file is never hashed.
//
// `headers` are the ones the request will carry besides Host (the browser sets Host
// itself, from the page's address, so it is signed from `host` and never set here).
// Every header given is signed; that includes every X-Amz-* header, which a server
// refuses to see unsigned.

import { hmacSha256, sha256, toHex, utf8 } from "./sha256.js";

const ALGORITHM = "AWS4-HMAC-SHA256";

/** 20240102T030405Z: the ISO-8601 basic form SigV4 signs. */
export function amzDate(now) {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

function canonicalHeaders(headers) {
  const entries = Object.entries(headers).map(([name, value]) => [
    name.toLowerCase(),
    String(value).trim().replace(/\s+/g, " "),
  ]);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    text: entries.map(([name, value]) => `${name}:${value}\n`).join(""),
    names: entries.map(([name]) => name).join(";"),
  };
}

async function signingKey(secretAccessKey, day, region, service) {
  let key = await hmacSha256(utf8(`AWS4${secretAccessKey}`), utf8(day));
  for (const part of [region, service, "aws4_request"]) key = await hmacSha256(key, utf8(part));
  return key;
}

export async function signRequest({
  method = "POST",
  host,
  path = "/",
  query = "",
  headers,
  body,
  region,
  service = "rekognition",
  accessKeyId,
  secretAccessKey,
  now = new Date(),
  payloadHash = null,
}) {
  const stamp = amzDate(now);
  const day = stamp.slice(0, 8);
  const signed = { ...headers, host, "x-amz-date": stamp };
  const { text, names } = canonicalHeaders(signed);
  const bodyHash = payloadHash ?? toHex(await sha256(body));
  const canonicalRequest = [method, path, query, text, names, bodyHash].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, stamp, scope, toHex(await sha256(utf8(canonicalRequest)))].join("\n");
  const key = await signingKey(secretAccessKey, day, region, service);
  const signature = toHex(await hmacSha256(key, utf8(stringToSign)));
  const { host: _host, ...sent } = signed;
  return {
    ...sent,
    Authorization: `${ALGORITHM} Credential=${accessKeyId}/${scope}, SignedHeaders=${names}, Signature=${signature}`,
  };
}
