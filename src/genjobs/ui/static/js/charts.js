// The admin overview's two charts, drawn as inline SVG: finished tasks over time
// (stacked bars) and latency percentiles per model (grouped horizontal bars). Colours
// come from style.css (.ok, .bad, .p50, ...), so the charts follow the page's palette.

import { formatDuration, svg } from "./dom.js";

const pad2 = (n) => String(n).padStart(2, "0");
const clock = (ms) => `${pad2(new Date(ms).getHours())}:${pad2(new Date(ms).getMinutes())}`;

/** A round step (1, 2 or 5 times a power of ten) giving about `count` ticks up to max. */
function ticks(max, count = 4) {
  if (max <= 0) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
  const steps = Math.ceil(max / step);
  return Array.from({ length: steps + 1 }, (_, i) => i * step);
}

/** series: [{start, succeeded, failed}], one bar each, `bucketMs` wide. */
export function seriesChart(series, bucketMs) {
  const width = 560;
  const height = 220;
  const left = 36;
  const bottom = 24;
  const plotH = height - bottom - 8;
  const scale = ticks(Math.max(...series.map((b) => b.succeeded + b.failed)));
  const top = scale.at(-1);
  const y = (value) => 8 + plotH - (value / top) * plotH;
  const slot = (width - left) / series.length;
  const labelEvery = Math.ceil(series.length / 6);
  const total = series.reduce((sum, b) => sum + b.succeeded + b.failed, 0);
  return svg(
    "svg",
    {
      viewBox: `0 0 ${width} ${height}`,
      class: "chart",
      role: "img",
      "aria-label": `Finished tasks over time: ${total} in all`,
    },
    scale.map((value) => [
      svg("line", { x1: left, x2: width, y1: y(value), y2: y(value), class: "grid" }),
      svg("text", { x: left - 6, y: y(value) + 4, class: "axis", "text-anchor": "end" }, String(value)),
    ]),
    series.map((bucket, i) => {
      const x = left + i * slot + slot * 0.15;
      const w = slot * 0.7;
      const title = `${clock(bucket.start)}–${clock(bucket.start + bucketMs)}: ${bucket.succeeded} succeeded, ${bucket.failed} failed`;
      return svg(
        "g",
        { class: "bar" },
        svg("title", {}, title),
        svg("rect", { x, width: w, y: y(bucket.succeeded), height: y(0) - y(bucket.succeeded), class: "ok" }),
        svg("rect", {
          x,
          width: w,
          y: y(bucket.succeeded + bucket.failed),
          height: y(bucket.succeeded) - y(bucket.succeeded + bucket.failed),
          class: "bad",
        }),
        i % labelEvery === 0 &&
          svg(
            "text",
            { x: x + w / 2, y: height - 6, class: "axis", "text-anchor": "middle" },
            clock(bucket.start),
          ),
      );
    }),
  );
}

const PERCENTILES = ["p50", "p90", "p99"];

/** models: the overview's rows; one group of p50/p90/p99 bars per model with latencies. */
export function latencyChart(models) {
  const rows = models.filter((m) => m.latencyMs);
  const width = 560;
  const left = 190;
  const right = 70;
  const bar = 11;
  const group = PERCENTILES.length * (bar + 2) + 14;
  const height = Math.max(rows.length, 1) * group + 8;
  const max = Math.max(1, ...rows.map((m) => m.latencyMs.p99));
  const x = (ms) => (ms / max) * (width - left - right);
  return svg(
    "svg",
    {
      viewBox: `0 0 ${width} ${height}`,
      class: "chart",
      role: "img",
      "aria-label": "Latency from creation to completion, p50, p90 and p99, per model",
    },
    rows.length === 0 &&
      svg(
        "text",
        { x: width / 2, y: 20, class: "axis", "text-anchor": "middle" },
        "No finished tasks in this window",
      ),
    rows.map((model, row) => {
      const top = 8 + row * group;
      return svg(
        "g",
        {},
        svg(
          "text",
          { x: left - 10, y: top + group / 2 - 4, class: "label", "text-anchor": "end" },
          model.model,
        ),
        PERCENTILES.map((p, i) => {
          const yy = top + i * (bar + 2);
          const value = model.latencyMs[p];
          return svg(
            "g",
            {},
            svg("title", {}, `${model.model} ${p}: ${formatDuration(value)}`),
            svg("rect", { x: left, y: yy, width: Math.max(1, x(value)), height: bar, rx: 2, class: p }),
            svg(
              "text",
              { x: left + x(value) + 6, y: yy + bar - 1, class: "axis" },
              `${p} ${formatDuration(value)}`,
            ),
          );
        }),
      );
    }),
  );
}
