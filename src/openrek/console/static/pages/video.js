// Video: name a video the server can read (S3 bucket and key), start stored-video
// jobs, follow them until they finish, and lay their results on a timeline that seeks
// a player with the results drawn over it.
//
// The player plays a file chosen from this computer (a blob: URL): Rekognition's API
// never hands a video back. The same file can be uploaded into the server's local
// bucket folders (upload.js, PUT /console/uploads/<bucket>/<key>, signed like the API)
// and the jobs started on it; a video already in S3 is named by its bucket and key.
// A server that reads a real S3 (OPENREK_S3_ENDPOINT_URL) refuses the upload: the
// page then says to put the video in that S3 with `aws s3 cp`.

import { call } from "../rekognition.js";
import { uploadObject } from "../upload.js";
import { draw } from "../draw.js";
import { JOB_KINDS, clock, describeItem, endOf, shapesOfItem, timeOf } from "../video-results.js";
import { actionButton, clear, el, errorText, say, shortId } from "../ui.js";

const POLL_MS = 1000;
const RESULTS_PER_CALL = 1000; // Get*'s largest MaxResults
const ROWS_PER_PAGE = 25;
const MAX_MARKS = 2000; // marks drawn a lane; more results still seek and draw

// Jobs started or opened in this tab, kept while the tab lives (pages come and go).
const jobs = [];
let chosenVideo = null; // { name, url, file }
let selectedJobId = null;

function videoPicker(onFile) {
  const input = el("input", { type: "file", id: "video-file", accept: "video/*,.mp4,.mov" });
  const hint = el("span", { class: "hint", "aria-live": "polite" }, "or drop a video here");
  const chosen = (file) => {
    hint.textContent = `Chosen: ${file.name}`;
    onFile(file);
  };
  input.addEventListener("change", () => {
    const file = input.files[0];
    input.value = "";
    if (file) chosen(file);
  });
  const zone = el("div", { class: "drop-zone" }, el("label", { for: "video-file" }, "Video file (played here, from this computer)"), input, hint);
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const file = [...event.dataTransfer.files].find((f) => f.type.startsWith("video/") || /\.(mp4|mov|m4v)$/i.test(f.name));
    if (file) chosen(file);
  });
  return zone;
}

function uploadNote() {
  return el(
    "div",
    { class: "note", id: "video-upload-note" },
    el("p", {}, el("strong", {}, "Where the video comes from: "), "the jobs read it from S3 (a bucket and key). Either"),
    el(
      "ul",
      {},
      el("li", {}, el("strong", {}, "Upload and start jobs"), ": the chosen file is put in the server's own bucket folder, ", el("code", {}, "<data-dir>/s3/BUCKET/KEY"), " (the default server), then the jobs start on it;"),
      el("li", {}, "or it is already there (copied to that folder), or the server reads a real S3 (", el("code", {}, "OPENREK_S3_ENDPOINT_URL"), ", which refuses uploads here): ", el("code", {}, "aws s3 cp clip.mp4 s3://BUCKET/KEY --endpoint-url <that endpoint>"), ", then ", el("strong", {}, "Start jobs"), "."),
    ),
    el("p", { class: "hint" }, "The player below plays the file chosen here, from this computer."),
  );
}

function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function elapsed(job) {
  return `${Math.round((Date.now() - job.started) / 1000)} s`;
}

/** Each job's result items sorted into samples: [{ time, items }] by time. */
function samplesOf(job) {
  const byTime = new Map();
  for (const item of job.items) {
    const time = timeOf(job.start, item);
    if (!byTime.has(time)) byTime.set(time, []);
    byTime.get(time).push(item);
  }
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([time, items]) => ({ time, items }));
}

/** The sampling step of a job: the smallest gap between two sampled times. */
function stepOf(samples) {
  let step = Infinity;
  for (let i = 1; i < samples.length; i++) step = Math.min(step, samples[i].time - samples[i - 1].time);
  return Number.isFinite(step) && step > 0 ? step : 1000;
}

export function render(main) {
  const status = el("p", { class: "status", role: "status", id: "video-status" });
  const bucket = el("input", { id: "video-bucket", autocomplete: "off", spellcheck: "false", value: "openrek-console" });
  const key = el("input", { id: "video-key", autocomplete: "off", spellcheck: "false" });
  const collection = el("input", { id: "video-collection", autocomplete: "off", spellcheck: "false" });
  const minConfidence = el("input", { id: "video-min-confidence", type: "number", min: 0, max: 100, value: 50 });
  const threshold = el("input", { id: "video-threshold", type: "number", min: 0, max: 100, value: 80 });
  const choices = Object.entries(JOB_KINDS).map(([start, kind]) => {
    const box = el("input", { type: "checkbox", id: `job-${start}`, value: start, checked: start === "StartFaceDetection" || start === "StartLabelDetection" });
    return { start, box, node: el("label", { class: "check", for: `job-${start}` }, box, ` ${start} `, el("span", { class: "hint" }, `(${kind.title})`)) };
  });
  const openKind = el("select", { id: "open-job-kind" }, Object.keys(JOB_KINDS).map((start) => el("option", { value: start }, JOB_KINDS[start].get)));
  const openId = el("input", { id: "open-job-id", autocomplete: "off", spellcheck: "false" });
  const jobRows = el("tbody", { id: "video-jobs" });
  const uploadProgress = el("progress", { id: "upload-progress", max: 1, value: 0, hidden: true, "aria-label": "Upload progress" });
  const uploadState = el("span", { id: "upload-state", class: "hint", "aria-live": "polite" });

  const videoElement = el("video", { id: "video-player", controls: true, preload: "metadata", "aria-label": "The chosen video" });
  const overlay = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  overlay.setAttribute("class", "overlay");
  overlay.setAttribute("id", "video-overlay");
  overlay.setAttribute("aria-hidden", "true");
  overlay.setAttribute("preserveAspectRatio", "none");
  const frame = { overlay, width: 1, height: 1 };
  const playerNote = el("p", { class: "hint", id: "player-note" }, "Choose the video file to watch the results over it.");
  const stage = el("div", { class: "stage video-stage" }, videoElement, overlay);
  const now = el("p", { id: "video-now", class: "hint", "aria-live": "off" });
  const lanes = el("div", { id: "video-timeline", class: "timeline", role: "group", "aria-label": "Timeline of results" });
  const resultsTitle = el("h2", { id: "video-results-title" }, "Results");
  const resultRows = el("tbody", { id: "video-results" });
  const resultPager = el("nav", { class: "pager", "aria-label": "Result pages" });
  const json = el("pre", { id: "video-json", class: "json", tabindex: "0", "aria-label": "Raw JSON of the last Get answer" });
  const root = el("div", { class: "video-page" });

  function showVideo() {
    if (!chosenVideo) return;
    videoElement.src = chosenVideo.url;
    playerNote.textContent = `Playing ${chosenVideo.name} from this computer.`;
  }

  videoElement.addEventListener("loadedmetadata", () => {
    frame.width = videoElement.videoWidth || 1;
    frame.height = videoElement.videoHeight || 1;
    overlay.setAttribute("viewBox", `0 0 ${frame.width} ${frame.height}`);
    drawLanes();
    redraw();
  });
  for (const event of ["timeupdate", "seeked", "play"]) videoElement.addEventListener(event, redraw);

  function durationMillis() {
    const metadata = jobs.map((job) => job.metadata).find((m) => m && m.DurationMillis);
    if (metadata) return metadata.DurationMillis;
    return Number.isFinite(videoElement.duration) ? videoElement.duration * 1000 : 0;
  }

  /** The shapes of every finished job at the player's time: each job's latest sample, held one sampling step. */
  function redraw() {
    const at = videoElement.currentTime * 1000 + 0.5; // a seek to 1.2 s may read back as 1.19999
    const shapes = [];
    for (const job of jobs) {
      if (!job.samples.length) continue;
      let found = null;
      for (const sample of job.samples) {
        if (sample.time <= at) found = sample;
        else break;
      }
      if (found && at - found.time < job.step) shapes.push(...found.items.flatMap((item) => shapesOfItem(job.start, item)));
    }
    draw(frame, shapes);
    overlay.dataset.time = String(Math.round(videoElement.currentTime * 1000));
    now.textContent = `${clock(videoElement.currentTime * 1000)} · ${shapes.length} shape${shapes.length === 1 ? "" : "s"} drawn`;
    const duration = durationMillis();
    for (const head of lanes.querySelectorAll(".playhead")) {
      head.style.left = duration ? `${Math.min(100, (videoElement.currentTime * 100000) / duration)}%` : "0";
    }
  }

  function seek(millis) {
    if (!videoElement.src) {
      say(status, "Choose the video file first: the player plays it from this computer.", "error");
      return;
    }
    videoElement.pause();
    videoElement.currentTime = millis / 1000;
  }

  function drawLanes() {
    const duration = durationMillis();
    clear(lanes);
    for (const job of jobs.filter((j) => j.status === "SUCCEEDED")) {
      const track = el("div", { class: "track", "data-job-id": job.jobId });
      for (const sample of job.samples.slice(0, MAX_MARKS)) {
        const span = job.start === "StartSegmentDetection";
        const end = Math.max(...sample.items.map((item) => endOf(job.start, item)));
        const mark = el("span", {
          class: span ? "mark span" : "mark",
          "data-time": sample.time,
          title: `${clock(sample.time)}: ${sample.items.map((item) => describeItem(job.start, item)).join("; ")}`,
        });
        mark.style.left = duration ? `${(100 * sample.time) / duration}%` : "0";
        if (span && duration) mark.style.width = `${Math.max(0.4, (100 * (end - sample.time)) / duration)}%`;
        track.append(mark);
      }
      track.append(el("span", { class: "playhead" }));
      // A click anywhere on a lane seeks there (the keyboard seeks from the results list and the player).
      track.addEventListener("click", (event) => {
        const rect = track.getBoundingClientRect();
        const target = event.target.closest(".mark");
        seek(target ? Number(target.dataset.time) : ((event.clientX - rect.left) / rect.width) * durationMillis());
      });
      lanes.append(
        el(
          "div",
          { class: "lane", "data-operation": job.start },
          el("span", { class: "lane-name" }, `${JOB_KINDS[job.start].title} · ${job.samples.length}`),
          track,
        ),
      );
    }
    if (!lanes.children.length) lanes.append(el("p", { class: "hint" }, "Finished jobs' results appear here."));
  }

  function showResults(job, page = 0) {
    selectedJobId = job ? job.jobId : null;
    clear(resultRows);
    clear(resultPager);
    if (!job) return;
    resultsTitle.textContent = `Results of ${JOB_KINDS[job.start].get} ${shortId(job.jobId)}`;
    json.textContent = JSON.stringify(job.lastAnswer, null, 2);
    const pages = Math.max(1, Math.ceil(job.samples.length / ROWS_PER_PAGE));
    for (const sample of job.samples.slice(page * ROWS_PER_PAGE, (page + 1) * ROWS_PER_PAGE)) {
      resultRows.append(
        el(
          "tr",
          { "data-time": sample.time },
          el("td", {}, el("button", { type: "button", class: "secondary small seek", onclick: () => seek(sample.time) }, clock(sample.time))),
          el("td", {}, el("ul", { class: "plain" }, sample.items.map((item) => el("li", {}, describeItem(job.start, item))))),
        ),
      );
    }
    if (!job.samples.length) resultRows.append(el("tr", {}, el("td", { colspan: 2, class: "hint" }, "Nothing found.")));
    resultPager.append(
      el("button", { type: "button", class: "secondary", disabled: page === 0, onclick: () => showResults(job, page - 1) }, "Previous"),
      el("span", { class: "page-number" }, `Page ${page + 1} of ${pages}`),
      el("button", { type: "button", class: "secondary", disabled: page + 1 >= pages, onclick: () => showResults(job, page + 1) }, "Next"),
    );
    if (job.nextToken) {
      resultPager.append(
        actionButton(`Load ${RESULTS_PER_CALL} more results`, async () => {
          await loadResults(job);
          showResults(job, page);
        }, { class: "secondary", id: "more-results" }),
      );
    }
  }

  function jobRow(job) {
    return el(
      "tr",
      { "data-job-id": job.jobId, "data-operation": job.start, "data-status": job.status },
      el("td", {}, JOB_KINDS[job.start].get),
      el("td", { title: job.jobId }, shortId(job.jobId)),
      el(
        "td",
        { class: "job-status" },
        job.status === "IN_PROGRESS" ? el("progress", { "aria-label": `${job.start} in progress` }) : null,
        ` ${job.status}${job.status === "IN_PROGRESS" ? ` · ${elapsed(job)}` : ""}`,
        job.statusMessage ? el("div", { class: "hint" }, job.statusMessage) : null,
      ),
      el("td", { class: "job-count" }, job.status === "SUCCEEDED" ? `${job.items.length}${job.nextToken ? "+" : ""}` : ""),
      el(
        "td",
        {},
        job.status === "SUCCEEDED"
          ? el("button", { type: "button", class: "secondary small", onclick: () => showResults(job) }, `Show ${JOB_KINDS[job.start].title}`)
          : null,
      ),
    );
  }

  function drawJobs() {
    jobRows.replaceChildren(...jobs.map(jobRow));
    if (!jobs.length) jobRows.append(el("tr", {}, el("td", { colspan: 5, class: "hint" }, "No jobs yet.")));
  }

  async function loadResults(job) {
    const answer = await call(JOB_KINDS[job.start].get, {
      JobId: job.jobId,
      MaxResults: RESULTS_PER_CALL,
      ...(job.nextToken ? { NextToken: job.nextToken } : {}),
    });
    job.lastAnswer = answer;
    job.items.push(...(answer[JOB_KINDS[job.start].items] || []));
    job.nextToken = answer.NextToken;
    // GetSegmentDetection gives a list (one per video stream); the others one object.
    job.metadata = Array.isArray(answer.VideoMetadata) ? answer.VideoMetadata[0] : answer.VideoMetadata;
    job.samples = samplesOf(job);
    job.step = stepOf(job.samples);
    drawLanes();
    redraw();
  }

  async function poll(job) {
    while (root.isConnected && job.status === "IN_PROGRESS") {
      try {
        const answer = await call(JOB_KINDS[job.start].get, { JobId: job.jobId, MaxResults: 1 });
        job.status = answer.JobStatus;
        job.statusMessage = answer.StatusMessage;
        job.lastAnswer = answer;
      } catch (error) {
        job.status = "ERROR";
        job.statusMessage = errorText(error);
      }
      if (job.status === "SUCCEEDED") await loadResults(job);
      drawJobs();
      if (job.status === "IN_PROGRESS") await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    if (root.isConnected && jobs.every((j) => j.status !== "IN_PROGRESS")) {
      const done = jobs.filter((j) => j.status === "SUCCEEDED").length;
      say(status, `${done} of ${jobs.length} job(s) succeeded.`, done === jobs.length ? "done" : "error");
      if (!selectedJobId) showResults(jobs.find((j) => j.status === "SUCCEEDED"));
    }
  }

  function track(start, jobId) {
    const job = { start, jobId, status: "IN_PROGRESS", started: Date.now(), items: [], samples: [], step: 1000 };
    jobs.push(job);
    drawJobs();
    poll(job);
  }

  async function startJobs() {
    const wanted = choices.filter((choice) => choice.box.checked).map((choice) => choice.start);
    if (!bucket.value.trim() || !key.value.trim()) {
      say(status, "Name the S3 bucket and key the server reads the video from.", "error");
      return;
    }
    if (!wanted.length) {
      say(status, "Choose at least one analysis.", "error");
      return;
    }
    const options = {
      collectionId: collection.value.trim(),
      minConfidence: Number(minConfidence.value),
      faceMatchThreshold: Number(threshold.value),
    };
    const video = { S3Object: { Bucket: bucket.value.trim(), Name: key.value.trim() } };
    say(status, `Starting ${wanted.length} job(s)…`);
    const failures = [];
    for (const start of wanted) {
      try {
        const answer = await call(start, { Video: video, JobTag: "console", ...JOB_KINDS[start].request(options) });
        track(start, answer.JobId);
      } catch (error) {
        failures.push(`${start}: ${errorText(error)}`);
      }
    }
    if (failures.length) say(status, failures.join(" · "), "error");
    else say(status, `${wanted.length} job(s) started; following them…`);
  }

  async function uploadAndStart() {
    if (!chosenVideo) {
      say(status, "Choose the video file to upload first.", "error");
      return;
    }
    const target = { bucket: bucket.value.trim(), key: key.value.trim() };
    if (!target.bucket || !target.key) {
      say(status, "Name the S3 bucket and key to upload the video to.", "error");
      return;
    }
    uploadProgress.hidden = false;
    uploadProgress.value = 0;
    uploadState.textContent = `Uploading ${chosenVideo.name}…`;
    try {
      const stored = await uploadObject(target.bucket, target.key, chosenVideo.file, (sent, total) => {
        uploadProgress.value = total ? sent / total : 0;
        uploadState.textContent = `Uploading: ${megabytes(sent)} of ${megabytes(total)} (${Math.round(total ? (100 * sent) / total : 0)}%)`;
      });
      uploadProgress.value = 1;
      uploadState.textContent = `Uploaded ${megabytes(stored.Size)} to s3://${stored.Bucket}/${stored.Name}.`;
      uploadState.dataset.uploaded = `${stored.Bucket}/${stored.Name}`;
    } catch (error) {
      uploadProgress.hidden = true;
      uploadState.textContent = "";
      const hint = error.code === "LocalUploadsUnavailableException" ? " Upload it with `aws s3 cp` to that S3, then Start jobs." : "";
      say(status, `Upload failed: ${errorText(error)}${hint}`, "error");
      return;
    }
    await startJobs();
  }

  async function openJob() {
    const jobId = openId.value.trim();
    if (!jobId) return;
    if (jobs.some((job) => job.jobId === jobId)) {
      say(status, `Job ${shortId(jobId)} is already listed.`);
      return;
    }
    try {
      // Asked once here so that a wrong id is an error now, not a row that fails.
      await call(JOB_KINDS[openKind.value].get, { JobId: jobId, MaxResults: 1 });
      track(openKind.value, jobId);
      openId.value = "";
    } catch (error) {
      say(status, errorText(error), "error");
    }
  }

  root.append(
    el("h1", {}, "Video"),
    el(
      "section",
      { "aria-labelledby": "video-source-title" },
      el("h2", { id: "video-source-title" }, "The video"),
      uploadNote(),
      el(
        "div",
        { class: "inputs" },
        videoPicker((file) => {
          if (chosenVideo) URL.revokeObjectURL(chosenVideo.url);
          chosenVideo = { name: file.name, url: URL.createObjectURL(file), file };
          if (!key.value.trim()) key.value = `videos/${file.name}`;
          showVideo();
        }),
        el(
          "div",
          { class: "panel" },
          el("div", { class: "field" }, el("label", { for: "video-bucket" }, "S3 bucket"), bucket),
          el("div", { class: "field" }, el("label", { for: "video-key" }, "S3 key (Name)"), key),
          el("div", { class: "upload-progress" }, uploadProgress, uploadState),
        ),
      ),
    ),
    el(
      "section",
      { "aria-labelledby": "video-jobs-title" },
      el("h2", { id: "video-jobs-title" }, "Jobs"),
      el("fieldset", { class: "checks" }, el("legend", {}, "Analyses to start"), choices.map((choice) => choice.node)),
      el(
        "div",
        { class: "row" },
        el("div", { class: "field" }, el("label", { for: "video-collection" }, "CollectionId (face search)"), collection),
        el("div", { class: "field" }, el("label", { for: "video-threshold" }, "FaceMatchThreshold"), threshold),
        el("div", { class: "field" }, el("label", { for: "video-min-confidence" }, "MinConfidence (labels, moderation)"), minConfidence),
        actionButton("Upload and start jobs", uploadAndStart, { id: "upload-and-start" }),
        actionButton("Start jobs", startJobs, { id: "start-jobs", class: "secondary", title: "On a video already in S3" }),
      ),
      el(
        "form",
        { class: "row", onsubmit: (event) => (event.preventDefault(), openJob()) },
        el("div", { class: "field" }, el("label", { for: "open-job-kind" }, "Job type"), openKind),
        el("div", { class: "field" }, el("label", { for: "open-job-id" }, "Open a job by JobId"), openId),
        el("button", { type: "submit", class: "secondary" }, "Open job"),
      ),
      status,
      el("p", { class: "hint" }, "Rekognition's Get* answers give a job's status, not a percentage: the page asks every second until the job leaves IN_PROGRESS."),
      el(
        "div",
        { class: "table-wrap" },
        el("table", {}, el("thead", {}, el("tr", {}, ...["Operation", "JobId", "Status", "Results", ""].map((h) => el("th", { scope: "col" }, h)))), jobRows),
      ),
    ),
    el(
      "section",
      { "aria-labelledby": "video-player-title" },
      el("h2", { id: "video-player-title" }, "Player and timeline"),
      playerNote,
      el("figure", { class: "photo video" }, stage),
      now,
      lanes,
    ),
    el(
      "section",
      { class: "result", "aria-labelledby": "video-results-title" },
      el(
        "div",
        {},
        resultsTitle,
        resultPager,
        el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Time"), el("th", { scope: "col" }, "Found"))), resultRows)),
      ),
      el("details", { class: "raw" }, el("summary", {}, "Raw JSON (last Get answer)"), json),
    ),
  );
  main.append(root);
  drawJobs();
  drawLanes();
  showVideo();
  for (const job of jobs.filter((j) => j.status === "IN_PROGRESS")) poll(job);
  const selected = jobs.find((job) => job.jobId === selectedJobId);
  if (selected) showResults(selected);
}
