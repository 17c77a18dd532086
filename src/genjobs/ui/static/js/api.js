// The JSON API from the browser: the key kept in this tab's sessionStorage, the kie
// envelope {code, msg, data} unwrapped, Server-Sent Events read with fetch (EventSource
// cannot send an Authorization header) and authenticated downloads.

const KEY_ITEM = "genjobs.apiKey";
// The API is the parent of the dashboard (/ui/ -> /): a proxy may serve both under a prefix.
const API_ROOT = new URL("..", document.baseURI);

export const session = {
  get key() {
    return sessionStorage.getItem(KEY_ITEM);
  },
  set key(value) {
    if (value) sessionStorage.setItem(KEY_ITEM, value);
    else sessionStorage.removeItem(KEY_ITEM);
  },
};

/** An answer other than 2xx: `code` and `msg` as the API sent them. */
class ApiError extends Error {
  constructor(code, msg) {
    super(msg);
    this.code = code;
  }
}

/** Called when the signed-in key is refused (revoked, or the server forgot it). */
let onUnauthorized = () => {};
export const whenUnauthorized = (handler) => (onUnauthorized = handler);

async function errorOf(response) {
  const envelope = await response.json().catch(() => null);
  return new ApiError(envelope?.code ?? response.status, envelope?.msg ?? response.statusText);
}

async function send(path, { method = "GET", json, form, key, signal } = {}) {
  const headers = { Authorization: `Bearer ${key ?? session.key}` };
  let body = form;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  const response = await fetch(new URL(path.replace(/^\//, ""), API_ROOT), { method, headers, body, signal });
  if (!response.ok) {
    const error = await errorOf(response);
    // A key given explicitly is being tried (sign-in): its refusal is that form's business.
    if (error.code === 401 && key === undefined) onUnauthorized(error);
    throw error;
  }
  return response;
}

const withQuery = (path, params = {}) => {
  const query = new URLSearchParams(
    Object.entries(params).filter(([, value]) => value !== undefined && value !== null && value !== ""),
  );
  return query.size ? `${path}?${query}` : path;
};

export async function get(path, params, options) {
  return (await (await send(withQuery(path, params), options)).json()).data;
}

export async function post(path, json, options) {
  return (await (await send(path, { ...options, method: "POST", json })).json()).data;
}

export async function upload(file, uploadPath) {
  const form = new FormData();
  form.append("file", file);
  form.append("uploadPath", uploadPath);
  return (await (await send("/api/file-stream-upload", { method: "POST", form })).json()).data;
}

/**
 * Read a text/event-stream: onOpen() once the server has answered, then onEvent(type,
 * data) per event, data parsed as JSON. Resolves when the server ends the stream; rejects
 * with an AbortError once `signal` aborts.
 */
export async function stream(path, { params, onEvent, onOpen, signal }) {
  const response = await send(withQuery(path, params), { signal });
  onOpen?.();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      const data = [];
      for (const line of block.split("\n")) {
        // ": keep-alive" comments keep proxies from closing an idle stream; skip them.
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(type, JSON.parse(data.join("\n")));
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export const pause = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => clearTimeout(timer) || resolve(), { once: true });
  });

/** Fetch a file that needs the key, then hand it to the browser as a download. */
export async function download(path, params, fallbackName) {
  const response = await send(withQuery(path, params));
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const name = disposition.match(/filename="([^"]+)"/)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  // The click has started the download; the blob can go once this turn is over.
  setTimeout(() => URL.revokeObjectURL(url));
}

export const isAbort = (error) => error?.name === "AbortError";
