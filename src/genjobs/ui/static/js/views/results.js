// A finished task's result as people want it: a video to watch, a transcript to read
// and listen to, or else the JSON itself. The raw resultJson is always one click away.

import { h, parseJson, pretty } from "../dom.js";
import { transcriptView } from "./transcript.js";

const VIDEO = /\.(mp4|webm|mov|m4v)$/i;

export function resultView(record) {
  const result = parseJson(record.resultJson) ?? {};
  const transcript = result.resultObject;
  const [videoUrl] = (result.resultUrls ?? []).filter((url) =>
    VIDEO.test(new URL(url, location.href).pathname),
  );
  let shown;
  if (videoUrl) shown = videoView(videoUrl, result);
  else if (Array.isArray(transcript?.words)) shown = transcriptView(record, transcript);
  else shown = h("pre", { class: "json" }, pretty(result));
  return h(
    "section",
    { class: "result", "aria-label": "Result" },
    h("h3", {}, "Result"),
    shown,
    (videoUrl || transcript?.words) &&
      h("details", {}, h("summary", {}, "resultJson"), h("pre", { class: "json" }, pretty(result))),
  );
}

function videoView(url, result) {
  const watermarked = result.resultWaterMarkUrls?.[0];
  return h(
    "div",
    { class: "video" },
    h("video", {
      src: url,
      poster: result.resultThumbnailUrls?.[0],
      controls: true,
      preload: "metadata",
      "aria-label": "Result video",
    }),
    h(
      "p",
      { class: "links" },
      h("a", { class: "button", href: url, download: "video.mp4" }, "Download MP4"),
      watermarked &&
        watermarked !== url &&
        h("a", { href: watermarked, download: "video-watermarked.mp4" }, "Watermarked copy"),
    ),
  );
}
