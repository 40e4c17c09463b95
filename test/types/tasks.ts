/**
 * A task module for the type tests: one task per kind of schema, so the other files can check what each
 * infers. Nothing here runs (the type-test project is only type-checked).
 */
import { type } from "arktype";
import { Type } from "typebox";
import * as v from "valibot";
import { defineTask } from "zart";
import { z } from "zod";

/** TypeBox input, a zod event and a JSON Schema literal event. */
export const processOrder = defineTask({
  name: "process-order",
  input: Type.Object({ orderId: Type.String(), quantity: Type.Integer() }),
  eventSchemas: {
    shipped: z.object({ carrier: z.string(), tracking: z.string() }),
    cancelled: { type: "object", properties: { reason: { type: "string" } }, required: ["reason"] },
  },
  async run(ctx, data) {
    const shipment = await ctx.waitForEvent("shipped", { timeout: "7d" });
    return { orderId: data.orderId, items: data.quantity, carrier: shipment.carrier };
  },
});

/** A JSON Schema literal written inline: read as a literal, no `as const` needed. */
export const sendEmail = defineTask({
  name: "send-email",
  input: {
    type: "object",
    properties: { to: { type: "string" }, priority: { enum: ["low", "high"] }, tags: { type: "array", items: { type: "string" } } },
    required: ["to"],
  },
  async run(_ctx, data) {
    return { delivered: true as boolean, to: data.to };
  },
});

/** zod input: the schema's input type (a default makes the field optional in `data`, as it is sent). */
export const resize = defineTask({
  name: "resize",
  input: z.object({ url: z.string(), width: z.number().default(800) }),
  async run(_ctx, data) {
    return data.width ?? 800;
  },
});

/** valibot and arktype, both Standard Schemas. */
export const tagPost = defineTask({
  name: "tag-post",
  input: v.object({ postId: v.string(), tags: v.array(v.string()) }),
  async run(_ctx, data) {
    return data.tags.length;
  },
});

export const score = defineTask({
  name: "score",
  input: type({ user: "string", "bonus?": "number" }),
  async run(_ctx, data) {
    return data.user.length + (data.bonus ?? 0);
  },
});

/** No schema: the type of `data` comes from the annotation. */
export const greet = defineTask({
  name: "greet",
  async run(_ctx, data: { name: string }) {
    return `Hello, ${data.name}!`;
  },
});

export default [processOrder, sendEmail];
