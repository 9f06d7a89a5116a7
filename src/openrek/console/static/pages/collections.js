// Collections: list, create and delete them; a paged face grid; index a folder of
// photos; search by image; users and their faces. Every list is read a page at a
// time with NextToken, never whole: a collection may hold millions of faces.

import { call } from "../rekognition.js";
import { draw, photoFigure, shapesOf } from "../draw.js";
import { dropZone, photoDrop, readPhoto } from "../photo.js";
import { actionButton, clear, el, errorText, pager, percent, say, shortId } from "../ui.js";

const COLLECTIONS_PER_PAGE = 10;
const FACES_PER_PAGE = 24;
const USERS_PER_PAGE = 20;
const INDEX_AT_ONCE = 2; // photos in flight while indexing: keeps the server busy, not swamped
const THUMB_SIDE = 96;

// Crops of the faces indexed from this tab, by FaceId. openrek, like AWS, keeps no
// images, only face vectors: faces indexed elsewhere show their ExternalImageId.
const thumbnails = new Map();

/** [a-zA-Z0-9_.\-:]+, at most 255: what ExternalImageId accepts; folders become "folder:". */
export function externalImageId(path) {
  const cleaned = path
    .replace(/^\/+/, "")
    .replace(/\//g, ":")
    .replace(/[^a-zA-Z0-9_.\-:]/g, "_");
  return cleaned.slice(-255) || "photo";
}

async function cropThumbnails(photo, faceRecords) {
  const bitmap = await createImageBitmap(new Blob([photo.bytes]));
  for (const record of faceRecords) {
    const box = record.Face.BoundingBox;
    const side = Math.max(box.Width * bitmap.width, box.Height * bitmap.height) * 1.2;
    const centreX = (box.Left + box.Width / 2) * bitmap.width;
    const centreY = (box.Top + box.Height / 2) * bitmap.height;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = THUMB_SIDE;
    canvas
      .getContext("2d")
      .drawImage(bitmap, centreX - side / 2, centreY - side / 2, side, side, 0, 0, THUMB_SIDE, THUMB_SIDE);
    thumbnails.set(record.Face.FaceId, canvas.toDataURL("image/jpeg", 0.8));
  }
  bitmap.close();
}

function thumbnailOf(face) {
  const url = thumbnails.get(face.FaceId);
  const name = face.ExternalImageId || shortId(face.FaceId);
  return url
    ? el("img", { src: url, alt: `Face from ${name}` })
    : el("div", { class: "no-thumb", "aria-hidden": "true" }, "face");
}

/** Cards for faces; with `selected` (a Set of FaceIds) each card has a checkbox. */
function faceCards(faces, selected) {
  return faces.map((face) => {
    const name = face.ExternalImageId || "(no ExternalImageId)";
    const card = el(
      "li",
      { class: "face-card", "data-face-id": face.FaceId },
      thumbnailOf(face),
      el("div", { class: "external-id" }, name),
      el("div", { title: face.FaceId }, `FaceId ${shortId(face.FaceId)}`),
      face.UserId ? el("div", { class: "user-id" }, `User ${face.UserId}`) : null,
    );
    if (selected) {
      const box = el("input", { type: "checkbox", checked: selected.has(face.FaceId) });
      box.addEventListener("change", () => (box.checked ? selected.add(face.FaceId) : selected.delete(face.FaceId)));
      card.append(el("label", {}, box, `Select ${name}`));
    }
    return card;
  });
}

function collectionPanel(collectionId, onDeleted) {
  const status = el("p", { class: "status", role: "status", id: "collection-status" });
  const facts = el("p", { id: "collection-facts", class: "hint" });
  const tabs = el("div", { class: "tabs", role: "tablist", "aria-label": "Collection views" });
  const panes = el("div");

  async function describe() {
    try {
      const about = await call("DescribeCollection", { CollectionId: collectionId });
      facts.textContent = `${about.FaceCount} faces · ${about.UserCount ?? 0} users · face model ${about.FaceModelVersion} · ${about.CollectionARN}`;
      facts.dataset.faceCount = about.FaceCount;
    } catch (error) {
      say(status, errorText(error), "error");
    }
  }

  const views = {
    Faces: facesView(collectionId, status, describe),
    "Index photos": indexView(collectionId, status, describe),
    "Search by image": searchView(collectionId, status),
    Users: usersView(collectionId, status, describe),
  };
  const buttons = Object.keys(views).map((name, index) =>
    el(
      "button",
      {
        type: "button",
        role: "tab",
        id: `tab-${index}`,
        "aria-controls": `pane-${index}`,
        "data-view": name,
      },
      name,
    ),
  );
  const paneNodes = Object.values(views).map((view, index) =>
    el("section", { role: "tabpanel", id: `pane-${index}`, "aria-labelledby": `tab-${index}` }, view.node),
  );

  function select(index) {
    buttons.forEach((button, i) => {
      button.setAttribute("aria-selected", String(i === index));
      button.tabIndex = i === index ? 0 : -1;
      paneNodes[i].hidden = i !== index;
    });
    Object.values(views)[index].shown?.();
  }
  buttons.forEach((button, index) => {
    button.addEventListener("click", () => select(index));
    button.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = (index + step + buttons.length) % buttons.length;
      buttons[next].focus();
      select(next);
    });
  });
  tabs.append(...buttons);
  panes.append(...paneNodes);
  select(0);
  describe();

  return el(
    "section",
    { class: "collection", "aria-labelledby": "collection-title" },
    el(
      "div",
      { class: "row" },
      el("h2", { id: "collection-title" }, collectionId),
      actionButton(
        "Delete collection",
        async () => {
          if (!confirm(`Delete collection ${collectionId} and every face in it?`)) return;
          try {
            await call("DeleteCollection", { CollectionId: collectionId });
            onDeleted();
          } catch (error) {
            say(status, errorText(error), "error");
          }
        },
        { class: "danger small", id: "delete-collection" },
      ),
    ),
    facts,
    status,
    tabs,
    panes,
  );
}

function facesView(collectionId, status, describe) {
  const selected = new Set();
  const grid = el("ol", { class: "face-grid", id: "face-grid", "aria-label": "Faces" });
  const users = el("input", { id: "associate-user", autocomplete: "off", spellcheck: "false" });
  const pages = pager(async (token) => {
    const answer = await call("ListFaces", {
      CollectionId: collectionId,
      MaxResults: FACES_PER_PAGE,
      ...(token ? { NextToken: token } : {}),
    });
    grid.replaceChildren(...faceCards(answer.Faces || [], selected));
    if (!(answer.Faces || []).length) grid.append(el("li", { class: "hint" }, "No faces yet: index some photos."));
    return answer.NextToken;
  }, "Face pages");
  const node = el(
    "div",
    {},
    el(
      "div",
      { class: "row" },
      el("div", { class: "field" }, el("label", { for: "associate-user" }, "User ID"), users),
      actionButton("Associate selected faces", async () => {
        try {
          const answer = await call("AssociateFaces", {
            CollectionId: collectionId,
            UserId: users.value.trim(),
            FaceIds: [...selected],
          });
          const failed = (answer.UnsuccessfulFaceAssociations || []).map(
            (f) => `${shortId(f.FaceId)}: ${f.Reasons.join(", ")}`,
          );
          say(
            status,
            `${answer.AssociatedFaces.length} associated with ${users.value.trim()} (${answer.UserStatus})${failed.length ? `; not associated: ${failed.join("; ")}` : ""}.`,
            "done",
          );
          selected.clear();
          await Promise.all([pages.reload(), describe()]);
        } catch (error) {
          say(status, errorText(error), "error");
        }
      }),
      actionButton(
        "Delete selected faces",
        async () => {
          if (!selected.size || !confirm(`Delete ${selected.size} face(s)?`)) return;
          try {
            const answer = await call("DeleteFaces", { CollectionId: collectionId, FaceIds: [...selected] });
            say(status, `${answer.DeletedFaces.length} face(s) deleted.`, "done");
            selected.clear();
            await Promise.all([pages.reload(), describe()]);
          } catch (error) {
            say(status, errorText(error), "error");
          }
        },
        { class: "danger" },
      ),
    ),
    pages.controls,
    grid,
  );
  return {
    node,
    shown: () => pages.first().catch((error) => say(status, errorText(error), "error")),
  };
}

function indexView(collectionId, status, describe) {
  const progress = el("progress", { id: "index-progress", max: 1, value: 0, "aria-label": "Indexing progress" });
  const progressText = el("p", { id: "index-progress-text", role: "status" });
  const quality = el(
    "select",
    { id: "quality-filter" },
    ["AUTO", "NONE", "LOW", "MEDIUM", "HIGH"].map((value) => el("option", { value }, value)),
  );
  const maxFaces = el("input", { id: "index-max-faces", type: "number", min: 1, max: 100, value: 100 });
  const results = el("tbody", { id: "index-results" });
  let busy = false;

  async function indexOne({ file, path }) {
    const externalId = externalImageId(path);
    const row = el("tr", { "data-file": path }, el("td", {}, path), el("td", {}, externalId));
    results.append(row);
    try {
      const photo = await readPhoto(file);
      const answer = await call("IndexFaces", {
        CollectionId: collectionId,
        Image: { Bytes: photo.bytes },
        ExternalImageId: externalId,
        QualityFilter: quality.value,
        MaxFaces: Number(maxFaces.value) || 100,
      });
      URL.revokeObjectURL(photo.url);
      await cropThumbnails(photo, answer.FaceRecords || []);
      const reasons = (answer.UnindexedFaces || []).map((face) => face.Reasons.join(" + "));
      row.append(
        el("td", { class: "indexed" }, String((answer.FaceRecords || []).length)),
        el("td", { class: "unindexed" }, reasons.length ? reasons.join("; ") : "—"),
      );
      return (answer.FaceRecords || []).length;
    } catch (error) {
      row.append(el("td", { class: "indexed" }, "0"), el("td", { class: "unindexed error" }, errorText(error)));
      return 0;
    }
  }

  async function indexAll(files) {
    if (busy) return;
    busy = true;
    clear(results);
    progress.max = files.length;
    progress.value = 0;
    let done = 0;
    let faces = 0;
    const queue = [...files];
    const report = () => {
      progressText.textContent = `${done} of ${files.length} photos, ${faces} faces indexed`;
    };
    report();
    async function worker() {
      while (queue.length) {
        const indexed = await indexOne(queue.shift()); // not `faces += await`: it would add to a stale total
        faces += indexed;
        done += 1;
        progress.value = done;
        report();
      }
    }
    await Promise.all(Array.from({ length: Math.min(INDEX_AT_ONCE, files.length) }, worker));
    progressText.textContent += " · done";
    progressText.classList.add("done");
    busy = false;
    await describe();
  }

  const node = el(
    "div",
    {},
    el(
      "div",
      { class: "inputs" },
      dropZone({ id: "index-files", label: "Photos to index", multiple: true, onFiles: indexAll }),
      dropZone({ id: "index-folder", label: "A folder of photos", folder: true, onFiles: indexAll }),
    ),
    el(
      "div",
      { class: "row" },
      el("div", { class: "field" }, el("label", { for: "quality-filter" }, "QualityFilter"), quality),
      el("div", { class: "field" }, el("label", { for: "index-max-faces" }, "MaxFaces per photo"), maxFaces),
    ),
    progress,
    progressText,
    el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        {},
        el(
          "thead",
          {},
          el("tr", {}, ...["File", "ExternalImageId", "Faces indexed", "Not indexed (reasons)"].map((h) => el("th", { scope: "col" }, h))),
        ),
        results,
      ),
    ),
  );
  return { node };
}

function searchView(collectionId, status) {
  let photo = null;
  const threshold = el("input", { id: "search-threshold", type: "number", min: 0, max: 100, value: 80 });
  const maxFaces = el("input", { id: "search-max-faces", type: "number", min: 1, max: 4096, value: 10 });
  const figureHolder = el("div", { class: "figures" });
  const matches = el("tbody", { id: "search-matches" });
  const outcome = el("p", { id: "search-outcome", role: "status" });

  async function search(operation) {
    if (!photo) {
      say(outcome, "Choose a photo to search with first.", "error");
      return;
    }
    clear(matches);
    say(outcome, `${operation}…`);
    try {
      const answer = await call(operation, {
        CollectionId: collectionId,
        Image: { Bytes: photo.bytes },
        ...(operation === "SearchFacesByImage"
          ? { FaceMatchThreshold: Number(threshold.value), MaxFaces: Number(maxFaces.value) }
          : { UserMatchThreshold: Number(threshold.value), MaxUsers: Math.min(500, Number(maxFaces.value)) }),
      });
      const figure = await photoFigure(photo.url, photo.name);
      const box = answer.SearchedFaceBoundingBox || answer.SearchedFace?.FaceDetail?.BoundingBox;
      draw(figure, shapesOf("SearchFacesByImage", { SearchedFaceBoundingBox: box }));
      figureHolder.replaceChildren(figure.figure);
      if (operation === "SearchFacesByImage") {
        matches.replaceChildren(
          ...(answer.FaceMatches || []).map((match) =>
            el(
              "tr",
              { class: "match" },
              el("td", {}, el("div", { class: "face-card" }, thumbnailOf(match.Face))),
              el("td", { class: "similarity" }, percent(match.Similarity)),
              el("td", { class: "external-id" }, match.Face.ExternalImageId || ""),
              el("td", { title: match.Face.FaceId }, shortId(match.Face.FaceId)),
              el("td", {}, match.Face.UserId || ""),
            ),
          ),
        );
        say(outcome, `${(answer.FaceMatches || []).length} match(es) at or above ${threshold.value}% similarity.`, "done");
      } else {
        matches.replaceChildren(
          ...(answer.UserMatches || []).map((match) =>
            el(
              "tr",
              { class: "match" },
              el("td", {}, "user"),
              el("td", { class: "similarity" }, percent(match.Similarity)),
              el("td", {}, ""),
              el("td", {}, ""),
              el("td", { class: "user-id" }, match.User.UserId),
            ),
          ),
        );
        say(outcome, `${(answer.UserMatches || []).length} user match(es) at or above ${threshold.value}%.`, "done");
      }
    } catch (error) {
      say(outcome, errorText(error), "error");
    }
  }

  const node = el(
    "div",
    {},
    el(
      "div",
      { class: "inputs" },
      photoDrop({
        id: "search-photo",
        label: "Photo to search with",
        holder: figureHolder,
        outcome,
        onPhoto: (chosen) => {
          photo = chosen;
        },
      }),
    ),
    el(
      "div",
      { class: "row" },
      el("div", { class: "field" }, el("label", { for: "search-threshold" }, "Threshold (%)"), threshold),
      el("div", { class: "field" }, el("label", { for: "search-max-faces" }, "Most matches"), maxFaces),
      actionButton("Search faces", () => search("SearchFacesByImage"), { id: "search-faces" }),
      actionButton("Search users", () => search("SearchUsersByImage"), { id: "search-users", class: "secondary" }),
    ),
    outcome,
    el(
      "div",
      { class: "result" },
      figureHolder,
      el(
        "div",
        { class: "table-wrap" },
        el(
          "table",
          {},
          el("thead", {}, el("tr", {}, ...["Face", "Similarity", "ExternalImageId", "FaceId", "UserId"].map((h) => el("th", { scope: "col" }, h)))),
          matches,
        ),
      ),
    ),
  );
  return { node };
}

function usersView(collectionId, status, describe) {
  const newUser = el("input", { id: "new-user", autocomplete: "off", spellcheck: "false" });
  const list = el("tbody", { id: "user-list" });
  const userFaces = el("ol", { class: "face-grid", id: "user-faces", "aria-label": "The user's faces" });
  const userTitle = el("h3", { id: "user-faces-title" });
  let facesPager = null;
  const facesHolder = el("div");

  function showFaces(userId) {
    userTitle.textContent = `Faces of ${userId}`;
    facesPager = pager(async (token) => {
      const answer = await call("ListFaces", {
        CollectionId: collectionId,
        UserId: userId,
        MaxResults: FACES_PER_PAGE,
        ...(token ? { NextToken: token } : {}),
      });
      userFaces.replaceChildren(...faceCards(answer.Faces || []));
      if (!(answer.Faces || []).length) userFaces.append(el("li", { class: "hint" }, "No faces associated yet."));
      return answer.NextToken;
    }, "Pages of the user's faces");
    facesHolder.replaceChildren(userTitle, facesPager.controls, userFaces);
    facesPager.first().catch((error) => say(status, errorText(error), "error"));
  }

  const pages = pager(async (token) => {
    const answer = await call("ListUsers", {
      CollectionId: collectionId,
      MaxResults: USERS_PER_PAGE,
      ...(token ? { NextToken: token } : {}),
    });
    list.replaceChildren(
      ...(answer.Users || []).map((user) =>
        el(
          "tr",
          { "data-user-id": user.UserId },
          el("td", {}, user.UserId),
          el("td", {}, user.UserStatus),
          el(
            "td",
            {},
            el("button", { type: "button", class: "secondary small", onclick: () => showFaces(user.UserId) }, `Faces of ${user.UserId}`),
            " ",
            actionButton(
              `Delete ${user.UserId}`,
              async () => {
                if (!confirm(`Delete user ${user.UserId}? Its faces stay in the collection.`)) return;
                try {
                  await call("DeleteUser", { CollectionId: collectionId, UserId: user.UserId });
                  await Promise.all([pages.reload(), describe()]);
                } catch (error) {
                  say(status, errorText(error), "error");
                }
              },
              { class: "danger small" },
            ),
          ),
        ),
      ),
    );
    return answer.NextToken;
  }, "User pages");

  const node = el(
    "div",
    {},
    el(
      "form",
      {
        class: "row",
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            await call("CreateUser", { CollectionId: collectionId, UserId: newUser.value.trim() });
            say(status, `User ${newUser.value.trim()} created.`, "done");
            newUser.value = "";
            await Promise.all([pages.first(), describe()]);
          } catch (error) {
            say(status, errorText(error), "error");
          }
        },
      },
      el("div", { class: "field" }, el("label", { for: "new-user" }, "New user ID"), newUser),
      el("button", { type: "submit" }, "Create user"),
    ),
    pages.controls,
    el(
      "div",
      { class: "table-wrap" },
      el("table", {}, el("thead", {}, el("tr", {}, ...["UserId", "Status", ""].map((h) => el("th", { scope: "col" }, h)))), list),
    ),
    facesHolder,
  );
  return { node, shown: () => pages.first().catch((error) => say(status, errorText(error), "error")) };
}

export function render(main) {
  const status = el("p", { class: "status", role: "status", id: "collections-status" });
  const list = el("ul", { class: "collection-list", id: "collection-list", "aria-label": "Collections" });
  const newId = el("input", { id: "new-collection", autocomplete: "off", spellcheck: "false", required: true });
  const detail = el("div", { id: "collection-detail" }, el("p", { class: "hint" }, "Choose or create a collection."));
  let current = decodeURIComponent(location.hash.split("/")[2] || "");

  function open(collectionId) {
    current = collectionId;
    history.replaceState(null, "", collectionId ? `#/collections/${encodeURIComponent(collectionId)}` : "#/collections");
    for (const item of list.children) item.setAttribute("aria-current", String(item.dataset.collectionId === collectionId));
    detail.replaceChildren(
      collectionId
        ? collectionPanel(collectionId, async () => {
            say(status, `Collection ${collectionId} deleted.`, "done");
            open("");
            await pages.first();
          })
        : el("p", { class: "hint" }, "Choose or create a collection."),
    );
  }

  const pages = pager(async (token) => {
    const answer = await call("ListCollections", {
      MaxResults: COLLECTIONS_PER_PAGE,
      ...(token ? { NextToken: token } : {}),
    });
    list.replaceChildren(
      ...(answer.CollectionIds || []).map((id, index) =>
        el(
          "li",
          { "data-collection-id": id, "aria-current": String(id === current) },
          el("button", { type: "button", class: "secondary", onclick: () => open(id) }, id),
          el("span", { class: "hint" }, `model ${(answer.FaceModelVersions || [])[index] || "?"}`),
        ),
      ),
    );
    if (!(answer.CollectionIds || []).length) list.append(el("li", { class: "hint" }, "No collections yet."));
    return answer.NextToken;
  }, "Collection pages");

  main.append(
    el("h1", {}, "Collections"),
    el(
      "div",
      { class: "columns" },
      el(
        "aside",
        { class: "panel", "aria-label": "All collections" },
        el(
          "form",
          {
            class: "row",
            onsubmit: async (event) => {
              event.preventDefault();
              const id = newId.value.trim();
              try {
                await call("CreateCollection", { CollectionId: id });
                say(status, `Collection ${id} created.`, "done");
                newId.value = "";
                await pages.first();
                open(id);
              } catch (error) {
                say(status, errorText(error), "error");
              }
            },
          },
          el("div", { class: "field" }, el("label", { for: "new-collection" }, "New collection ID"), newId),
          el("button", { type: "submit", id: "create-collection" }, "Create"),
        ),
        status,
        list,
        pages.controls,
      ),
      detail,
    ),
  );
  pages.first().catch((error) => say(status, errorText(error), "error"));
  if (current) open(current);
}
