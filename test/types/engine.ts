/** The engine's typed calls: schedule by definition, typed results, events as values. */
import { type Engine, openStore } from "zart";
import { greet, processOrder, sendEmail } from "./tasks.js";

function same<A, B>(_proof: [A] extends [B] ? ([B] extends [A] ? true : false) : false): void {}

export async function typedFlow(engine: Engine): Promise<void> {
  const order = await engine.schedule(processOrder, { orderId: "o-1", quantity: 2 }, { idempotencyKey: "o-1" });
  same<typeof order.id, string>(true);
  same<typeof order.execution.status, "pending" | "running" | "waiting" | "completed" | "failed" | "cancelled">(true);

  // @ts-expect-error wrong data shape
  await engine.schedule(processOrder, { orderId: "o-1", qty: 2 });
  // @ts-expect-error wrong field type
  await engine.schedule(processOrder, { orderId: 1, quantity: 2 });
  // @ts-expect-error missing field
  await engine.schedule(sendEmail, { priority: "high" });
  // @ts-expect-error not in the enum
  await engine.schedule(sendEmail, { to: "a@example.com", priority: "urgent" });

  await engine.sendEvent(order, "shipped", { carrier: "DHL", tracking: "123" });
  // @ts-expect-error misspelt event name
  await engine.sendEvent(order, "shiped", { carrier: "DHL", tracking: "123" });
  // @ts-expect-error wrong payload
  await engine.sendEvent(order, "shipped", 42);
  // By id: any name and payload (the engine cannot know the task of an id).
  await engine.sendEvent(order.id, "anything", { free: true });

  const done = await engine.result(order, { timeoutMs: 30_000 });
  if (done.status === "completed") {
    same<typeof done.output, { orderId: string; items: number; carrier: string }>(true);
    // @ts-expect-error the output has no such field
    void done.output.total;
  } else {
    same<typeof done.output, null>(true);
  }
  // @ts-expect-error results carry the parsed output, not its JSON text
  void done.outputJson;

  const hello = await engine.schedule(greet, { name: "Ada" });
  const greeting = await engine.result(hello);
  if (greeting.status === "completed") same<typeof greeting.output, string>(true);

  // The request form still takes any name: it is checked at run time (task_not_registered).
  const { execution } = await engine.schedule({ task: "process-order", data: { orderId: "o-2", quantity: 1 } });
  const untyped = await engine.result(execution.id);
  same<typeof untyped.output, unknown>(true);
  const raw = await engine.waitForTerminal(execution.id, 1000);
  same<typeof raw.outputJson, string | null>(true);
}

export async function start(): Promise<void> {
  const store = await openStore(":memory:");
  await store.close();
}
