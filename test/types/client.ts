/** `ZartClient` over a task module's types: names, data, outputs, event names and payloads are checked. */
import { ZartClient } from "zart/client";
import type * as tasks from "./tasks.js";
import type { greet, processOrder } from "./tasks.js";

function same<A, B>(_proof: [A] extends [B] ? ([B] extends [A] ? true : false) : false): void {}

export async function typedClient(): Promise<void> {
  const client = new ZartClient<typeof tasks>({ baseUrl: "http://127.0.0.1:7700" });
  const order = await client.schedule("process-order", { orderId: "o-1", quantity: 2 }, { idempotency_key: "o-1" });
  // @ts-expect-error misspelt task name
  await client.schedule("proces-order", { orderId: "o-1", quantity: 2 });
  // @ts-expect-error wrong data shape
  await client.schedule("process-order", { totally: "wrong" });
  // @ts-expect-error data of another task
  await client.schedule("send-email", { orderId: "o-1", quantity: 2 });
  await client.schedule("send-email", { to: "a@example.com", tags: ["x"] });

  await client.sendEvent(order, "shipped", { carrier: "DHL", tracking: "1Z" });
  // @ts-expect-error misspelt event
  await client.sendEvent(order, "shiped", { carrier: "DHL", tracking: "1Z" });
  // @ts-expect-error wrong payload
  await client.sendEvent(order, "shipped", 42);
  // By id: the event names and payloads of all the client's tasks.
  await client.sendEvent(order.execution_id, "cancelled", { reason: "customer asked" });
  // @ts-expect-error no task of the client waits for this event
  await client.sendEvent(order.execution_id, "shiped", 42);
  // @ts-expect-error wrong payload for that name
  await client.sendEvent(order.execution_id, "cancelled", { why: "?" });

  const waited = await client.wait(order, { timeoutSeconds: 30 });
  if (waited.done && waited.output !== null) {
    same<typeof waited.output, { orderId: string; items: number; carrier: string }>(true);
    // @ts-expect-error no such output field
    void waited.output.total;
  }
  const execution = await client.get(order);
  same<typeof execution.output, { orderId: string; items: number; carrier: string } | null>(true);
}

export async function fromTaskTypes(): Promise<void> {
  // One task, or an array type of tasks, works too.
  const one = new ZartClient<typeof greet>({ baseUrl: "http://127.0.0.1:7700" });
  await one.schedule("greet", { name: "Ada" });
  // @ts-expect-error this client knows only "greet"
  await one.schedule("process-order", { orderId: "o", quantity: 1 });
  const two = new ZartClient<[typeof greet, typeof processOrder]>({ baseUrl: "http://127.0.0.1:7700" });
  const hello = await two.schedule("greet", { name: "Ada" });
  const done = await two.wait(hello);
  if (done.done) same<typeof done.output, string | null>(true);
}

export async function untypedClient(): Promise<void> {
  // Without task types: any name, JSON object data, unknown output, any event.
  const client = new ZartClient({ baseUrl: "http://127.0.0.1:7700" });
  const scheduled = await client.schedule("anything", { any: "data" });
  await client.sendEvent(scheduled.execution_id, "any-event", 42);
  await client.sendEvent(scheduled, "any-event");
  const done = await client.wait<{ text: string }>(scheduled.execution_id);
  if (done.done && done.output) same<typeof done.output.text, string>(true);
  // @ts-expect-error data is a JSON object
  await client.schedule("anything", "text");
}
