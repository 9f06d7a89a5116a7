// The dialog that asks for an access key pair when the server requires signed
// requests. rekognition.js opens it; the keys go to sessionStorage from there.
//
//   askForKeys(region) -> Promise<{ accessKeyId, secretAccessKey } | null>  (null: cancelled)

import { el } from "./ui.js";

export function askForKeys(region) {
  const keyId = el("input", {
    id: "access-key-id",
    name: "accessKeyId",
    autocomplete: "username",
    spellcheck: "false",
    required: true,
  });
  const secret = el("input", {
    id: "secret-access-key",
    name: "secretAccessKey",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const cancel = el("button", { type: "button", class: "secondary" }, "Cancel");
  const form = el(
    "form",
    {},
    el("h2", { id: "keys-title" }, "Access keys"),
    el(
      "p",
      {},
      `This openrek requires signed requests (SigV4, region ${region}). `,
      "The keys stay in this tab only (sessionStorage) and are forgotten when it closes.",
    ),
    el("label", { for: "access-key-id" }, "Access key ID"),
    keyId,
    el("label", { for: "secret-access-key" }, "Secret access key"),
    secret,
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Use these keys"), cancel),
  );
  const dialog = el("dialog", { class: "keys", "aria-labelledby": "keys-title" }, form);
  document.body.append(dialog);

  return new Promise((resolve) => {
    let answer = null;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      answer = { accessKeyId: keyId.value.trim(), secretAccessKey: secret.value.trim() };
      dialog.close();
    });
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    dialog.showModal();
    keyId.focus();
  });
}
