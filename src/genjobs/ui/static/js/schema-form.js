// A form generated from a model's input JSON Schema, as pydantic writes it ($defs and
// $ref, anyOf [X, null] for optional values). There is no validation here: the API checks
// the input and names the field of each problem, and locate() finds that field.
//
// Every field is {element, value(), locate(segments), showError(text)}; value() is
// undefined for an empty field, so that the API applies its default (or says it is
// required).

import { upload } from "./api.js";
import { h, uid } from "./dom.js";

const UPLOAD_PATH = "playground";

/** The rule of the API's file inputs: a property named *_url or *_urls takes file links. */
export const isFileField = (name) => /_urls?$/.test(name);

/** The form of `schema`, prefilled with `initial` where given, else the schema's defaults. */
export function schemaForm(schema, initial) {
  return objectField(schema, schema, { initial, root: true });
}

/** Error messages of the API: "input.shots.0.duration: msg; model: msg" -> [{path, text}]. */
export function parseErrors(message) {
  return message.split(/; (?=[\w.[\]-]+: )/).map((part) => {
    const match = part.match(/^([\w.[\]-]+): ([\s\S]*)$/);
    if (!match) return { path: [], text: part };
    // "input.image_urls[0]" (file errors) and "input.image_urls.0" (schema errors) alike
    return { path: match[1].replace(/\[(\d+)\]/g, ".$1").split("."), text: match[2] };
  });
}

export function clearErrors(container) {
  for (const el of container.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of container.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/** Follow $ref and unwrap anyOf [X, null]; the outer title, description, default win. */
function resolve(spec, root) {
  if (spec.$ref) {
    const target = spec.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce((node, key) => node[key], root);
    const { $ref, ...outer } = spec;
    return resolve({ ...target, ...outer }, root);
  }
  const options = spec.anyOf?.filter((option) => option.type !== "null");
  if (options?.length === 1) {
    const { anyOf, ...outer } = spec;
    return { ...resolve(options[0], root), ...outer };
  }
  return spec;
}

function field(spec, root, ctx) {
  spec = resolve(spec, root);
  const initial = ctx.initial ?? spec.default ?? spec.examples?.[0];
  ctx = { ...ctx, initial: initial === null ? undefined : initial, description: spec.description };
  if (spec.enum) return selectField(spec, ctx);
  if (spec.type === "boolean") return checkboxField(ctx);
  if (spec.type === "integer" || spec.type === "number") return numberField(spec, ctx);
  if (spec.type === "string") return textField(spec, ctx);
  if (spec.type === "array") return arrayField(spec, root, ctx);
  if (spec.type === "object" && spec.properties) return objectField(spec, root, ctx);
  return jsonField(ctx); // anything else (a dict, a union of types) is typed as JSON
}

/** A labelled control with its help text and the slot where the API's message goes. */
function labelled(control, { label, required, description }, read) {
  const id = uid();
  const help = description && h("p", { class: "help", id: `${id}-help` }, description);
  const error = h("p", { class: "field-error", id: `${id}-error`, role: "alert" });
  control.id = id;
  control.setAttribute("aria-describedby", [help && help.id, error.id].filter(Boolean).join(" "));
  if (required) control.setAttribute("aria-required", "true");
  const labelEl = h(
    "label",
    { for: id },
    label,
    required && h("span", { class: "required", "aria-hidden": "true" }, " *"),
  );
  const checkbox = control.type === "checkbox";
  const self = {
    element: h(
      "div",
      { class: checkbox ? "field checkbox" : "field" },
      checkbox ? [control, labelEl] : [labelEl, control],
      help,
      error,
    ),
    value: read,
    locate: () => self,
    showError(text) {
      error.textContent = error.textContent ? `${error.textContent}; ${text}` : text;
      control.setAttribute("aria-invalid", "true");
    },
  };
  return self;
}

function selectField(spec, ctx) {
  const blank = ctx.initial === undefined && h("option", { value: "" }, ctx.required ? "Choose…" : "—");
  const options = spec.enum.map((value, i) => h("option", { value: String(i) }, String(value)));
  const index = spec.enum.indexOf(ctx.initial);
  const select = h("select", { name: ctx.name, value: index >= 0 ? String(index) : "" }, blank, options);
  // Options are numbered so that enum values keep their JSON type (a number stays one).
  return labelled(select, ctx, () => (select.value === "" ? undefined : spec.enum[Number(select.value)]));
}

function checkboxField(ctx) {
  const box = h("input", { type: "checkbox", name: ctx.name, checked: Boolean(ctx.initial) });
  return labelled(box, ctx, () => box.checked);
}

function numberField(spec, ctx) {
  const input = h("input", {
    type: "number",
    name: ctx.name,
    step: spec.type === "integer" ? "1" : "any",
    min: spec.minimum,
    max: spec.maximum,
    value: ctx.initial === undefined ? "" : String(ctx.initial),
  });
  return labelled(input, ctx, () => (input.value === "" ? undefined : Number(input.value)));
}

function textField(spec, ctx) {
  const long = !isFileField(ctx.fileName ?? ctx.name) && (spec.maxLength ?? 0) > 200;
  const input = long
    ? h("textarea", { name: ctx.name, rows: 3, value: ctx.initial ?? "" })
    : h("input", { type: "text", name: ctx.name, value: ctx.initial ?? "" });
  const self = labelled(input, ctx, () => (input.value === "" ? undefined : input.value));
  if (isFileField(ctx.fileName ?? ctx.name)) addUpload(self, input, ctx.label);
  return self;
}

/** File fields: an Upload button that stores the file and puts its link in the field. */
function addUpload(self, input, label) {
  const status = h("span", { class: "help", role: "status" });
  const picker = h("input", {
    type: "file",
    hidden: true,
    onchange: async () => {
      const [file] = picker.files;
      if (!file) return;
      status.textContent = `Uploading ${file.name}…`;
      try {
        input.value = (await upload(file, UPLOAD_PATH)).downloadUrl;
        status.textContent = `Uploaded ${file.name}`;
      } catch (error) {
        status.textContent = "";
        self.showError(error.message);
      }
      picker.value = ""; // the same file again is a new upload
    },
  });
  const button = h(
    "button",
    {
      type: "button",
      class: "secondary small",
      "aria-label": `Upload a file for ${label}`,
      onclick: () => picker.click(),
    },
    "Upload…",
  );
  input.after(h("div", { class: "upload" }, button, picker, status));
}

function jsonField(ctx) {
  const area = h("textarea", {
    name: ctx.name,
    rows: 3,
    class: "mono",
    value: ctx.initial === undefined ? "" : JSON.stringify(ctx.initial),
  });
  return labelled(area, { ...ctx, description: `${ctx.description ?? ""} (JSON)`.trim() }, () => {
    if (area.value.trim() === "") return undefined;
    try {
      return JSON.parse(area.value);
    } catch {
      return area.value; // sent as typed: the API names the field and what it expected
    }
  });
}

/** A group of fields with a legend (or, for the root, no frame at all). */
function group(ctx, content) {
  const error = h("p", { class: "field-error", role: "alert" });
  const help = ctx.description && h("p", { class: "help" }, ctx.description);
  const element = ctx.root
    ? h("div", { class: "fields" }, error, content)
    : h(
        "fieldset",
        { class: "group" },
        h(
          "legend",
          {},
          ctx.label,
          ctx.required && h("span", { class: "required", "aria-hidden": "true" }, " *"),
        ),
        help,
        error,
        content,
      );
  return {
    element,
    showError(text) {
      error.textContent = error.textContent ? `${error.textContent}; ${text}` : text;
    },
  };
}

function objectField(spec, root, ctx) {
  const required = new Set(spec.required ?? []);
  const children = Object.entries(spec.properties).map(([name, property]) => [
    name,
    field(property, root, { name, label: name, required: required.has(name), initial: ctx.initial?.[name] }),
  ]);
  const self = {
    ...group(
      ctx,
      children.map(([, child]) => child.element),
    ),
    value: () =>
      Object.fromEntries(
        children.map(([name, child]) => [name, child.value()]).filter(([, value]) => value !== undefined),
      ),
    locate: ([name, ...rest]) => {
      const child = children.find(([key]) => key === name)?.[1];
      return child ? child.locate(rest) : self;
    },
  };
  return self;
}

/** Repeatable rows (shots, image links) with Add and Remove, within minItems/maxItems. */
function arrayField(spec, root, ctx) {
  const items = resolve(spec.items ?? {}, root);
  const noun = items.title ?? ctx.name.replace(/s$/, "");
  const min = spec.minItems ?? 0;
  const max = spec.maxItems ?? Infinity;
  const list = h("div", { class: "rows" });
  const add = h(
    "button",
    { type: "button", class: "secondary small", onclick: () => rebuild([...values(), undefined]) },
    `Add ${noun.toLowerCase()}`,
  );
  let rows = [];

  const values = () => rows.map((row) => row.value());
  const makeRow = (initial, i) => {
    const objectRow = items.type === "object";
    const item = field(items, root, {
      name: `${ctx.name}.${i}`,
      fileName: ctx.name, // image_urls' items are file links
      label: objectRow ? `${noun} ${i + 1}` : `${ctx.name}[${i}]`,
      required: true,
      initial,
    });
    const remove = h(
      "button",
      {
        type: "button",
        class: "secondary small remove",
        "aria-label": `Remove ${objectRow ? `${noun} ${i + 1}` : `${ctx.name}[${i}]`}`,
        onclick: () => {
          const kept = values();
          kept.splice(i, 1);
          rebuild(kept);
          add.focus();
        },
      },
      "Remove",
    );
    item.element.classList.add("row");
    item.element.append(remove);
    return item;
  };
  function rebuild(initials) {
    rows = initials.map((initial, i) => makeRow(initial, i));
    list.replaceChildren(...rows.map((row) => row.element));
    for (const button of list.querySelectorAll(":scope > .row > .remove"))
      button.disabled = rows.length <= min;
    add.disabled = rows.length >= max;
  }

  const initial = Array.isArray(ctx.initial) ? ctx.initial : [];
  rebuild(initial.length >= min ? initial : [...initial, ...Array(min - initial.length).fill(undefined)]);
  const self = {
    ...group(ctx, [list, add]),
    // A blank row is sent as null, so the API's message points at that row.
    value: () => (rows.length ? values().map((value) => value ?? null) : ctx.required ? [] : undefined),
    locate: ([index, ...rest]) => rows[Number(index)]?.locate(rest) ?? self,
  };
  return self;
}
