// Stream processors: the paged list with statuses; one processor's settings, where
// its results go, Start (with a stop after N seconds) / Stop / Delete; and a form to
// create a FaceSearch or ConnectedHome processor.
//
// Live results are not readable through Rekognition's API: a FaceSearch processor
// writes its matches to a Kinesis data stream, a ConnectedHome one publishes to SNS
// and writes to S3. The page names those destinations rather than pretending to show
// the matches.

import { call } from "../rekognition.js";
import { actionButton, el, errorText, pager, say } from "../ui.js";

const PROCESSORS_PER_PAGE = 10;
const REFRESH_MS = 1500;
const MOVING = new Set(["STARTING", "RUNNING", "STOPPING", "UPDATING"]);

function chip(status) {
  const kind = status === "RUNNING" ? "good" : status === "FAILED" ? "bad" : "";
  return el("span", { class: `chip ${kind}`, "data-status": status }, status);
}

function when(timestamp) {
  // The JSON protocol sends epoch seconds.
  return timestamp ? new Date(timestamp * 1000).toLocaleString() : "";
}

function facts(pairs) {
  return el(
    "dl",
    { class: "facts" },
    pairs.filter(([, value]) => value !== undefined && value !== null && value !== "").flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]),
  );
}

function destinations(about) {
  const kinesis = about.Output?.KinesisDataStream?.Arn;
  const s3 = about.Output?.S3Destination;
  const sns = about.NotificationChannel?.SNSTopicArn;
  const items = [];
  if (kinesis) {
    items.push(
      el("li", {}, "Each analysed frame's faces and their matches go to the Kinesis data stream ", el("code", { class: "destination" }, kinesis), ". Read them with a Kinesis consumer (e.g. ", el("code", {}, "aws kinesis get-records"), " against the server's Kinesis endpoint)."),
    );
  }
  if (s3) items.push(el("li", {}, "Frames and the session summary go to ", el("code", { class: "destination" }, `s3://${s3.Bucket}/${s3.KeyPrefix || ""}`), "."));
  if (sns) items.push(el("li", {}, "Label events are published to the SNS topic ", el("code", { class: "destination" }, sns), "."));
  return el(
    "div",
    { class: "note", id: "stream-live-note" },
    el("p", {}, el("strong", {}, "Live matches: "), "Rekognition's API has no call that returns a stream processor's results, so this page cannot show them. They go here:"),
    el("ul", {}, items),
    el("p", { class: "hint" }, "To watch a camera's matches as they happen without a processor: ", el("code", {}, "openrek watch SOURCE --collection-id ID"), " (docs/streams.md)."),
  );
}

function processorPanel(name, onChanged) {
  const status = el("p", { class: "status", role: "status", id: "stream-status" });
  const body = el("div", { id: "stream-detail-body" });
  const maxSeconds = el("input", { id: "stream-max-seconds", type: "number", min: 1, max: 120, placeholder: "no limit" });
  let timer = null;
  const node = el("section", { class: "collection", "aria-labelledby": "stream-title", "data-name": name });

  async function describe() {
    clearTimeout(timer);
    try {
      const about = await call("DescribeStreamProcessor", { Name: name });
      const settings = about.Settings || {};
      const faceSearch = settings.FaceSearch;
      const home = settings.ConnectedHome;
      node.dataset.status = about.Status;
      body.replaceChildren(
        facts([
          ["Status", chip(about.Status)],
          ["Status message", about.StatusMessage],
          ["Kind", faceSearch ? "FaceSearch" : home ? "ConnectedHome" : "?"],
          ["Input", about.Input?.KinesisVideoStream?.Arn],
          ["Collection", faceSearch?.CollectionId],
          ["FaceMatchThreshold", faceSearch?.FaceMatchThreshold],
          ["Labels", home?.Labels?.join(", ")],
          ["MinConfidence", home?.MinConfidence],
          ["Regions of interest", about.RegionsOfInterest?.length ? `${about.RegionsOfInterest.length}` : undefined],
          ["RoleArn", about.RoleArn],
          ["ARN", about.StreamProcessorArn],
          ["Created", when(about.CreationTimestamp)],
          ["Last updated", when(about.LastUpdateTimestamp)],
        ]),
        destinations(about),
      );
      if (MOVING.has(about.Status)) timer = setTimeout(() => node.isConnected && describe(), REFRESH_MS);
      onChanged(name, about.Status);
    } catch (error) {
      say(status, errorText(error), "error");
    }
  }

  async function act(operation, params, message) {
    try {
      const answer = await call(operation, { Name: name, ...params });
      say(status, message(answer), "done");
      await describe();
    } catch (error) {
      say(status, errorText(error), "error");
    }
  }

  node.append(
    el("div", { class: "row" }, el("h2", { id: "stream-title" }, name)),
    status,
    body,
    el(
      "div",
      { class: "row" },
      el("div", { class: "field" }, el("label", { for: "stream-max-seconds" }, "Stop after (seconds, 1-120)"), maxSeconds),
      actionButton(
        "Start",
        () =>
          act(
            "StartStreamProcessor",
            maxSeconds.value ? { StopSelector: { MaxDurationInSeconds: Number(maxSeconds.value) } } : {},
            (answer) => `Started: session ${answer.SessionId}.`,
          ),
        { id: "stream-start" },
      ),
      actionButton("Stop", () => act("StopStreamProcessor", {}, () => "Stopping."), { id: "stream-stop", class: "secondary" }),
      actionButton("Refresh", describe, { class: "secondary", id: "stream-refresh" }),
      actionButton(
        "Delete",
        async () => {
          if (!confirm(`Delete stream processor ${name}?`)) return;
          try {
            await call("DeleteStreamProcessor", { Name: name });
            onChanged(name, null);
          } catch (error) {
            say(status, errorText(error), "error");
          }
        },
        { class: "danger", id: "stream-delete" },
      ),
    ),
  );
  describe();
  return node;
}

function createForm(onCreated) {
  const status = el("p", { class: "status", role: "status", id: "stream-create-status" });
  const field = (id, label, attributes = {}) => {
    const input = el("input", { id, autocomplete: "off", spellcheck: "false", ...attributes });
    return { input, node: el("div", { class: "field" }, el("label", { for: id }, label), input) };
  };
  const kind = el("select", { id: "stream-kind" }, el("option", { value: "FaceSearch" }, "FaceSearch"), el("option", { value: "ConnectedHome" }, "ConnectedHome"));
  const name = field("stream-name", "Name", { required: true });
  const input = field("stream-input", "Kinesis video stream ARN", { placeholder: "arn:aws:kinesisvideo:REGION:ACCOUNT:stream/NAME/1" });
  const role = field("stream-role", "RoleArn", { value: "arn:aws:iam::000000000000:role/rekognition" });
  const collection = field("stream-collection", "CollectionId");
  const threshold = field("stream-threshold", "FaceMatchThreshold", { type: "number", min: 0, max: 100, value: 80 });
  const kinesis = field("stream-kinesis", "Kinesis data stream ARN (output)", { placeholder: "arn:aws:kinesis:REGION:ACCOUNT:stream/NAME" });
  const bucket = field("stream-bucket", "S3 bucket (output)");
  const prefix = field("stream-prefix", "S3 key prefix");
  const topic = field("stream-topic", "SNS topic ARN (events)");
  const minConfidence = field("stream-min-confidence", "MinConfidence", { type: "number", min: 0, max: 100, value: 50 });
  const labels = ["PERSON", "PET", "PACKAGE", "ALL"].map((label) => {
    const box = el("input", { type: "checkbox", id: `stream-label-${label}`, value: label, checked: label === "PERSON" });
    return { label, box, node: el("label", { class: "check", for: `stream-label-${label}` }, box, ` ${label}`) };
  });
  const faceSearchFields = el("div", { class: "row" }, collection.node, threshold.node, kinesis.node);
  const homeFields = el(
    "div",
    { class: "row", hidden: true },
    el("fieldset", { class: "checks" }, el("legend", {}, "Labels"), labels.map((l) => l.node)),
    minConfidence.node,
    bucket.node,
    prefix.node,
    topic.node,
  );
  kind.addEventListener("change", () => {
    faceSearchFields.hidden = kind.value !== "FaceSearch";
    homeFields.hidden = kind.value !== "ConnectedHome";
  });

  function request() {
    const common = {
      Name: name.input.value.trim(),
      Input: { KinesisVideoStream: { Arn: input.input.value.trim() } },
      RoleArn: role.input.value.trim(),
    };
    if (kind.value === "FaceSearch") {
      return {
        ...common,
        Output: { KinesisDataStream: { Arn: kinesis.input.value.trim() } },
        Settings: { FaceSearch: { CollectionId: collection.input.value.trim(), FaceMatchThreshold: Number(threshold.input.value) } },
      };
    }
    return {
      ...common,
      Output: { S3Destination: { Bucket: bucket.input.value.trim(), ...(prefix.input.value.trim() ? { KeyPrefix: prefix.input.value.trim() } : {}) } },
      NotificationChannel: { SNSTopicArn: topic.input.value.trim() },
      Settings: {
        ConnectedHome: {
          Labels: labels.filter((l) => l.box.checked).map((l) => l.label),
          MinConfidence: Number(minConfidence.input.value),
        },
      },
    };
  }

  return el(
    "details",
    { class: "panel", id: "stream-create" },
    el("summary", {}, "Create a stream processor"),
    el(
      "form",
      {
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            const params = request();
            const answer = await call("CreateStreamProcessor", params);
            say(status, `Created ${answer.StreamProcessorArn}.`, "done");
            onCreated(params.Name);
          } catch (error) {
            say(status, errorText(error), "error");
          }
        },
      },
      el(
        "p",
        { class: "hint" },
        "The input names a source registered on the server: ",
        el("code", {}, "openrek video-streams put NAME rtsp://… | file"),
        " makes ",
        el("code", {}, "arn:aws:kinesisvideo:…:stream/NAME/…"),
        " read it.",
      ),
      el("div", { class: "row" }, el("div", { class: "field" }, el("label", { for: "stream-kind" }, "Kind"), kind), name.node, input.node, role.node),
      faceSearchFields,
      homeFields,
      el("div", { class: "row" }, el("button", { type: "submit", id: "stream-create-submit" }, "Create")),
      status,
    ),
  );
}

export function render(main) {
  const status = el("p", { class: "status", role: "status", id: "streams-status" });
  const list = el("tbody", { id: "stream-list" });
  const detail = el("div", { id: "stream-detail" }, el("p", { class: "hint" }, "Choose a stream processor."));
  let current = decodeURIComponent(location.hash.split("/")[2] || "");

  function open(name) {
    current = name;
    history.replaceState(null, "", name ? `#/streams/${encodeURIComponent(name)}` : "#/streams");
    for (const row of list.children) row.setAttribute("aria-current", String(row.dataset.name === name));
    detail.replaceChildren(name ? processorPanel(name, changed) : el("p", { class: "hint" }, "Choose a stream processor."));
  }

  function changed(name, newStatus) {
    if (newStatus === null) {
      say(status, `Stream processor ${name} deleted.`, "done");
      open("");
      pages.first();
      return;
    }
    const cell = list.querySelector(`tr[data-name="${CSS.escape(name)}"] .status-cell`);
    if (cell) cell.replaceChildren(chip(newStatus));
  }

  const pages = pager(async (token) => {
    const answer = await call("ListStreamProcessors", {
      MaxResults: PROCESSORS_PER_PAGE,
      ...(token ? { NextToken: token } : {}),
    });
    list.replaceChildren(
      ...(answer.StreamProcessors || []).map((processor) =>
        el(
          "tr",
          { "data-name": processor.Name, "aria-current": String(processor.Name === current) },
          el("td", {}, el("button", { type: "button", class: "secondary small", onclick: () => open(processor.Name) }, processor.Name)),
          el("td", { class: "status-cell" }, chip(processor.Status)),
        ),
      ),
    );
    if (!(answer.StreamProcessors || []).length) list.append(el("tr", {}, el("td", { colspan: 2, class: "hint" }, "No stream processors yet.")));
    return answer.NextToken;
  }, "Stream processor pages");

  main.append(
    el("h1", {}, "Stream processors"),
    el(
      "div",
      { class: "columns" },
      el(
        "aside",
        { class: "panel", "aria-label": "All stream processors" },
        status,
        el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "Status"))), list)),
        pages.controls,
      ),
      el(
        "div",
        {},
        detail,
        createForm(async (name) => {
          await pages.first();
          open(name);
        }),
      ),
    ),
  );
  pages.first().catch((error) => say(status, errorText(error), "error"));
  if (current) open(current);
}
