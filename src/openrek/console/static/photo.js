// Photos in the browser: choosing or dropping them, and fitting them to the API's limits.

import { photoFigure } from "./draw.js";
import { el, errorText, say } from "./ui.js";

// Image.Bytes limits (Rekognition's): 5 MB for most operations, 4 MB for PPE.
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
export const MAX_PPE_IMAGE_BYTES = 4 * 1024 * 1024;
const API_TYPES = new Set(["image/jpeg", "image/png"]);
// A photo re-encoded to fit is at most this many pixels a side (PPE's 4096 limit).
const FIT_SIDE = 4096;

/**
 * A photo ready to send: { name, bytes (Uint8Array), url (blob: URL to show), resized }.
 * JPEG and PNG files within `limit` go as they are; anything larger, or another type
 * the browser can decode (WebP, GIF...), is re-encoded as JPEG until it fits.
 */
export async function readPhoto(file, limit = MAX_IMAGE_BYTES) {
  if (API_TYPES.has(file.type) && file.size <= limit) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    return { name: file.name, bytes, url: URL.createObjectURL(file), resized: false };
  }
  const bitmap = await createImageBitmap(file); // upright: EXIF orientation applied
  let scale = Math.min(1, FIT_SIDE / Math.max(bitmap.width, bitmap.height));
  for (let attempt = 0; attempt < 6; attempt++) {
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
    if (blob && blob.size <= limit) {
      bitmap.close();
      return {
        name: file.name,
        bytes: new Uint8Array(await blob.arrayBuffer()),
        url: URL.createObjectURL(blob),
        resized: true,
      };
    }
    scale *= 0.75;
  }
  bitmap.close();
  throw new Error(`${file.name} could not be made smaller than ${limit} bytes`);
}

/** Image files only, by type or name (a dropped folder may hold anything). */
export function isImageFile(file) {
  return file.type.startsWith("image/") || /\.(jpe?g|png|webp|gif|bmp)$/i.test(file.name);
}

async function readDirectory(entry, prefix) {
  const reader = entry.createReader();
  const files = [];
  // readEntries hands over a directory in batches until it returns none.
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) files.push(...(await filesOfEntry(child, `${prefix}${entry.name}/`)));
  }
  return files;
}

async function filesOfEntry(entry, prefix = "") {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    return [{ file, path: `${prefix}${file.name}` }];
  }
  if (entry.isDirectory) return readDirectory(entry, prefix);
  return [];
}

/** Files of a drop, folders walked: [{ file, path }]. */
export async function droppedFiles(dataTransfer) {
  const entries = [...(dataTransfer.items || [])]
    .filter((item) => item.kind === "file")
    .map((item) => (item.webkitGetAsEntry ? item.webkitGetAsEntry() : null));
  if (entries.length && entries.every(Boolean)) {
    const nested = await Promise.all(entries.map((entry) => filesOfEntry(entry)));
    return nested.flat();
  }
  return [...dataTransfer.files].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/**
 * A labelled drop zone with a file input inside (keyboard: the input is a normal,
 * focusable control). onFiles gets [{ file, path }].
 */
export function dropZone({ id, label, multiple = false, folder = false, onFiles }) {
  const input = el("input", {
    type: "file",
    id,
    accept: folder ? undefined : "image/*",
    multiple: multiple || folder,
    webkitdirectory: folder,
  });
  const hint = el("span", { class: "hint", "aria-live": "polite" }, multiple || folder ? "or drop photos or a folder here" : "or drop a photo here");
  // The input is emptied after each choice (so that the same files can be chosen
  // again); the hint says what was chosen instead.
  const chosen = (files) => {
    hint.textContent = files.length === 1 ? `Chosen: ${files[0].path}` : `Chosen: ${files.length} photos`;
    onFiles(files);
  };
  input.addEventListener("change", () => {
    const files = [...input.files].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
    input.value = "";
    if (files.length) chosen(files);
  });
  const zone = el("div", { class: "drop-zone" }, el("label", { for: id }, label), input, hint);
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const files = (await droppedFiles(event.dataTransfer)).filter(({ file }) => isImageFile(file));
    if (files.length) chosen(multiple || folder ? files : files.slice(0, 1));
  });
  return zone;
}

/**
 * A drop zone for one photo: read (re-encoded to fit the limit if need be), handed to
 * onPhoto, shown in `holder`; `outcome` says it is ready, or why not.
 */
export function photoDrop({ id, label, holder, outcome, onPhoto }) {
  return dropZone({
    id,
    label,
    onFiles: async ([{ file }]) => {
      try {
        const photo = await readPhoto(file);
        onPhoto(photo);
        holder.replaceChildren((await photoFigure(photo.url, photo.name)).figure);
        say(outcome, `${photo.name} ready.`);
      } catch (error) {
        say(outcome, errorText(error), "error");
      }
    },
  });
}
