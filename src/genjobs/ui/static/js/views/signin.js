// Sign in with an API key. The key is checked with GET /api/v1/account and then kept
// in sessionStorage: it lives as long as this tab, and no other site can read it.

import { get, session } from "../api.js";
import { h } from "../dom.js";

export function signInView({ main }, message, onSignedIn) {
  const keyInput = h("input", {
    id: "api-key",
    type: "password",
    name: "key",
    autocomplete: "current-password",
    required: true,
    "aria-describedby": "api-key-help api-key-error",
  });
  const error = h("p", { class: "field-error", id: "api-key-error", role: "alert" }, message);
  const button = h("button", { type: "submit" }, "Sign in");

  async function submit(event) {
    event.preventDefault();
    const key = keyInput.value.trim();
    if (!key) return;
    button.disabled = true;
    error.textContent = "";
    try {
      const account = await get("/api/v1/account", {}, { key });
      session.key = key;
      onSignedIn(account);
    } catch (failure) {
      error.textContent = failure.message;
      keyInput.setAttribute("aria-invalid", "true");
      keyInput.select();
    } finally {
      button.disabled = false;
    }
  }

  main.append(
    h(
      "form",
      { class: "card sign-in", onsubmit: submit, "aria-labelledby": "sign-in-title" },
      h("h1", { id: "sign-in-title" }, "Sign in"),
      h("label", { for: "api-key" }, "API key"),
      keyInput,
      h(
        "p",
        { class: "help", id: "api-key-help" },
        "Kept in this browser tab only, and sent as the Bearer token of every request.",
      ),
      error,
      button,
    ),
  );
  keyInput.focus();
}
