// The console's shell: hash routes to pages, and the key state in the header.

import { forgetKeys, serverConfig, storedKeys } from "./rekognition.js";
import { clear, el, errorText } from "./ui.js";

const PAGES = {
  try: () => import("./pages/try.js"),
  collections: () => import("./pages/collections.js"),
  video: () => import("./pages/video.js"),
  streams: () => import("./pages/streams.js"),
  "custom-labels": () => import("./pages/custom-labels.js"),
  models: () => import("./pages/models.js"),
};
const main = document.getElementById("main");
let shown = 0; // a page that loads late must not draw over a newer one

async function route() {
  const name = location.hash.replace(/^#\/?/, "").split("/")[0] || "try";
  const page = PAGES[name] ? name : "try";
  const ticket = ++shown;
  for (const link of document.querySelectorAll("nav a[data-page]")) {
    if (link.dataset.page === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const module = await PAGES[page]();
  if (ticket !== shown) return;
  clear(main);
  const link = document.querySelector(`nav a[data-page="${page}"]`);
  document.title = `${link ? link.textContent : page} · openrek console`;
  module.render(main);
  main.focus({ preventScroll: true });
}

async function showKeyState() {
  const holder = document.getElementById("keys-state");
  clear(holder);
  try {
    const config = await serverConfig();
    if (!config.keysRequired) {
      holder.append(el("span", {}, `Region ${config.region} · no keys required`));
      return;
    }
    const keys = storedKeys();
    if (keys) {
      holder.append(
        el("span", {}, `Signing as ${keys.accessKeyId}`),
        el("button", { type: "button", class: "secondary small", onclick: forgetKeys }, "Forget keys"),
      );
    } else {
      holder.append(el("span", {}, `Region ${config.region} · keys asked for on first call`));
    }
  } catch (error) {
    holder.append(el("span", { role: "alert" }, errorText(error)));
  }
}

window.addEventListener("hashchange", route);
document.addEventListener("openrek:keys-changed", showKeyState);
route();
showKeyState();
