// SHA-256 and HMAC-SHA256 for the SigV4 signer.
//
// WebCrypto (crypto.subtle) exists only in secure contexts: pages served from
// http://127.0.0.1 or http://localhost are, a LAN address over plain http is not.
// There the console still has to sign, so this module carries its own SHA-256
// (FIPS 180-4) and HMAC (RFC 2104), checked against the standards' test vectors by
// tests/console. WebCrypto is used whenever it is there.
//
//   sha256(bytes) -> Promise<Uint8Array>          hmacSha256(key, bytes) -> Promise<Uint8Array>
//   sha256Fallback / hmacSha256Fallback: the same, synchronous, always the JS code
//   toHex(bytes) -> string                        utf8(text) -> Uint8Array

// FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the cube
// roots of the first 64 primes.
const ROUND_CONSTANTS = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// Section 5.3.3: the first 32 bits of the fractional parts of the square roots of
// the first 8 primes.
const INITIAL_STATE = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
const BLOCK_BYTES = 64;

const rotateRight = (word, bits) => (word >>> bits) | (word << (32 - bits));

function compressBlock(state, schedule, view, offset) {
  for (let t = 0; t < 16; t++) schedule[t] = view.getUint32(offset + t * 4);
  for (let t = 16; t < 64; t++) {
    const w15 = schedule[t - 15];
    const w2 = schedule[t - 2];
    const sigma0 = rotateRight(w15, 7) ^ rotateRight(w15, 18) ^ (w15 >>> 3);
    const sigma1 = rotateRight(w2, 17) ^ rotateRight(w2, 19) ^ (w2 >>> 10);
    schedule[t] = (schedule[t - 16] + sigma0 + schedule[t - 7] + sigma1) | 0;
  }
  let [a, b, c, d, e, f, g, h] = state;
  for (let t = 0; t < 64; t++) {
    const bigSigma1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25);
    const choose = (e & f) ^ (~e & g);
    const temp1 = (h + bigSigma1 + choose + ROUND_CONSTANTS[t] + schedule[t]) | 0;
    const bigSigma0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22);
    const majority = (a & b) ^ (a & c) ^ (b & c);
    const temp2 = (bigSigma0 + majority) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + temp1) | 0;
    d = c;
    c = b;
    b = a;
    a = (temp1 + temp2) | 0;
  }
  const next = [a, b, c, d, e, f, g, h];
  for (let i = 0; i < 8; i++) state[i] = (state[i] + next[i]) | 0;
}

/** SHA-256 of a Uint8Array, in JavaScript. */
export function sha256Fallback(bytes) {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  // Padding (section 5.1.1): a 1 bit, zeros, then the length in bits as 64 bits.
  const paddedLength = Math.ceil((data.length + 9) / BLOCK_BYTES) * BLOCK_BYTES;
  const padded = new Uint8Array(paddedLength);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bitLength = data.length * 8;
  view.setUint32(paddedLength - 8, Math.floor(bitLength / 2 ** 32));
  view.setUint32(paddedLength - 4, bitLength >>> 0);
  const state = INITIAL_STATE.slice();
  const schedule = new Int32Array(64);
  for (let offset = 0; offset < paddedLength; offset += BLOCK_BYTES) {
    compressBlock(state, schedule, view, offset);
  }
  const digest = new Uint8Array(32);
  const out = new DataView(digest.buffer);
  state.forEach((word, i) => out.setUint32(i * 4, word >>> 0));
  return digest;
}

/** HMAC-SHA256 (RFC 2104) of bytes under key, both Uint8Array, in JavaScript. */
export function hmacSha256Fallback(key, bytes) {
  let block = key.length > BLOCK_BYTES ? sha256Fallback(key) : key;
  const padded = new Uint8Array(BLOCK_BYTES);
  padded.set(block);
  block = padded;
  const inner = new Uint8Array(BLOCK_BYTES + bytes.length);
  const outer = new Uint8Array(BLOCK_BYTES + 32);
  for (let i = 0; i < BLOCK_BYTES; i++) {
    inner[i] = block[i] ^ 0x36;
    outer[i] = block[i] ^ 0x5c;
  }
  inner.set(bytes, BLOCK_BYTES);
  outer.set(sha256Fallback(inner), BLOCK_BYTES);
  return sha256Fallback(outer);
}

/** WebCrypto when this page may use it, else null. */
function subtle() {
  return globalThis.isSecureContext && globalThis.crypto && globalThis.crypto.subtle
    ? globalThis.crypto.subtle
    : null;
}

/** Whether signing runs on WebCrypto (true) or on this file's JavaScript (false). */
export function usesWebCrypto() {
  return subtle() !== null;
}

export async function sha256(bytes) {
  const webCrypto = subtle();
  if (!webCrypto) return sha256Fallback(bytes);
  return new Uint8Array(await webCrypto.digest("SHA-256", bytes));
}

export async function hmacSha256(key, bytes) {
  const webCrypto = subtle();
  if (!webCrypto) return hmacSha256Fallback(key, bytes);
  const imported = await webCrypto.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await webCrypto.sign("HMAC", imported, bytes));
}

export function toHex(bytes) {
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text;
}

export function utf8(text) {
  return new TextEncoder().encode(text);
}
