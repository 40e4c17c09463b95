/**
 * What the OpenAPI document needs to know about the wire schemas beyond their JSON Schema: a
 * component name, the description a response shows, whether a request body may be omitted. Routes
 * validate and serialise with the schema objects themselves; these marks are kept beside the objects
 * (never copied into them), so the document's components are generated from the very objects the
 * server runs with.
 */
const names = new WeakMap<object, string>();
const byName = new Map<string, object>();
const describedFrom = new WeakMap<object, object>();
const optionalBodies = new WeakSet<object>();

/** Gives a schema its component name (`#/components/schemas/<name>`). */
export function named<T extends object>(name: string, schema: T): T {
  const taken = byName.get(name);
  if (taken !== undefined && taken !== schema) throw new Error(`two different schemas are named ${name}`);
  names.set(schema, name);
  byName.set(name, schema);
  return schema;
}

/** Every named schema, by name (the document lists those its operations use). */
export function namedSchemas(): ReadonlyMap<string, object> {
  return byName;
}

export function nameOf(schema: object): string | undefined {
  return names.get(schema);
}

/** A response schema with the description OpenAPI shows for it (the schema keeps its own name). */
export function described<T extends object>(schema: T, description: string): T & { description: string } {
  const response = { ...schema, description };
  describedFrom.set(response, schema);
  return response;
}

/** The schema a {@link described} response was made from. */
export function describedSchema(response: object): object | undefined {
  return describedFrom.get(response);
}

const retryAfterResponses = new WeakSet<object>();

/** Marks an error response whose refusals carry `Retry-After` (the document lists the header). */
export function withRetryAfter<T extends object>(response: T): T {
  retryAfterResponses.add(response);
  return response;
}

export function hasRetryAfter(response: object): boolean {
  return retryAfterResponses.has(response);
}

/** A request body the client may leave out (the route reads an empty body as no value). */
export function optionalBody<T extends object>(schema: T): T {
  optionalBodies.add(schema);
  return schema;
}

export function isOptionalBody(schema: object): boolean {
  return optionalBodies.has(schema);
}
