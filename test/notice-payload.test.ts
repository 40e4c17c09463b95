/** The PostgreSQL NOTIFY payloads: what one process encodes, every other process decodes to the same notices. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeNotices, encodeNotices } from "../src/store/postgres/notice-payload.js";
import type { Notice } from "../src/store/store.js";

const decodeAll = (payloads: string[]): Notice[] => payloads.flatMap(decodeNotices);

test("notices round-trip; terminal notices are packed by status, the others sent one each", () => {
  const notices: Notice[] = [
    { kind: "terminal", executionId: "exec-a", status: "completed" },
    { kind: "runnable", task: "mail|send", at: 1_767_225_600_123 },
    { kind: "terminal", executionId: 'odd "id" | with, separators', status: "failed" },
    { kind: "terminal", executionId: "exec-b", status: "completed" },
    { kind: "cancelled", executionId: "exec-c" },
    { kind: "reconnected" },
  ];
  const payloads = encodeNotices(notices);
  assert.equal(payloads.length, 4, "runnable, cancelled, one pack per terminal status");
  const decoded = decodeAll(payloads);
  const sortKey = (n: Notice) => JSON.stringify(n);
  assert.deepEqual(
    decoded.map(sortKey).sort(),
    notices
      .filter((n) => n.kind !== "reconnected")
      .map(sortKey)
      .sort(),
  );
  // Within a status the order is kept.
  assert.deepEqual(
    decoded.filter((n) => n.kind === "terminal" && n.status === "completed").map((n) => (n as { executionId: string }).executionId),
    ["exec-a", "exec-b"],
  );
});

test("a large batch of terminal notices is split into payloads PostgreSQL accepts (< 8000 bytes)", () => {
  const notices: Notice[] = Array.from({ length: 2000 }, (_, i) => ({
    kind: "terminal",
    executionId: `exec-${String(i).padStart(25, "0")}`,
    status: "completed",
  }));
  const payloads = encodeNotices(notices);
  assert.ok(payloads.length > 1);
  for (const payload of payloads) assert.ok(Buffer.byteLength(payload) < 8000, `payload of ${Buffer.byteLength(payload)} bytes`);
  assert.deepEqual(decodeAll(payloads), notices);
});

test("payloads that are not ours decode to nothing", () => {
  for (const bad of [
    "",
    "x",
    "T|",
    "T|completed",
    "T|done|[]",
    "T|completed|not json",
    'T|completed|[1,"a"]',
    "r|task|",
    "r|task|soon",
    "t|id|done",
    "c|",
  ]) {
    assert.deepEqual(decodeNotices(bad), [], bad);
  }
  // The single-notice form older payloads used for terminal notices still decodes.
  assert.deepEqual(decodeNotices("t|exec-a|completed"), [{ kind: "terminal", executionId: "exec-a", status: "completed" }]);
});
