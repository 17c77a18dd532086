// One task: state, progress, timeline, input, failure, result and callback deliveries,
// followed live over the task's SSE stream until it is final. #/tasks/<id> shows it on
// its own; the playground shows the task it just created with the same showTask().

import { get, isAbort, pause, post, stream } from "../api.js";
import { FINAL_STATES, formatDuration, formatTime, h, parseJson, pretty, stateBadge } from "../dom.js";
import { resultView } from "./results.js";

const CALLBACK_POLL_MS = 5000;

export async function taskView({ main, signal }, taskId) {
  main.append(h("p", { class: "crumbs" }, h("a", { href: "#/tasks" }, "← All tasks")));
  await showTask(main, taskId, signal, "h1");
}

export function progressBar(record) {
  return h(
    "span",
    { class: "progress" },
    h("progress", { max: 100, value: record.progress, "aria-label": "Progress" }),
    h("span", { class: "percent" }, `${record.progress}%`),
  );
}

export async function showTask(container, taskId, signal, heading = "h2") {
  const first = await get("/api/v1/jobs/recordInfo", { taskId }, { signal });
  let record = null;
  const badge = h("span");
  const progress = h("div", { class: "task-progress" });
  const timeline = h("ol", { class: "timeline", "aria-label": "Timeline" });
  const failure = h("div", { class: "alert", role: "alert", hidden: true });
  const result = h("div");
  const callbacks = h("div");
  const problem = h("p", { class: "field-error", role: "alert" });
  const cancel = h("button", { type: "button", class: "danger", onclick: cancelTask }, "Cancel");

  async function cancelTask() {
    cancel.disabled = true;
    try {
      // The stream brings the outcome (fail/canceled) once the worker has stopped.
      show(await post("/api/v1/jobs/cancel", { taskId }));
    } catch (error) {
      problem.textContent = error.message;
      cancel.disabled = false;
    }
  }

  function show(next) {
    // Answers and events can cross (the cancel answer, written before the task stopped,
    // may arrive after the stream's final event): an older record never replaces a newer.
    if (record && (FINAL_STATES.has(record.state) || next.updateTime < record.updateTime)) return;
    const stateChanged = next.state !== record?.state;
    record = next;
    badge.replaceChildren(stateBadge(record));
    progress.replaceChildren(progressBar(record));
    cancel.hidden = FINAL_STATES.has(record.state);
    failure.hidden = record.state !== "fail";
    failure.replaceChildren(h("strong", {}, record.failCode), " ", record.failMsg);
    if (record.state === "success" && !result.firstChild) result.append(resultView(record));
    if (stateChanged) loadTimeline();
    if (stateChanged && FINAL_STATES.has(record.state)) followCallbacks();
  }

  let timelineAsked = 0; // answers can overtake each other: only the latest is drawn
  async function loadTimeline() {
    const asked = ++timelineAsked;
    // Created and finished are in the record; queued and started come from /timeline
    // (when it cannot be read, those two steps stay blank).
    const times = await get("/api/v1/jobs/timeline", { taskId }, { signal }).catch(() => ({}));
    if (asked !== timelineAsked) return;
    const { queueTime, startTime, attempt } = times;
    timeline.replaceChildren(...timelineSteps({ ...record, queueTime, startTime, attempt }));
  }

  // Deliveries are retried after the task is final: read them again while one is pending.
  async function followCallbacks() {
    while (!signal.aborted) {
      const deliveries = await get("/api/v1/jobs/callbacks", { taskId }, { signal }).catch(() => []);
      callbacks.replaceChildren(...(deliveries.length ? [callbacksView(deliveries)] : []));
      if (!deliveries.some((d) => d.status === "pending")) return;
      await pause(CALLBACK_POLL_MS, signal);
    }
  }

  container.append(
    h(
      "article",
      { class: "task", dataset: { taskId } },
      h(
        "header",
        { class: "task-head" },
        h("div", {}, h(heading, {}, first.model), h("p", { class: "mono task-id" }, taskId)),
        badge,
        cancel,
      ),
      problem,
      progress,
      timeline,
      failure,
      h(
        "div",
        { class: "task-body" },
        result,
        h(
          "div",
          {},
          h(
            "section",
            { "aria-label": "Input" },
            h("h3", {}, "Input"),
            h("pre", { class: "json" }, pretty(parseJson(first.param))),
          ),
          callbacks,
        ),
      ),
    ),
  );
  show(first);
  if (!FINAL_STATES.has(record.state)) follow();

  async function follow() {
    try {
      await stream("/api/v1/jobs/stream", { params: { taskId }, signal, onEvent: (_, next) => show(next) });
      if (!FINAL_STATES.has(record.state))
        problem.textContent = "Live updates stopped: reload to see the latest state.";
    } catch (error) {
      if (!isAbort(error)) problem.textContent = `Live updates stopped: ${error.message}`;
    }
  }
}

function timelineSteps(t) {
  const finished = t.state === "fail" ? (t.failCode === "canceled" ? "Canceled" : "Failed") : "Finished";
  const steps = [
    ["Created", t.createTime],
    ["Queued", t.queueTime],
    [t.attempt > 1 ? `Started (attempt ${t.attempt})` : "Started", t.startTime],
    [finished, t.completeTime],
  ];
  let previous = null;
  return steps.map(([label, time]) => {
    const since = time && previous ? `+${formatDuration(time - previous)}` : "";
    previous = time || previous;
    return h(
      "li",
      { class: time ? "done" : "pending" },
      h("span", { class: "step" }, label),
      h("time", {}, formatTime(time) || "–"),
      h("span", { class: "since" }, since),
    );
  });
}

function callbacksView(deliveries) {
  return h(
    "section",
    { "aria-label": "Callbacks" },
    h("h3", {}, "Callbacks"),
    deliveries.map((d) =>
      h(
        "div",
        { class: "delivery" },
        h(
          "p",
          {},
          h("span", { class: `badge delivery-${d.status}` }, d.status),
          ` ${d.kind} → `,
          h("span", { class: "mono" }, d.url),
        ),
        h(
          "table",
          { class: "attempts" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Attempt", "At", "Answer", "Took"].map((t) => h("th", { scope: "col" }, t)),
            ),
          ),
          h(
            "tbody",
            {},
            d.attempts.map((a, i) =>
              h(
                "tr",
                {},
                h("td", {}, String(i + 1)),
                h("td", {}, formatTime(a.attemptedAt)),
                h("td", {}, a.statusCode ? `HTTP ${a.statusCode}` : a.error),
                h("td", {}, formatDuration(a.durationMs)),
              ),
            ),
          ),
        ),
        d.status === "pending" &&
          d.nextAttemptAt &&
          h("p", { class: "help" }, `Next attempt at ${formatTime(d.nextAttemptAt)}`),
      ),
    ),
  );
}
