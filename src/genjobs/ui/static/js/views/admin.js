// #/admin (admin keys only): the overview of the last hour or day, refreshed while it is
// on screen, and the API keys: create (the key is shown once), set credits, revoke.

import { get, isAbort, pause, post } from "../api.js";
import { latencyChart, seriesChart } from "../charts.js";
import { formatDuration, formatTime, h } from "../dom.js";

const REFRESH_MS = 15_000;
const WINDOWS = {
  hour: { label: "Last hour", bucketMs: 5 * 60_000, bucket: "5 minutes" },
  day: { label: "Last day", bucketMs: 3_600_000, bucket: "hour" },
};

export async function adminView({ main, signal, account }) {
  const overview = overviewSection(signal);
  const keysSection = await keysView(account, signal);
  main.append(h("h1", {}, "Admin"), overview.element, keysSection);
  overview.follow();
}

function overviewSection(signal) {
  let span = "hour"; // a key of WINDOWS
  let asked = 0; // a refresh and a click can overlap: only the latest answer is drawn
  const body = h("div", { class: "overview-body" });
  const problem = h("p", { class: "alert", role: "alert", hidden: true });
  const toggles = Object.entries(WINDOWS).map(([name, { label }]) =>
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        "aria-pressed": String(name === span),
        onclick: () => choose(name),
      },
      label,
    ),
  );

  function choose(name) {
    span = name;
    toggles.forEach((button, i) =>
      button.setAttribute("aria-pressed", String(Object.keys(WINDOWS)[i] === name)),
    );
    load();
  }

  async function load() {
    try {
      const answer = ++asked;
      const stats = await get("/api/v1/admin/stats", { window: span }, { signal });
      if (answer !== asked) return;
      body.replaceChildren(...overviewBody(stats));
      problem.hidden = true;
    } catch (error) {
      if (isAbort(error)) return;
      problem.textContent = error.message;
      problem.hidden = false;
    }
  }

  async function follow() {
    while (!signal.aborted) {
      await load();
      await pause(REFRESH_MS, signal);
    }
  }

  const element = h(
    "section",
    { class: "overview", "aria-labelledby": "overview-title" },
    h(
      "div",
      { class: "toolbar" },
      h("h2", { id: "overview-title" }, "Overview"),
      h("div", { class: "segmented", role: "group", "aria-label": "Window" }, toggles),
    ),
    problem,
    body,
  );
  return { element, follow };
}

function overviewBody(stats) {
  const sum = (key) => stats.models.reduce((total, m) => total + m[key], 0);
  const finished = sum("succeeded") + sum("failed");
  const tiles = [
    ["Tasks", sum("total")],
    ["Succeeded", sum("succeeded")],
    ["Failed", sum("failed")],
    ["Failure rate", finished ? percent(sum("failed") / finished) : "–"],
    ["Running or queued", sum("active")],
  ];
  const { bucketMs, bucket } = WINDOWS[stats.window];
  return [
    h(
      "dl",
      { class: "tiles" },
      tiles.map(([label, value]) =>
        h("div", { class: "tile" }, h("dt", {}, label), h("dd", {}, String(value))),
      ),
    ),
    h(
      "div",
      { class: "charts" },
      h(
        "figure",
        { class: "card" },
        h(
          "figcaption",
          {},
          `Finished tasks per ${bucket}`,
          legend([
            ["ok", "succeeded"],
            ["bad", "failed"],
          ]),
        ),
        seriesChart(stats.series, bucketMs),
      ),
      h(
        "figure",
        { class: "card" },
        h(
          "figcaption",
          {},
          "Latency, created to finished",
          legend([
            ["p50", "p50"],
            ["p90", "p90"],
            ["p99", "p99"],
          ]),
        ),
        latencyChart(stats.models),
      ),
    ),
    h(
      "table",
      { class: "models" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          [
            "Model",
            "Tasks",
            "Succeeded",
            "Failed",
            "Canceled",
            "Active",
            "Failure rate",
            "Latency p50 / p90 / p99",
            "Run p50 / p90 / p99",
          ].map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h(
        "tbody",
        {},
        stats.models.length === 0 &&
          h("tr", {}, h("td", { colspan: 9, class: "empty" }, "No tasks in this window.")),
        stats.models.map((m) =>
          h(
            "tr",
            {},
            h("td", {}, m.model),
            [m.total, m.succeeded, m.failed, m.canceled ?? 0, m.active].map((n) =>
              h("td", { class: "num" }, String(n)),
            ),
            h("td", { class: "num" }, m.failureRate === null ? "–" : percent(m.failureRate)),
            h("td", { class: "num" }, triple(m.latencyMs)),
            h("td", { class: "num" }, triple(m.runMs)),
          ),
        ),
      ),
    ),
  ];
}

const percent = (rate) => `${(rate * 100).toFixed(rate > 0 && rate < 0.1 ? 1 : 0)}%`;
const triple = (p) => (p ? [p.p50, p.p90, p.p99].map(formatDuration).join(" / ") : "–");
const legend = (entries) =>
  h(
    "span",
    { class: "legend" },
    entries.map(([cls, label]) => h("span", {}, h("i", { class: cls }), label)),
  );

async function keysView(account, signal) {
  const body = h("tbody");
  const created = h("div", { class: "new-key", role: "status" });
  const error = h("p", { class: "field-error", role: "alert" });
  const name = h("input", { id: "key-name", name: "name", maxLength: 200 });
  const credits = h("input", {
    id: "key-credits",
    name: "credits",
    type: "number",
    min: 0,
    step: "any",
    value: "1000",
  });
  const isAdmin = h("input", { id: "key-admin", name: "isAdmin", type: "checkbox" });

  async function create(event) {
    event.preventDefault();
    error.textContent = "";
    try {
      const key = await post("/api/v1/admin/keys", {
        name: name.value,
        credits: Number(credits.value),
        isAdmin: isAdmin.checked,
      });
      created.replaceChildren(
        h("p", {}, `Key for ${key.name || key.keyId}. Copy it now: it is shown only this once.`),
        h("code", { class: "raw-key" }, key.key),
        h(
          "button",
          { type: "button", class: "secondary small", onclick: () => navigator.clipboard.writeText(key.key) },
          "Copy",
        ),
      );
      body.append(keyRow(key, account));
      name.value = "";
      isAdmin.checked = false; // the next key is not an admin unless asked again
    } catch (failure) {
      error.textContent = failure.message;
    }
  }

  const keys = await get("/api/v1/admin/keys", {}, { signal });
  body.append(...keys.map((key) => keyRow(key, account)));
  return h(
    "section",
    { class: "keys", "aria-labelledby": "keys-title" },
    h("h2", { id: "keys-title" }, "API keys"),
    h(
      "form",
      { class: "card create-key", onsubmit: create, novalidate: true, "aria-label": "New key" },
      h("div", { class: "field" }, h("label", { for: "key-name" }, "Name"), name),
      h("div", { class: "field" }, h("label", { for: "key-credits" }, "Credits"), credits),
      h("div", { class: "field checkbox" }, isAdmin, h("label", { for: "key-admin" }, "Admin")),
      h("button", { type: "submit" }, "Create key"),
      error,
    ),
    created,
    h(
      "table",
      { class: "key-list" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Name", "Key id", "Role", "Credits", "Created", "Status"].map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      body,
    ),
  );
}

function keyRow(key, account) {
  const label = key.name || key.keyId;
  const status = h("span", { class: "help", role: "status" });
  const credits = h("input", {
    type: "number",
    min: 0,
    step: "any",
    value: String(key.credits),
    disabled: Boolean(key.revokedAt),
    "aria-label": `Credits of ${label}`,
  });
  const act = (path, body) => async () => {
    status.textContent = "";
    try {
      const updated = await post(path, { keyId: key.keyId, ...body() });
      row.replaceWith(keyRow(updated, account));
    } catch (error) {
      status.textContent = error.message;
    }
  };
  const setCredits = act("/api/v1/admin/keys/credits", () => ({ credits: Number(credits.value) }));
  const revoke = act("/api/v1/admin/keys/revoke", () => ({}));
  const own = key.keyId === account.keyId;
  const row = h(
    "tr",
    { dataset: { keyId: key.keyId } },
    h("td", {}, key.name || "–"),
    h("td", { class: "mono" }, key.keyId),
    h("td", {}, key.isAdmin ? "admin" : "user"),
    h(
      "td",
      {},
      h(
        "form",
        { class: "inline", onsubmit: (e) => (e.preventDefault(), setCredits()) },
        credits,
        h(
          "button",
          {
            type: "submit",
            class: "secondary small",
            disabled: Boolean(key.revokedAt),
            "aria-label": `Set credits of ${label}`,
          },
          "Set",
        ),
      ),
    ),
    h("td", {}, formatTime(key.createdAt)),
    h(
      "td",
      {},
      key.revokedAt
        ? h("span", { class: "badge state-fail" }, `revoked ${formatTime(key.revokedAt)}`)
        : own
          ? h("span", { class: "badge" }, "this key")
          : h(
              "button",
              {
                type: "button",
                class: "danger small",
                "aria-label": `Revoke ${label}`,
                onclick: () =>
                  confirm(`Revoke the key ${label}? Requests with it are refused within 5 s.`) && revoke(),
              },
              "Revoke",
            ),
      status,
    ),
  );
  return row;
}
