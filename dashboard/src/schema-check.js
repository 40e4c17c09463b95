// @ts-check
/**
 * A small JSON Schema check for forms, so a typo is caught before the request: types, required,
 * properties, additionalProperties: false, enum, const, items and the numeric and length bounds.
 * Keywords it does not know are ignored; the server validates with the full schema and its 422 message
 * is shown as it comes, so this check can only save a round trip, never accept what the server refuses.
 */

/** @typedef {import("./types.js").JsonSchema} JsonSchema */

/** @param {unknown} value */
function typeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/**
 * @param {string} wanted
 * @param {string} actual
 */
function typeMatches(wanted, actual) {
  return wanted === actual || (wanted === "number" && actual === "integer");
}

/**
 * @param {JsonSchema} schema
 * @param {unknown} value
 * @param {string} path
 * @param {string[]} errors
 */
function check(schema, value, path, errors) {
  if (typeof schema !== "object" || schema === null) return;
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => typeMatches(t, actual))) {
      errors.push(`${path} must be ${types.join(" or ")}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) {
    errors.push(`${path} must be one of ${schema.enum.map((o) => JSON.stringify(o)).join(", ")}`);
  }
  if ("const" in schema && JSON.stringify(schema.const) !== JSON.stringify(value))
    errors.push(`${path} must be ${JSON.stringify(schema.const)}`);
  if (typeof value === "number") checkNumber(schema, value, path, errors);
  if (typeof value === "string") checkString(schema, value, path, errors);
  if (Array.isArray(value)) checkArray(schema, value, path, errors);
  else if (actual === "object") checkObject(schema, /** @type {Record<string, unknown>} */ (value), path, errors);
}

/**
 * @param {JsonSchema} schema
 * @param {number} value
 * @param {string} path
 * @param {string[]} errors
 */
function checkNumber(schema, value, path, errors) {
  if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path} must be at least ${schema.minimum}`);
  if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path} must be at most ${schema.maximum}`);
  if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum)
    errors.push(`${path} must be above ${schema.exclusiveMinimum}`);
  if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum)
    errors.push(`${path} must be below ${schema.exclusiveMaximum}`);
}

/**
 * @param {JsonSchema} schema
 * @param {string} value
 * @param {string} path
 * @param {string[]} errors
 */
function checkString(schema, value, path, errors) {
  const length = [...value].length;
  if (schema.minLength !== undefined && length < schema.minLength) errors.push(`${path} must have at least ${schema.minLength} characters`);
  if (schema.maxLength !== undefined && length > schema.maxLength) errors.push(`${path} must have at most ${schema.maxLength} characters`);
  if (schema.pattern !== undefined) {
    try {
      if (!new RegExp(schema.pattern, "u").test(value)) errors.push(`${path} must match ${schema.pattern}`);
    } catch {
      // A pattern this browser cannot compile is left to the server.
    }
  }
}

/**
 * @param {JsonSchema} schema
 * @param {unknown[]} value
 * @param {string} path
 * @param {string[]} errors
 */
function checkArray(schema, value, path, errors) {
  if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${path} must have at least ${schema.minItems} items`);
  if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${path} must have at most ${schema.maxItems} items`);
  const items = schema.items;
  if (items) for (const [i, item] of value.entries()) check(items, item, `${path}[${i}]`, errors);
}

/**
 * @param {JsonSchema} schema
 * @param {Record<string, unknown>} value
 * @param {string} path
 * @param {string[]} errors
 */
function checkObject(schema, value, path, errors) {
  for (const name of schema.required ?? []) if (!(name in value)) errors.push(`${path}.${name} is required`);
  const properties = schema.properties ?? {};
  for (const [name, item] of Object.entries(value)) {
    const sub = properties[name];
    if (sub) check(sub, item, `${path}.${name}`, errors);
    else if (schema.additionalProperties === false) errors.push(`${path}.${name} is not allowed`);
    else if (typeof schema.additionalProperties === "object") check(schema.additionalProperties, item, `${path}.${name}`, errors);
  }
}

/**
 * Every problem found, as messages naming the field (`data.email is required`); empty when none.
 * @param {JsonSchema | null | undefined} schema
 * @param {unknown} value
 * @param {string} [root]
 * @returns {string[]}
 */
export function checkSchema(schema, value, root = "data") {
  /** @type {string[]} */
  const errors = [];
  if (schema) check(schema, value, root, errors);
  return errors;
}
