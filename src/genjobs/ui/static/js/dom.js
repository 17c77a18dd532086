// Building DOM without innerHTML (task params and results are user data) and the small
// formatting helpers every view needs.

/** h("a", {href, class: "x", onclick}, child, [children], null) -> element */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  // Children first: a <select>'s value can only be set once its options are there.
  el.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name in el && !name.includes("-"))
      el[name] = value; // value, checked, hidden, ...
    else el.setAttribute(name, value === true ? "" : value);
  }
  return el;
}

/** SVG elements need their namespace; same calling convention as h(). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(name, value);
  }
  el.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

let lastId = 0;
/** A page-unique id, for label/for and aria-describedby pairs. */
export const uid = (prefix = "f") => `${prefix}-${++lastId}`;

const pad = (n, width = 2) => String(n).padStart(width, "0");

/** Unix ms -> "2026-12-04 05:22:53" in local time; "" for 0/null (not happened yet). */
export function formatTime(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${date} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** 850 -> "850 ms", 1297 -> "1.3 s", 125000 -> "2 min 5 s". */
export function formatDuration(ms) {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

export const FINAL_STATES = new Set(["success", "fail"]);

/** The state as users read it: a cancelled task is "fail" with failCode "canceled". */
export function stateBadge(record) {
  const canceled = record.state === "fail" && record.failCode === "canceled";
  return h(
    "span",
    { class: `badge state-${record.state}`, dataset: { state: record.state } },
    canceled ? "canceled" : record.state,
  );
}

/** Parse a JSON string of the API ("" until there is one) without throwing. */
export function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export const pretty = (value) => JSON.stringify(value, null, 2);
