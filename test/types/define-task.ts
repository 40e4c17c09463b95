/** `defineTask` infers `data` from the schema, the output from `run`, and `waitForEvent` payloads. */
import { Type } from "typebox";
import { defineTask, type TaskDefinition } from "zart";
import { z } from "zod";
import type { greet, processOrder, resize, score, sendEmail, tagPost } from "./tasks.js";

type Types<T> = T extends { "~types"?: infer X } ? NonNullable<X> : never;
/** Fails to compile unless A and B are the same type. */
function same<A, B>(_proof: [A] extends [B] ? ([B] extends [A] ? true : false) : false): void {}

same<Types<typeof processOrder>["input"], { orderId: string; quantity: number }>(true);
same<Types<typeof processOrder>["output"], { orderId: string; items: number; carrier: string }>(true);
same<Types<typeof processOrder>["events"]["shipped"], { carrier: string; tracking: string }>(true);
same<Types<typeof processOrder>["events"]["cancelled"], { reason: string }>(true);
same<Types<typeof sendEmail>["input"], { to: string; priority?: "low" | "high"; tags?: string[] }>(true);
same<Types<typeof sendEmail>["output"], { delivered: boolean; to: string }>(true);
same<Types<typeof resize>["input"], { url: string; width?: number | undefined }>(true);
same<Types<typeof tagPost>["input"], { postId: string; tags: string[] }>(true);
same<Types<typeof score>["input"], { user: string; bonus?: number }>(true);
same<Types<typeof greet>["input"], { name: string }>(true);
same<Types<typeof greet>["output"], string>(true);
// @ts-expect-error the proof fails for different types
same<Types<typeof greet>["output"], number>(true);

/** Typed definitions are still task definitions for the engine's task list. */
export const all: TaskDefinition[] = [];
export function collect(p: typeof processOrder, e: typeof sendEmail, r: typeof resize, t: typeof tagPost, s: typeof score): void {
  all.push(p, e, r, t, s);
}

export const wrongFieldUse = defineTask({
  name: "wrong-field-use",
  input: Type.Object({ n: Type.Number() }),
  async run(_ctx, data) {
    // @ts-expect-error data.n is a number
    const text: string = data.n;
    // @ts-expect-error no such field
    return data.missing ?? text;
  },
});

export const noSchema = defineTask({
  name: "no-schema",
  async run(_ctx, data) {
    const value: unknown = data.anything; // a JSON object of unknown fields
    // @ts-expect-error its fields are unknown, not any
    const text: string = data.anything;
    return [value, text];
  },
});

export const events = defineTask({
  name: "events",
  eventSchemas: { approval: z.object({ approved: z.boolean() }), note: { type: "object", properties: { text: { type: "string" } } } },
  async run(ctx) {
    const approval = await ctx.waitForEvent("approval", { timeout: "1d" });
    same<typeof approval, { approved: boolean }>(true);
    const note = await ctx.waitForEvent("note");
    same<typeof note, { text?: string }>(true);
    // @ts-expect-error the task declares its events: an undeclared name is a mistake
    await ctx.waitForEvent("aproval");
    // A schema given to the wait types it (and is what the delivery checks).
    const own = await ctx.waitForEvent("approval", { schema: Type.Object({ by: Type.String() }) });
    same<typeof own, { by: string }>(true);
    return approval.approved;
  },
});

export const undeclared = defineTask({
  name: "undeclared",
  async run(ctx) {
    const any = await ctx.waitForEvent("anything");
    same<typeof any, unknown>(true);
    const literal = await ctx.waitForEvent("typed", {
      schema: { type: "object", properties: { id: { type: "integer" } }, required: ["id"] },
    });
    same<typeof literal, { id: number }>(true);
    const given = await ctx.waitForEvent<{ ok: boolean }>("given");
    same<typeof given, { ok: boolean }>(true);
    return literal.id;
  },
});

export const children = defineTask({
  name: "children",
  async run(ctx) {
    const text = await ctx.runChild("say-hello", {} as typeof greet, { name: "Ada" });
    same<typeof text, string>(true);
    // @ts-expect-error the child's data is checked against its task
    await ctx.runChild("bad-child", {} as typeof greet, { nam: "Ada" });
    const id = await ctx.startChild("by-name", "greet", { name: "Ada" });
    same<typeof id, string>(true);
    return text;
  },
});

// @ts-expect-error a task needs a run function
defineTask({ name: "no-run" });
