/**
 * The types that connect a task's definition to the code that schedules it, waits for it and sends it
 * events: type-only, with no runtime imports, so the dependency-free client shares them. A task definition
 * carries its types in a property that is never set (`"~types"`, as Standard Schema does with `types`);
 * the handles and records that typed APIs return carry its output and events the same way.
 */

/** Payload types by event name. The default, for tasks that declare no events, takes any name and payload. */
export type EventMap = Record<string, unknown>;

/** The event names an execution waits for: the task's declared ones (any name when it declares none). */
export type EventName<E extends EventMap> = Extract<keyof E, string>;

/** The data type of a task without an input schema (unless `run` annotates it): a JSON object. */
export type AnyData = Record<string, unknown>;

/** The type-only part of a task definition. */
export interface TaskTypes<I, O, E extends EventMap> {
  readonly input: I;
  readonly output: O;
  readonly events: E;
}

/** Any task definition as the typed APIs see it: a name, and its types. */
export interface TaskLike {
  readonly name: string;
  readonly "~types"?: TaskTypes<unknown, unknown, EventMap>;
}

/** What a client knows of tasks it was not told about: any name, JSON object data, unknown output, any event. */
export interface UntypedTask {
  readonly name: string;
  readonly "~types"?: TaskTypes<AnyData, unknown, EventMap>;
}

/** Type-only marks of an execution of a known task (its output and its events), on handles and records. */
export interface ExecutionTypes<O, E extends EventMap> {
  readonly "~types"?: { readonly output: O; readonly events: E };
}

/**
 * The tasks in a set, as a union: one task, an array of tasks, or an object whose values are tasks or
 * arrays of tasks, such as a task module's namespace (`typeof import("./tasks.js")`).
 */
export type TasksIn<T> = T extends TaskLike
  ? T
  : T extends readonly unknown[]
    ? Extract<T[number], TaskLike>
    : Extract<T[keyof T], TaskLike> | Extract<Extract<T[keyof T], readonly unknown[]>[number], TaskLike>;

/** The names of the tasks in a set. */
export type TaskName<T> = TasksIn<T>["name"];

/** The task of a set that answers to name `N`. */
export type TaskNamed<T, N extends string> =
  TasksIn<T> extends infer X ? (X extends TaskLike ? (N extends X["name"] ? X : never) : never) : never;

/** A task's data, output and event types. */
export type DataOf<T> = T extends TaskLike ? NonNullable<T["~types"]>["input"] : never;
export type OutputOf<T> = T extends TaskLike ? NonNullable<T["~types"]>["output"] : never;
export type EventsOf<T> = T extends TaskLike ? NonNullable<T["~types"]>["events"] : never;

/**
 * The event names the tasks of a set declare (`eventSchemas`), and the payload type of name `N` across
 * them. Tasks that declare none add no names; when no task declares any, every name goes.
 */
export type AnyEventName<T> = [DeclaredEventName<TasksIn<T>>] extends [never] ? string : DeclaredEventName<TasksIn<T>>;
type DeclaredEventName<X> = X extends TaskLike ? (string extends EventName<EventsOf<X>> ? never : EventName<EventsOf<X>>) : never;
export type AnyEventPayload<T, N extends string> = [DeclaredEventName<TasksIn<T>>] extends [never]
  ? unknown
  : DeclaredPayload<TasksIn<T>, N>;
type DeclaredPayload<X, N extends string> = X extends TaskLike
  ? string extends EventName<EventsOf<X>>
    ? never
    : N extends keyof EventsOf<X>
      ? EventsOf<X>[N]
      : never
  : never;

/** The payload argument of a typed `sendEvent`: optional where the payload may be undefined (sent as null). */
export type PayloadArg<P> = undefined extends P ? [payload?: P] : [payload: P];
