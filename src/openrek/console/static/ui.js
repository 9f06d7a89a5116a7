// Small DOM helpers shared by the console's pages.

/**
 * el("button", { class: "x", onclick: fn }, "text", child...) -> HTMLElement.
 * Attributes starting with "on" become listeners; true/false toggle boolean attributes.
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (value === true) {
      node.setAttribute(name, "");
    } else {
      node.setAttribute(name, String(value));
    }
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

/** An error as the page shows it: the AWS code, then its message. */
export function errorText(error) {
  return error && error.code ? `${error.code}: ${error.message}` : String(error && error.message ? error.message : error);
}

/** Puts a message in a status line; kind "error" makes it an alert for screen readers. */
export function say(node, text, kind = "info") {
  node.textContent = text;
  node.className = `status ${kind}`;
  node.setAttribute("role", kind === "error" ? "alert" : "status");
}

export function percent(value) {
  return `${Number(value).toFixed(1)}%`;
}

export function shortId(id) {
  return id ? `${id.slice(0, 8)}…` : "";
}

/**
 * A button that runs an async action and ignores presses while it runs. It is marked
 * aria-disabled rather than disabled: a disabled button drops the keyboard focus.
 */
export function actionButton(label, action, attributes = {}) {
  const button = el("button", { type: "button", ...attributes }, label);
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-disabled", "true");
    try {
      await action();
    } finally {
      button.removeAttribute("aria-disabled");
    }
  });
  return button;
}

/** Prev / Next buttons over a NextToken-paged list; `load(token)` returns the next token. */
export function pager(load, label) {
  const tokens = [undefined]; // the token each page was loaded with
  let index = 0;
  let nextToken;
  const previous = el("button", { type: "button", class: "secondary", disabled: true }, "Previous");
  const next = el("button", { type: "button", class: "secondary", disabled: true }, "Next");
  const where = el("span", { class: "page-number", "aria-live": "polite" });
  const controls = el("nav", { class: "pager", "aria-label": label }, previous, where, next);

  async function show(at) {
    previous.disabled = next.disabled = true;
    try {
      nextToken = await load(tokens[at]);
      index = at;
    } finally {
      tokens.length = index + 1;
      if (nextToken) tokens.push(nextToken);
      previous.disabled = index === 0;
      next.disabled = !nextToken;
      where.textContent = `Page ${index + 1}`;
    }
  }
  previous.addEventListener("click", () => show(index - 1));
  next.addEventListener("click", () => show(index + 1));
  return { controls, reload: () => show(index), first: () => show(0) };
}
