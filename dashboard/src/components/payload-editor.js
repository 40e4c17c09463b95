// @ts-check
/**
 * Edits a JSON value (an execution's input, an event's payload): a form generated from the JSON Schema
 * when it is an object of plain fields (string, number, integer, boolean, enum), and a JSON editor always.
 * The parent remounts it (a `key`) when the schema changes; it reports every edit through `onChange`.
 * Problems show once the user has edited it, or when the parent says so (`showErrors`, after a submit).
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { html } from "../html.js";
import { checkSchema } from "../schema-check.js";

/** @typedef {import("../types.js").JsonSchema} JsonSchema */
/** @typedef {{ ok: true, value: unknown } | { ok: false, errors: string[] }} Parsed */
/** @typedef {{ name: string, schema: JsonSchema, kind: "string" | "number" | "integer" | "boolean" | "enum", required: boolean }} Field */
/** @typedef {Record<string, string | boolean>} FieldValues */

/**
 * The fields of a form for `schema`, or null when a form cannot express it (then only JSON is offered).
 * @param {JsonSchema | null | undefined} schema
 * @returns {Field[] | null}
 */
export function formFields(schema) {
  if (schema?.type !== "object" || !schema.properties) return null;
  const required = new Set(schema.required ?? []);
  /** @type {Field[]} */
  const fields = [];
  for (const [name, sub] of Object.entries(schema.properties)) {
    /** @type {Field["kind"] | null} */
    let kind = null;
    if (Array.isArray(sub.enum) && sub.enum.length > 0 && sub.enum.every((o) => ["string", "number", "boolean"].includes(typeof o)))
      kind = "enum";
    else if (sub.type === "string" || sub.type === "number" || sub.type === "integer" || sub.type === "boolean") kind = sub.type;
    if (kind === null) return null;
    fields.push({ name, schema: sub, kind, required: required.has(name) });
  }
  for (const name of required) if (!(name in schema.properties)) return null;
  return fields;
}

/**
 * @param {Field[]} fields
 * @param {unknown} value
 * @returns {FieldValues}
 */
function fieldValuesOf(fields, value) {
  const object = typeof value === "object" && value !== null && !Array.isArray(value) ? /** @type {Record<string, unknown>} */ (value) : {};
  /** @type {FieldValues} */
  const values = {};
  for (const field of fields) {
    const v = field.name in object ? object[field.name] : field.schema.default;
    if (field.kind === "boolean") values[field.name] = v === true;
    else if (field.kind === "enum") {
      const index = (field.schema.enum ?? []).indexOf(v);
      values[field.name] = index === -1 ? "" : String(index);
    } else values[field.name] = v === undefined || v === null ? "" : String(v);
  }
  return values;
}

/**
 * @param {Field[]} fields
 * @param {FieldValues} values
 * @param {string} root
 * @returns {{ value: Record<string, unknown>, errors: string[] }}
 */
function valueOfFields(fields, values, root) {
  /** @type {Record<string, unknown>} */
  const value = {};
  /** @type {string[]} */
  const errors = [];
  for (const field of fields) {
    const raw = values[field.name];
    if (field.kind === "boolean") value[field.name] = raw === true;
    // An empty field is left out, so a required one is reported missing (JSON can still send "").
    else if (raw === "" || raw === undefined || raw === false) continue;
    else if (field.kind === "enum") value[field.name] = (field.schema.enum ?? [])[Number(raw)];
    else if (field.kind === "number" || field.kind === "integer") {
      const n = Number(raw);
      if (String(raw).trim() === "" || Number.isNaN(n)) errors.push(`${root}.${field.name} must be a number`);
      else value[field.name] = n;
    } else value[field.name] = raw;
  }
  return { value, errors };
}

/**
 * @param {string} text
 * @param {JsonSchema | null | undefined} schema
 * @param {string} root
 * @returns {Parsed}
 */
function parseJson(text, schema, root) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, errors: [`Not valid JSON: ${error instanceof Error ? error.message : String(error)}`] };
  }
  const errors = checkSchema(schema, value, root);
  return errors.length ? { ok: false, errors } : { ok: true, value };
}

/**
 * @param {{ field: Field, value: string | boolean, id: string, onInput: (value: string | boolean) => void }} props
 */
function FieldInput({ field, value, id, onInput }) {
  const { schema, kind } = field;
  /** @param {Event} e */
  const text = (e) => onInput(/** @type {HTMLInputElement} */ (e.currentTarget).value);
  if (kind === "boolean") {
    return html`<input id=${id} type="checkbox" checked=${value === true} onChange=${(/** @type {Event} */ e) => onInput(/** @type {HTMLInputElement} */ (e.currentTarget).checked)} />`;
  }
  if (kind === "enum") {
    return html`<select id=${id} value=${value} onChange=${text}>
      ${field.required ? null : html`<option value="">—</option>`}
      ${(schema.enum ?? []).map((option, i) => html`<option value=${String(i)}>${String(option)}</option>`)}
    </select>`;
  }
  if (kind === "number" || kind === "integer") {
    return html`<input
      id=${id}
      type="number"
      inputmode=${kind === "integer" ? "numeric" : "decimal"}
      step=${kind === "integer" ? "1" : "any"}
      min=${schema.minimum}
      max=${schema.maximum}
      value=${value}
      onInput=${text}
    />`;
  }
  return html`<input id=${id} type=${schema.format === "email" ? "email" : "text"} value=${value} onInput=${text} />`;
}

/**
 * @param {{ schema?: JsonSchema | null, initial?: unknown, root: string, label: string, idPrefix: string,
 *   showErrors: boolean, onChange: (parsed: Parsed) => void }} props
 */
export function PayloadEditor({ schema, initial, root, label, idPrefix, showErrors, onChange }) {
  const fields = useMemo(() => formFields(schema), [schema]);
  const [touched, setTouched] = useState(false);
  const [mode, setMode] = useState(/** @type {"form" | "json"} */ (fields ? "form" : "json"));
  const [values, setValues] = useState(() => (fields ? fieldValuesOf(fields, initial) : {}));
  const [text, setText] = useState(() =>
    JSON.stringify(initial ?? (fields ? valueOfFields(fields, fieldValuesOf(fields, initial), root).value : {}), null, 2),
  );

  /** @type {Parsed} */
  const parsed = useMemo(() => {
    if (mode === "json" || !fields) return parseJson(text, schema, root);
    const { value, errors } = valueOfFields(fields, values, root);
    const all = [...errors, ...checkSchema(schema, value, root)];
    return all.length ? { ok: false, errors: all } : { ok: true, value };
  }, [mode, text, values, fields, schema, root]);

  useEffect(() => onChange(parsed), [parsed]);

  /** @param {"form" | "json"} next */
  const switchTo = (next) => {
    if (next === mode || !fields) return;
    if (next === "json") setText(JSON.stringify(valueOfFields(fields, values, root).value, null, 2));
    else {
      try {
        setValues(fieldValuesOf(fields, JSON.parse(text)));
      } catch {
        // Unparseable JSON: the form keeps the values it had.
      }
    }
    setMode(next);
  };

  return html`
    <fieldset class="payload-editor">
      <legend>${label}</legend>
      ${
        fields
          ? html`<div class="segmented" role="group" aria-label=${`${label} editor`}>
            <button type="button" aria-pressed=${mode === "form"} onClick=${() => switchTo("form")}>Form</button>
            <button type="button" aria-pressed=${mode === "json"} onClick=${() => switchTo("json")}>JSON</button>
          </div>`
          : null
      }
      ${
        mode === "form" && fields
          ? html`<div class="form-grid">
            ${fields.length === 0 ? html`<p class="muted">No fields.</p>` : null}
            ${fields.map((field) => {
              const id = `${idPrefix}-${field.name}`;
              const labelEl = html`<label for=${id}>
                ${field.schema.title ?? field.name}${field.required ? html`<span class="required" aria-hidden="true"> *</span>` : null}
              </label>`;
              const input = html`<${FieldInput}
                field=${field}
                id=${id}
                value=${values[field.name] ?? ""}
                onInput=${(/** @type {string | boolean} */ v) => {
                  setTouched(true);
                  setValues({ ...values, [field.name]: v });
                }}
              />`;
              const hint = field.schema.description ? html`<small class="muted">${field.schema.description}</small>` : null;
              // A checkbox reads best before its label; other inputs under theirs.
              return field.kind === "boolean"
                ? html`<div class="field-check">${input} ${labelEl} ${hint}</div>`
                : html`<div class="field">${labelEl} ${input} ${hint}</div>`;
            })}
          </div>`
          : html`<label class="field">
            <span class="sr-only">${label} as JSON</span>
            <textarea
              class="code"
              rows="8"
              spellcheck="false"
              aria-label=${`${label} (JSON)`}
              value=${text}
              onInput=${(/** @type {Event} */ e) => {
                setTouched(true);
                setText(/** @type {HTMLTextAreaElement} */ (e.currentTarget).value);
              }}
            ></textarea>
          </label>`
      }
      ${
        (showErrors || touched) && !parsed.ok
          ? html`<ul class="field-errors" role="alert">${parsed.errors.map((e) => html`<li>${e}</li>`)}</ul>`
          : null
      }
    </fieldset>
  `;
}
