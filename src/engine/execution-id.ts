import { randomFillSync } from "node:crypto";

/**
 * Random bytes are drawn 4 KiB at a time and handed out 10 at a time: one `randomBytes()` per id is a
 * system call each, and a V8 profile of zart-server on SQLite under 50-connection POST load
 * (`node --cpu-prof bin/zart-server.js`, autocannon as in bench/src/http.ts) put it at a tenth of the
 * process's CPU on the benchmark VM. The bytes are the same CSPRNG output either way (`crypto.randomUUID`
 * pools the same way).
 */
const POOL_BYTES = 4096;
const RANDOM_BYTES = 10;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;
/** 36^9 ms: nine base-36 digits hold creation times until the year 5138. */
const TIME_LIMIT = 36 ** 9;

/**
 * `exec-` + 25 base-36 characters: 9 of the creation time in ms, then 16 of 80 random bits (the contract
 * asks for at least 64). Unique and not guessable from one another, like fully random ids, but ordered by
 * creation: the indexes keyed by execution id (its primary key; the steps' primary key starts with it)
 * then take new rows on their right-hand pages instead of anywhere, so a batch of writes dirties a few
 * pages instead of one per execution. Measured with `bench/src/probe-sqlite-drain.ts w1 50 20000` (SQLite,
 * alternating runs): fully random ids 3,899 / 4,197 / 4,074 / 4,262 / 4,201 executions/s,
 * time-ordered 5,882 / 5,204 / 4,135 / 4,746 / 5,811 (CPU per execution 233-263 µs -> 182-235 µs).
 */
export function newExecutionId(now: number): string {
  if (offset + RANDOM_BYTES > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const bits = BigInt(`0x${pool.toString("hex", offset, offset + RANDOM_BYTES)}`);
  offset += RANDOM_BYTES;
  const time = Math.min(Math.max(0, Math.floor(now)), TIME_LIMIT - 1);
  return `exec-${time.toString(36).padStart(9, "0")}${bits.toString(36).padStart(16, "0")}`;
}

const ID_PATTERN = /^exec-[a-z0-9]{8,32}$/;

export function isExecutionId(value: string): boolean {
  return ID_PATTERN.test(value);
}
