// #/playground/<model>: a form generated from the model's input schema; Run creates the
// task and follows it live, beside the form, to its result. The API's 422 messages go
// next to the fields they name.

import { isAbort, post } from "../api.js";
import { loadModels } from "../catalogue.js";
import { h } from "../dom.js";
import { clearErrors, isFileField, parseErrors, schemaForm } from "../schema-form.js";
import { showTask } from "./task.js";

export async function playgroundView({ main, signal, refreshCredits }, modelName) {
  const models = await loadModels();
  const model = models.find((m) => m.name === modelName) ?? models[0];
  const input = model.inputSchema;

  // The form is that of the whole createTask body, so an error's path ("input.shots.0",
  // "callBackUrl") is found by locate() as it is; "model" and others land at its top.
  const form = schemaForm(
    {
      type: "object",
      $defs: input.$defs,
      properties: {
        input,
        callBackUrl: {
          type: "string",
          description: "Optional: genjobs POSTs the finished task to this URL.",
        },
      },
      required: ["input"],
    },
    { input: exampleOf(input) },
  );

  const pane = h(
    "section",
    { class: "run-result", "aria-label": "Run" },
    h(
      "p",
      { class: "placeholder" },
      "Run the model: its task appears here and is followed live to its result.",
    ),
  );
  const run = h("button", { type: "submit" }, "Run");
  let following = null; // AbortController of the task shown in the pane

  async function submit(event) {
    event.preventDefault();
    clearErrors(formEl);
    run.disabled = true;
    try {
      const created = await post(
        "/api/v1/jobs/createTask",
        { model: model.name, ...form.value() },
        { signal },
      );
      following?.abort();
      following = new AbortController();
      pane.replaceChildren();
      // Only a display: if the balance cannot be read now, the next page shows it.
      refreshCredits().catch(() => {});
      await showTask(pane, created.taskId, AbortSignal.any([signal, following.signal]));
    } catch (error) {
      if (isAbort(error)) return;
      for (const { path, text } of parseErrors(error.message)) form.locate(path).showError(text);
      formEl.querySelector("[aria-invalid]")?.focus();
    } finally {
      run.disabled = false;
    }
  }

  const formEl = h(
    "form",
    { class: "card run-form", novalidate: true, onsubmit: submit, "aria-labelledby": "playground-title" },
    h("h1", { id: "playground-title" }, "Playground"),
    h(
      "div",
      { class: "field" },
      h("label", { for: "model" }, "Model"),
      h(
        "select",
        {
          id: "model",
          value: model.name,
          onchange: (e) => (location.hash = `#/playground/${e.target.value}`),
        },
        models.map((m) => h("option", { value: m.name }, m.name)),
      ),
      h("p", { class: "help" }, model.description),
      h(
        "p",
        { class: "meta" },
        `${model.price} credit${model.price === 1 ? "" : "s"} per task · ${model.concurrency} at a time · times out after ${model.timeoutSeconds} s`,
      ),
    ),
    form.element,
    h("div", { class: "actions" }, run),
  );
  main.append(h("div", { class: "playground" }, formEl, pane));
}

/**
 * The schema's first example, to prefill the form. Its file links point at nothing the
 * user has (https://example.com/kitten.png), so those fields start empty.
 */
function exampleOf(schema) {
  const example = schema.examples?.[0] ?? {};
  return Object.fromEntries(Object.entries(example).filter(([name]) => !isFileField(name)));
}
