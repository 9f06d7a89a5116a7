// Custom Labels: projects (paged), their TRAIN and TEST datasets with entries read a
// page at a time, model versions with their status and training progress, the
// evaluation (F1 from the API; per-label metrics from the summary file, which lives in
// the user's S3 bucket), Start / Stop, and a Try with DetectCustomLabels.

import { call } from "../rekognition.js";
import { draw, photoFigure } from "../draw.js";
import { photoDrop } from "../photo.js";
import { actionButton, el, errorText, pager, percent, say } from "../ui.js";

const PROJECTS_PER_PAGE = 10;
const VERSIONS_PER_PAGE = 10;
const ENTRIES_PER_PAGE = 20;
const REFRESH_MS = 1500;
// Datasets whose labels and entries can be listed (the other statuses answer an error).
const READABLE = new Set(["CREATE_COMPLETE", "UPDATE_COMPLETE"]);
const MOVING = new Set(["TRAINING_IN_PROGRESS", "STARTING", "STOPPING", "DELETING", "COPYING_IN_PROGRESS"]);

function chip(status) {
  const kind = /RUNNING|COMPLETED|COMPLETE$/.test(status) ? "good" : /FAILED/.test(status) ? "bad" : "";
  return el("span", { class: `chip ${kind}`, "data-status": status }, status);
}

/** `...:project/NAME/version/VERSION/123` -> NAME or VERSION. */
export function nameOf(arn, part = "project") {
  const found = new RegExp(`/?${part}/([^/]+)`).exec(arn.split(":").slice(5).join(":"));
  return found ? found[1] : arn;
}

/** The percentage openrek puts in a training StatusMessage ("... (42% done)."), or null. */
export function trainingPercent(message) {
  const found = /(\d+(?:\.\d+)?)% done/.exec(message || "");
  return found ? Number(found[1]) : null;
}

function field(id, label, attributes = {}) {
  const input = el("input", { id, autocomplete: "off", spellcheck: "false", ...attributes });
  return { input, node: el("div", { class: "field" }, el("label", { for: id }, label), input) };
}

function entryRow(line) {
  let entry = null;
  try {
    entry = JSON.parse(line);
  } catch {
    // A line the service kept with its errors: shown as it is.
  }
  const source = entry?.["source-ref"] || "";
  // Ground Truth keeps each labelling job's answer under its name, and what it means
  // under "<name>-metadata": a class-name, or a class-map for boxes and multi-label.
  const labels = [];
  for (const [key, meta] of Object.entries(entry || {})) {
    if (!key.endsWith("-metadata") || !meta || typeof meta !== "object") continue;
    const value = entry[key.slice(0, -"-metadata".length)];
    if (value && Array.isArray(value.annotations)) {
      const names = value.annotations.map((box) => meta["class-map"]?.[String(box.class_id)] ?? box.class_id);
      labels.push(`${names.length} box(es): ${[...new Set(names)].join(", ")}`);
    } else if (meta["class-name"]) {
      labels.push(meta["class-name"]);
    } else if (meta["class-map"]) {
      labels.push(Object.values(meta["class-map"]).join(", "));
    }
  }
  return el("tr", { class: "entry" }, el("td", {}, el("code", {}, source || line.slice(0, 120))), el("td", {}, labels.join("; ") || "—"));
}

function datasetView(projectArn, type, dataset, refresh) {
  const node = el("section", { class: "dataset", "data-type": type, "aria-label": `${type} dataset` });
  if (!dataset) {
    const bucket = field(`dataset-${type}-bucket`, "Manifest S3 bucket");
    const key = field(`dataset-${type}-key`, "Manifest S3 key");
    const status = el("p", { class: "status", role: "status" });
    node.append(
      el("h3", {}, `${type} dataset`),
      el("p", { class: "hint" }, type === "TEST" ? "None: training holds out 20% of each label's TRAIN images." : "None yet."),
      el(
        "form",
        {
          class: "row",
          onsubmit: async (event) => {
            event.preventDefault();
            try {
              await call("CreateDataset", {
                ProjectArn: projectArn,
                DatasetType: type,
                DatasetSource: { GroundTruthManifest: { S3Object: { Bucket: bucket.input.value.trim(), Name: key.input.value.trim() } } },
              });
              await refresh();
            } catch (error) {
              say(status, errorText(error), "error");
            }
          },
        },
        bucket.node,
        key.node,
        el("button", { type: "submit", id: `create-${type.toLowerCase()}-dataset` }, `Create ${type} dataset`),
      ),
      status,
    );
    return node;
  }
  const about = el("div");
  const labels = el("p", { class: "hint dataset-labels" });
  const entries = el("tbody", { class: "entries" });
  const onlyErrors = el("input", { type: "checkbox", id: `dataset-${type}-errors` });
  const entryPages = pager(async (token) => {
    const answer = await call("ListDatasetEntries", {
      DatasetArn: dataset.DatasetArn,
      MaxResults: ENTRIES_PER_PAGE,
      ...(onlyErrors.checked ? { HasErrors: true } : {}),
      ...(token ? { NextToken: token } : {}),
    });
    entries.replaceChildren(...(answer.DatasetEntries || []).map(entryRow));
    if (!(answer.DatasetEntries || []).length) entries.append(el("tr", {}, el("td", { colspan: 2, class: "hint" }, "No entries.")));
    return answer.NextToken;
  }, `${type} entry pages`);
  onlyErrors.addEventListener("change", () => entryPages.first());

  let timer = null;
  async function describe() {
    clearTimeout(timer);
    const answer = await call("DescribeDataset", { DatasetArn: dataset.DatasetArn });
    const d = answer.DatasetDescription;
    const stats = d.DatasetStats || {};
    about.replaceChildren(
      el(
        "p",
        {},
        chip(d.Status),
        ` ${stats.TotalEntries ?? 0} entries, ${stats.LabeledEntries ?? 0} labelled, ${stats.TotalLabels ?? 0} labels, ${stats.ErrorEntries ?? 0} with errors`,
        d.StatusMessage ? el("span", { class: "hint" }, ` · ${d.StatusMessage}`) : null,
      ),
    );
    if (d.Status.endsWith("_IN_PROGRESS")) {
      // Labels and entries answer ResourceInUseException until the entries are read
      // (by this server, or by a worker that may not have started yet): ask again later.
      timer = setTimeout(() => node.isConnected && describe().catch(showError), REFRESH_MS);
      return;
    }
    if (!READABLE.has(d.Status)) return; // CREATE_FAILED: the status message says why
    const labelAnswer = await call("ListDatasetLabels", { DatasetArn: dataset.DatasetArn, MaxResults: 100 });
    labels.textContent = `Labels: ${(labelAnswer.DatasetLabelDescriptions || [])
      .map((l) => `${l.LabelName} (${l.LabelStats?.EntryCount ?? 0} images${l.LabelStats?.BoundingBoxCount ? `, ${l.LabelStats.BoundingBoxCount} boxes` : ""})`)
      .join(", ")}${labelAnswer.NextToken ? ", …" : ""}`;
    await entryPages.first();
  }
  function showError(error) {
    about.replaceChildren(el("p", { class: "status error", role: "alert" }, errorText(error)));
  }

  node.append(
    el("h3", {}, `${type} dataset`),
    about,
    labels,
    el("label", { class: "check", for: `dataset-${type}-errors` }, onlyErrors, " Only entries with errors"),
    entryPages.controls,
    el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "source-ref"), el("th", { scope: "col" }, "Labels"))), entries)),
  );
  describe().catch(showError);
  return node;
}

function evaluationView(version) {
  const result = version.EvaluationResult;
  const where = result?.Summary?.S3Object;
  const table = el("tbody", { id: "evaluation-labels" });
  const outcome = el("p", { class: "status", role: "status", id: "evaluation-status" });
  const input = el("input", { type: "file", id: "evaluation-file", accept: "application/json,.json" });
  input.addEventListener("change", async () => {
    const file = input.files[0];
    input.value = "";
    if (!file) return;
    try {
      const summary = JSON.parse(await file.text());
      const rows = summary.LabelEvaluationResults || [];
      table.replaceChildren(
        ...rows.map((row) =>
          el(
            "tr",
            { "data-label": row.Label },
            el("td", {}, row.Label),
            ...["Precision", "Recall", "F1Score", "Threshold"].map((name) => el("td", {}, Number(row.Metrics?.[name] ?? NaN).toFixed(3))),
            el("td", {}, String(row.NumberOfTestingImages ?? "")),
          ),
        ),
      );
      const details = summary.EvaluationDetails || {};
      say(outcome, `${file.name}: ${rows.length} labels, ${details.NumberOfTrainingImages ?? "?"} training and ${details.NumberOfTestingImages ?? "?"} test images.`, "done");
    } catch (error) {
      say(outcome, `${file.name} is not an evaluation summary (${error.message})`, "error");
    }
  });
  return el(
    "section",
    { id: "evaluation", "aria-labelledby": "evaluation-title" },
    el("h3", { id: "evaluation-title" }, `Evaluation of ${nameOf(version.ProjectVersionArn, "version")}`),
    result
      ? el("p", { id: "evaluation-f1" }, `F1 ${Number(result.F1Score).toFixed(3)} (mean of the labels' F1 on the test images)`)
      : el("p", { class: "hint" }, "No evaluation yet: it comes when training completes."),
    el(
      "p",
      { class: "hint" },
      version.TrainingDataResult?.Output?.Assets?.length ? `Training images from ${version.TrainingDataResult.Output.Assets.length} manifest(s). ` : "",
      version.BillableTrainingTimeInSeconds !== undefined ? `Trained in ${version.BillableTrainingTimeInSeconds} s.` : "",
    ),
    where
      ? el(
          "div",
          { class: "note" },
          el("p", {}, "Per-label precision, recall and thresholds are in the summary file, ", el("code", { id: "evaluation-summary-uri" }, `s3://${where.Bucket}/${where.Name}`), ", which Rekognition's API does not return. Fetch it (", el("code", {}, "aws s3 cp"), ", or ", el("code", {}, `<data-dir>/s3/${where.Bucket}/${where.Name}`), " on a server with its own folder) and choose it here:"),
          el("div", { class: "field" }, el("label", { for: "evaluation-file" }, "Evaluation summary (JSON)"), input),
        )
      : null,
    outcome,
    el(
      "div",
      { class: "table-wrap" },
      el("table", {}, el("thead", {}, el("tr", {}, ...["Label", "Precision", "Recall", "F1", "Threshold", "Test images"].map((h) => el("th", { scope: "col" }, h)))), table),
    ),
  );
}

function tryView(version, feature) {
  let photo = null;
  const minConfidence = el("input", { id: "try-custom-min-confidence", type: "number", min: 0, max: 100, placeholder: "the model's thresholds" });
  const figures = el("div", { class: "figures", id: "custom-figures" });
  const found = el("ol", { class: "summary", id: "custom-labels-found", "aria-label": "Labels found" });
  const outcome = el("p", { class: "status", role: "status", id: "custom-try-status" });
  const operation = feature === "CONTENT_MODERATION" ? "DetectModerationLabels" : "DetectCustomLabels";

  async function run() {
    if (!photo) {
      say(outcome, "Choose a photo first.", "error");
      return;
    }
    say(outcome, `${operation}…`);
    try {
      const confidence = minConfidence.value === "" ? {} : { MinConfidence: Number(minConfidence.value) };
      const answer =
        operation === "DetectCustomLabels"
          ? await call(operation, { ProjectVersionArn: version.ProjectVersionArn, Image: { Bytes: photo.bytes }, ...confidence })
          : await call(operation, { ProjectVersion: version.ProjectVersionArn, Image: { Bytes: photo.bytes }, ...confidence });
      const labels = answer.CustomLabels || answer.ModerationLabels || [];
      const figure = await photoFigure(photo.url, photo.name);
      draw(
        figure,
        labels
          .filter((label) => label.Geometry?.BoundingBox)
          .map((label) => ({ type: "box", role: "label-instance", box: label.Geometry.BoundingBox, label: `${label.Name} ${percent(label.Confidence)}` })),
      );
      figures.replaceChildren(figure.figure);
      found.replaceChildren(...labels.map((label) => el("li", { "data-name": label.Name }, `${label.Name} ${percent(label.Confidence)}${label.Geometry ? " · boxed" : ""}`)));
      say(outcome, `${operation}: ${labels.length} label(s).`, "done");
    } catch (error) {
      say(outcome, errorText(error), "error");
    }
  }

  return el(
    "section",
    { id: "custom-try", "aria-labelledby": "custom-try-title" },
    el("h3", { id: "custom-try-title" }, `Try ${nameOf(version.ProjectVersionArn, "version")} (${operation})`),
    el(
      "div",
      { class: "inputs" },
      photoDrop({
        id: "custom-photo",
        label: "Photo",
        holder: figures,
        outcome,
        onPhoto: (chosen) => {
          photo = chosen;
        },
      }),
    ),
    el(
      "div",
      { class: "row" },
      el("div", { class: "field" }, el("label", { for: "try-custom-min-confidence" }, "MinConfidence"), minConfidence),
      actionButton(operation, run, { id: "custom-detect" }),
    ),
    outcome,
    el("div", { class: "result" }, figures, found),
  );
}

function projectPanel(project, onDeleted) {
  const projectArn = project.ProjectArn;
  const status = el("p", { class: "status", role: "status", id: "project-status" });
  const datasets = el("div", { class: "datasets" });
  const versions = el("tbody", { id: "version-list" });
  const chosen = el("div", { id: "version-detail" });
  const versionName = field("version-name", "Version name", { required: true, value: `v${new Date().toISOString().slice(0, 10).replace(/-/g, "")}` });
  const outputBucket = field("version-bucket", "Output S3 bucket", { required: true });
  const outputPrefix = field("version-prefix", "Output key prefix", { value: "evaluation/" });
  const units = el("input", { id: "version-units", type: "number", min: 1, value: 1 });
  let chosenArn = null;
  let timer = null;
  const node = el("section", { class: "collection", "aria-labelledby": "project-title", "data-project-arn": projectArn });

  async function showDatasets() {
    const answer = await call("DescribeProjects", { ProjectNames: [nameOf(projectArn)] });
    const described = (answer.ProjectDescriptions || [])[0] || project;
    const byType = Object.fromEntries((described.Datasets || []).map((d) => [d.DatasetType, d]));
    datasets.replaceChildren(...["TRAIN", "TEST"].map((type) => datasetView(projectArn, type, byType[type], showDatasets)));
  }

  function versionRow(version) {
    const arn = version.ProjectVersionArn;
    const progress = trainingPercent(version.StatusMessage);
    const act = (operation, params) => async () => {
      try {
        await call(operation, { ProjectVersionArn: arn, ...params });
        await versionPages.reload();
      } catch (error) {
        say(status, errorText(error), "error");
      }
    };
    return el(
      "tr",
      { "data-version-arn": arn, "data-status": version.Status, "aria-current": String(arn === chosenArn) },
      el("td", {}, el("button", { type: "button", class: "secondary small", onclick: () => choose(version) }, nameOf(arn, "version"))),
      el(
        "td",
        { class: "version-status" },
        chip(version.Status),
        version.Status === "TRAINING_IN_PROGRESS" && progress !== null
          ? el("progress", { max: 100, value: progress, "aria-label": `Training ${nameOf(arn, "version")}: ${progress}%` })
          : null,
        el("div", { class: "hint" }, version.StatusMessage || ""),
      ),
      el("td", { class: "version-f1" }, version.EvaluationResult ? Number(version.EvaluationResult.F1Score).toFixed(3) : ""),
      el(
        "td",
        {},
        ["TRAINING_COMPLETED", "STOPPED", "COPYING_COMPLETED", "FAILED"].includes(version.Status)
          ? actionButton(`Start ${nameOf(arn, "version")}`, act("StartProjectVersion", { MinInferenceUnits: Number(units.value) || 1 }), { class: "small" })
          : null,
        version.Status === "RUNNING" ? actionButton(`Stop ${nameOf(arn, "version")}`, act("StopProjectVersion", {}), { class: "secondary small" }) : null,
        version.Status !== "RUNNING" && !MOVING.has(version.Status)
          ? actionButton(
              `Delete ${nameOf(arn, "version")}`,
              async () => {
                if (confirm(`Delete version ${nameOf(arn, "version")}?`)) await act("DeleteProjectVersion", {})();
              },
              { class: "danger small" },
            )
          : null,
      ),
    );
  }

  function choose(version) {
    chosenArn = version.ProjectVersionArn;
    for (const row of versions.children) row.setAttribute("aria-current", String(row.dataset.versionArn === chosenArn));
    chosen.replaceChildren(
      evaluationView(version),
      version.Status === "RUNNING"
        ? tryView(version, project.Feature)
        : el("p", { class: "hint", id: "custom-try-hint" }, `Start ${nameOf(chosenArn, "version")} to try it (DetectCustomLabels needs a RUNNING version).`),
    );
  }

  const versionPages = pager(async (token) => {
    clearTimeout(timer);
    const answer = await call("DescribeProjectVersions", {
      ProjectArn: projectArn,
      MaxResults: VERSIONS_PER_PAGE,
      ...(token ? { NextToken: token } : {}),
    });
    const list = answer.ProjectVersionDescriptions || [];
    versions.replaceChildren(...list.map(versionRow));
    if (!list.length) versions.append(el("tr", {}, el("td", { colspan: 4, class: "hint" }, "No versions yet: train one.")));
    const current = list.find((v) => v.ProjectVersionArn === chosenArn);
    const shownStatus = chosen.dataset.status;
    if (current && current.Status !== shownStatus) {
      chosen.dataset.status = current.Status;
      choose(current);
    }
    if (list.some((v) => MOVING.has(v.Status))) timer = setTimeout(() => node.isConnected && versionPages.reload().catch((error) => say(status, errorText(error), "error")), REFRESH_MS);
    return answer.NextToken;
  }, "Version pages");

  node.append(
    el(
      "div",
      { class: "row" },
      el("h2", { id: "project-title" }, nameOf(projectArn)),
      actionButton(
        "Delete project",
        async () => {
          if (!confirm(`Delete project ${nameOf(projectArn)}?`)) return;
          try {
            await call("DeleteProject", { ProjectArn: projectArn });
            onDeleted();
          } catch (error) {
            say(status, errorText(error), "error");
          }
        },
        { class: "danger small", id: "delete-project" },
      ),
    ),
    el("p", { class: "hint" }, `${project.Feature || "CUSTOM_LABELS"} · ${projectArn}`),
    status,
    el("h3", {}, "Datasets"),
    el("p", { class: "hint" }, "A dataset is made from a Ground Truth manifest already in S3 (", el("code", {}, "openrek custom-labels train FOLDER"), " writes one from a folder per label)."),
    datasets,
    el("h3", {}, "Versions"),
    el(
      "form",
      {
        class: "row",
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            await call("CreateProjectVersion", {
              ProjectArn: projectArn,
              VersionName: versionName.input.value.trim(),
              OutputConfig: { S3Bucket: outputBucket.input.value.trim(), S3KeyPrefix: outputPrefix.input.value.trim() },
            });
            say(status, `Training ${versionName.input.value.trim()}.`, "done");
            await versionPages.first();
          } catch (error) {
            say(status, errorText(error), "error");
          }
        },
      },
      versionName.node,
      outputBucket.node,
      outputPrefix.node,
      el("button", { type: "submit", id: "train-version" }, "Train"),
    ),
    el("div", { class: "row" }, el("div", { class: "field" }, el("label", { for: "version-units" }, "MinInferenceUnits (Start)"), units)),
    versionPages.controls,
    el(
      "div",
      { class: "table-wrap" },
      el("table", {}, el("thead", {}, el("tr", {}, ...["Version", "Status", "F1", ""].map((h) => el("th", { scope: "col" }, h)))), versions),
    ),
    chosen,
  );
  showDatasets().catch((error) => say(status, errorText(error), "error"));
  versionPages.first().catch((error) => say(status, errorText(error), "error"));
  return node;
}

export function render(main) {
  const status = el("p", { class: "status", role: "status", id: "projects-status" });
  const list = el("ul", { class: "collection-list", id: "project-list", "aria-label": "Projects" });
  const newName = el("input", { id: "new-project", autocomplete: "off", spellcheck: "false", required: true });
  const feature = el("select", { id: "new-project-feature" }, el("option", { value: "CUSTOM_LABELS" }, "CUSTOM_LABELS"), el("option", { value: "CONTENT_MODERATION" }, "CONTENT_MODERATION"));
  const detail = el("div", { id: "project-detail" }, el("p", { class: "hint" }, "Choose or create a project."));
  let current = decodeURIComponent(location.hash.split("/")[2] || "");

  function open(project) {
    current = project ? nameOf(project.ProjectArn) : "";
    history.replaceState(null, "", current ? `#/custom-labels/${encodeURIComponent(current)}` : "#/custom-labels");
    for (const item of list.children) item.setAttribute("aria-current", String(item.dataset.project === current));
    detail.replaceChildren(
      project
        ? projectPanel(project, async () => {
            say(status, `Project ${current} deleted.`, "done");
            open(null);
            await pages.first();
          })
        : el("p", { class: "hint" }, "Choose or create a project."),
    );
  }

  const pages = pager(async (token) => {
    const answer = await call("DescribeProjects", {
      MaxResults: PROJECTS_PER_PAGE,
      ...(token ? { NextToken: token } : {}),
    });
    const projects = answer.ProjectDescriptions || [];
    list.replaceChildren(
      ...projects.map((project) => {
        const name = nameOf(project.ProjectArn);
        return el(
          "li",
          { "data-project": name, "aria-current": String(name === current) },
          el("button", { type: "button", class: "secondary", onclick: () => open(project) }, name),
          el("span", { class: "hint" }, `${(project.Datasets || []).length} dataset(s)`),
        );
      }),
    );
    if (!projects.length) list.append(el("li", { class: "hint" }, "No projects yet."));
    return answer.NextToken;
  }, "Project pages");

  async function openByName(name) {
    const answer = await call("DescribeProjects", { ProjectNames: [name] });
    const project = (answer.ProjectDescriptions || [])[0];
    if (project) open(project);
    else say(status, `No project named ${name}.`, "error");
  }

  main.append(
    el("h1", {}, "Custom Labels"),
    el(
      "div",
      { class: "columns" },
      el(
        "aside",
        { class: "panel", "aria-label": "All projects" },
        el(
          "form",
          {
            onsubmit: async (event) => {
              event.preventDefault();
              const name = newName.value.trim();
              try {
                await call("CreateProject", { ProjectName: name, Feature: feature.value });
                say(status, `Project ${name} created.`, "done");
                newName.value = "";
                await pages.first();
                await openByName(name);
              } catch (error) {
                say(status, errorText(error), "error");
              }
            },
          },
          el("div", { class: "field" }, el("label", { for: "new-project" }, "New project name"), newName),
          el("div", { class: "field" }, el("label", { for: "new-project-feature" }, "Feature"), feature),
          el("button", { type: "submit", id: "create-project" }, "Create"),
        ),
        status,
        list,
        pages.controls,
      ),
      detail,
    ),
  );
  pages.first().catch((error) => say(status, errorText(error), "error"));
  if (current) openByName(current).catch((error) => say(status, errorText(error), "error"));
}
