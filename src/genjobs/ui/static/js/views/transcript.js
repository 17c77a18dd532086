// A speech-to-text result (ElevenLabs' format: words[] of word, spacing and audio_event
// entries with times and speaker_id) as text to read while listening: one paragraph per
// speaker turn, coloured by speaker; a click on a word seeks the audio there, and the word
// being played is highlighted.

import { download } from "../api.js";
import { h, parseJson } from "../dom.js";

const SPEAKER_COLOURS = 6; // .speaker-0 ... .speaker-5 in style.css
const FORMATS = ["srt", "vtt", "txt", "json"];

export function transcriptView(record, transcript) {
  // The audio the task transcribed; genjobs' own file links are signed, so the <audio>
  // element can load them without the API key.
  const audioUrl = parseJson(record.param)?.input?.audio_url;
  const audio =
    audioUrl &&
    h("audio", { src: audioUrl, controls: true, preload: "metadata", "aria-label": "Transcribed audio" });

  const speakers = new Map(); // speaker_id -> its number in order of appearance
  const turns = [];
  const spoken = []; // {start, end, el}, in time order
  let turn = null;
  for (const word of transcript.words) {
    if (word.type === "spacing") {
      turn?.append(word.text);
      continue;
    }
    const speaker = word.speaker_id ?? "";
    if (turn?.dataset.speaker !== speaker) {
      if (!speakers.has(speaker)) speakers.set(speaker, speakers.size);
      const colour = speakers.get(speaker) % SPEAKER_COLOURS;
      turn = h(
        "p",
        { class: `turn speaker-${colour}`, dataset: { speaker } },
        h("span", { class: "speaker" }, speaker),
      );
      turns.push(turn);
    }
    const el = h(
      "button",
      {
        type: "button",
        class: word.type === "audio_event" ? "word event" : "word",
        title: `${word.start.toFixed(2)} s`,
        dataset: { start: String(word.start) },
        disabled: !audio,
        onclick: () => (audio.currentTime = word.start),
      },
      word.text,
    );
    turn.append(el);
    spoken.push({ start: word.start, end: word.end, el });
  }

  let playing = null;
  audio?.addEventListener("timeupdate", () => {
    const t = audio.currentTime;
    const now = spoken.findLast((w) => w.start <= t && t < w.end)?.el ?? null;
    if (now === playing) return;
    playing?.classList.remove("playing");
    now?.classList.add("playing");
    playing = now;
  });

  const status = h("span", { class: "help", role: "status" });
  const save = (format) => () =>
    download(
      "/api/v1/jobs/transcript",
      { taskId: record.taskId, format },
      `${record.taskId}.${format}`,
    ).catch((error) => (status.textContent = error.message));
  const length = transcript.words.at(-1)?.end;
  return h(
    "div",
    { class: "transcript" },
    audio,
    h(
      "p",
      { class: "meta" },
      `Language ${transcript.language_code || "unknown"}`,
      length !== undefined && ` · ${length.toFixed(1)} s`,
      speakers.size > 0 && ` · ${speakers.size} speaker${speakers.size === 1 ? "" : "s"}`,
    ),
    h(
      "p",
      { class: "downloads" },
      "Download ",
      FORMATS.map((format) =>
        h(
          "button",
          { type: "button", class: "secondary small", onclick: save(format) },
          format.toUpperCase(),
        ),
      ),
      status,
    ),
    // timestamps_granularity "none" leaves no words: then the text is all there is.
    h("div", { class: "turns" }, turns.length ? turns : h("p", { class: "turn speaker-0" }, transcript.text)),
  );
}
