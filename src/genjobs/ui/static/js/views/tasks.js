// #/tasks: the key's tasks, newest first, filtered by model and state, one page at a
// time (cursor paging). One SSE stream (/jobs/changes) keeps the rows on screen current
// and brings new tasks onto the first page.

import { get, isAbort, pause, stream } from "../api.js";
import { loadModels } from "../catalogue.js";
import { formatDuration, formatTime, h, stateBadge } from "../dom.js";
import { progressBar } from "./task.js";

const STATES = ["waiting", "queuing", "generating", "success", "fail"];
const PAGE_SIZES = [10, 20, 50, 100];
const RECONNECT_MS = 3000;
const RELOAD_MS = 250; // a burst of new tasks reloads the first page once

// Kept across visits, so coming back from a task's page shows the same page.
const list = { model: "", state: "", limit: 20, cursors: [null] }; // cursors[i] opens page i+1

export async function tasksView({ main, signal }) {
  const models = await loadModels();
  const body = h("tbody");
  const empty = h(
    "p",
    { class: "empty", hidden: true },
    "No tasks here yet. ",
    h("a", { href: "#/playground" }, "Run one in the playground."),
  );
  const live = h("span", { class: "live", role: "status" });
  const problem = h("p", { class: "alert", role: "alert", hidden: true });
  const pageLabel = h("span", { class: "page-label" });
  const previous = h("button", { type: "button", class: "secondary", onclick: () => turn(-1) }, "Previous");
  const next = h("button", { type: "button", class: "secondary", onclick: () => turn(1) }, "Next");
  let nextCursor = null;

  const filter = (label, name, values, allLabel) =>
    h(
      "label",
      {},
      label,
      h(
        "select",
        { name, value: String(list[name]), onchange: (e) => refilter(name, e.target.value) },
        allLabel && h("option", { value: "" }, allLabel),
        values.map((v) => h("option", { value: String(v) }, String(v))),
      ),
    );

  function refilter(name, value) {
    list[name] = name === "limit" ? Number(value) : value;
    list.cursors = [null];
    load();
  }

  function turn(step) {
    if (step > 0) list.cursors.push(nextCursor);
    else list.cursors.pop();
    load();
  }

  let loading = null; // AbortController of the page being read: a newer load wins
  let crossed = null; // changes that arrive while it is read: the page may be older than them
  async function load() {
    loading?.abort();
    const reading = (loading = new AbortController());
    crossed = new Map();
    try {
      const page = await get(
        "/api/v1/jobs/list",
        { model: list.model, state: list.state, limit: list.limit, cursor: list.cursors.at(-1) },
        { signal: AbortSignal.any([signal, reading.signal]) },
      );
      const items = page.items.map((item) => newer(item, crossed.get(item.taskId)));
      nextCursor = page.nextCursor;
      body.replaceChildren(...items.map(row));
      empty.hidden = page.items.length > 0;
      previous.disabled = list.cursors.length === 1;
      next.disabled = !nextCursor;
      pageLabel.textContent = `Page ${list.cursors.length}`;
      problem.hidden = true;
    } catch (error) {
      if (isAbort(error)) return;
      problem.textContent = error.message;
      problem.hidden = false;
    } finally {
      if (loading === reading) crossed = null;
    }
  }

  // A change to a task on screen updates its row. A new task (newer than the first row,
  // matching the filters) belongs on the first page: that page is read again rather than
  // grown here, so that it keeps its size and its nextCursor stays right.
  let reloading = null;
  function apply(record) {
    crossed?.set(record.taskId, record);
    const shown = body.querySelector(`tr[data-task-id="${CSS.escape(record.taskId)}"]`);
    if (shown) {
      shown.replaceWith(row(record));
      return;
    }
    const matches =
      (!list.model || record.model === list.model) && (!list.state || record.state === list.state);
    const newest = Number(body.firstElementChild?.dataset.createTime ?? 0);
    if (list.cursors.length === 1 && matches && record.createTime >= newest) {
      reloading ??= pause(RELOAD_MS, signal).then(() => {
        reloading = null;
        return load();
      });
    }
  }

  function setLive(on) {
    live.textContent = on ? "Live" : "Reconnecting…";
    live.classList.toggle("on", on);
  }

  // The page is loaded once the stream is open, so no change falls between the two; after
  // a lost connection it is loaded again, as changes may have been missed meanwhile.
  async function follow() {
    let loaded = false;
    while (!signal.aborted) {
      try {
        await stream("/api/v1/jobs/changes", {
          signal,
          onOpen: () => {
            setLive(true);
            loaded = true;
            load();
          },
          onEvent: (type, record) => type === "task" && apply(record),
        });
      } catch (error) {
        if (isAbort(error)) return;
        if (!loaded) {
          loaded = true;
          load();
        }
      }
      setLive(false);
      await pause(RECONNECT_MS, signal);
    }
  }

  main.append(
    h(
      "section",
      { class: "tasks", "aria-labelledby": "tasks-title" },
      h(
        "div",
        { class: "toolbar" },
        h("h1", { id: "tasks-title" }, "Tasks"),
        live,
        h(
          "div",
          { class: "filters" },
          filter(
            "Model",
            "model",
            models.map((m) => m.name),
            "All models",
          ),
          filter("State", "state", STATES, "All states"),
          filter("Per page", "limit", PAGE_SIZES),
        ),
      ),
      h(
        "table",
        { class: "task-list" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Task", "Model", "State", "Progress", "Created", "Run time"].map((t) =>
              h("th", { scope: "col" }, t),
            ),
          ),
        ),
        body,
      ),
      problem,
      empty,
      h("nav", { class: "pager", "aria-label": "Pages" }, previous, pageLabel, next),
    ),
  );
  follow();
}

const newer = (record, other) => (other && other.updateTime >= record.updateTime ? other : record);

function row(record) {
  return h(
    "tr",
    { dataset: { taskId: record.taskId, createTime: String(record.createTime) } },
    h("td", {}, h("a", { href: `#/tasks/${record.taskId}`, class: "mono" }, record.taskId)),
    h("td", {}, record.model),
    h("td", {}, stateBadge(record)),
    h("td", {}, progressBar(record)),
    h("td", {}, formatTime(record.createTime)),
    h("td", {}, record.completeTime ? formatDuration(record.costTime) : ""),
  );
}
