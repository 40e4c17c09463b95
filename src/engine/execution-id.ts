import { randomFillSync } from "node:crypto";
import { ZartError } from "../core/errors.js";

/**
 * Random bits are drawn 4 KiB at a time and handed out 6 bytes at a time instead of one `randomBytes()`
 * call per id (docs/decisions/010-execution-ids.md). The bytes are the same CSPRNG output either way
 * (`crypto.randomUUID` pools the same way).
 */
const POOL_BYTES = 4098;
const DRAW_BYTES = 6;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;
/** 36^9 ms: nine base-36 digits hold creation times until the year 5138. */
const TIME_LIMIT = 36 ** 9;
/** The random part is two halves of 8 base-36 digits each: high * HALF + low, with low < HALF. */
const HALF = 36 ** 8;

/**
 * `exec-` + 25 base-36 characters: 9 of the creation time in ms, then 16 of at least 80 random bits (the
 * contract asks for at least 64). Unique and not guessable from one another, like fully random ids, but
 * ordered by creation: the indexes keyed by execution id (its primary key; the steps' primary key starts
 * with it) then take new rows on their right-hand pages instead of anywhere, so a batch of writes dirties
 * a few pages instead of one per execution (docs/decisions/010-execution-ids.md).
 *
 * Within one process ids are strictly increasing, also within one millisecond: the next id of the same
 * millisecond adds 1 + 64 fresh random bits to the previous one's random part, so it is still not
 * guessable from its neighbour, and work created in one process (a batch, a loop of schedules) is
 * ordered by id as it was created - claims and concurrency slots break ties of `created_at` by id.
 *
 * The random part is kept as two safe integers rather than one BigInt, whose arithmetic and base-36
 * printing cost most of an id (docs/decisions/047-hot-path-without-interpreters.md), and the time's
 * digits are made once per millisecond. A fresh part is 39 + 41 random bits, under 2^39 * HALF; a step of
 * the same millisecond adds under 2^23 * HALF, so about 270,000 ids fit in one millisecond's 16 digits;
 * the next takes the next millisecond.
 */
let lastTime = -1;
let lastPrefix = "";
let lastHigh = 0;
let lastLow = 0;

export function newExecutionId(now: number): string {
  const time = Math.max(Math.min(Math.max(0, Math.floor(now)), TIME_LIMIT - 1), lastTime);
  if (time === lastTime) {
    // 1 + (41 random bits) + (23 random bits) * HALF, carried from the low half into the high one.
    let low = lastLow + 1 + randomBits(41);
    let high = lastHigh + randomBits(23);
    if (low >= HALF) {
      low -= HALF;
      high += 1;
    }
    if (high < HALF) return nextId(time, high, low);
    // The random part would need a 17th digit: the id takes the next millisecond instead.
    return freshId(time + 1);
  }
  return freshId(time);
}

function freshId(time: number): string {
  lastPrefix = `exec-${base36(time, 9)}`;
  return nextId(time, randomBits(39), randomBits(41));
}

function nextId(time: number, high: number, low: number): string {
  lastTime = time;
  lastHigh = high;
  lastLow = low;
  return lastPrefix + base36(high, 8) + base36(low, 8);
}

const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz";

/**
 * `value` (a safe non-negative integer below 36^width) in `width` base-36 digits, zero-padded. By hand:
 * `Number#toString(36)` takes several times as long (decision 047).
 */
function base36(value: number, width: number): string {
  let digits = "";
  let rest = value;
  for (let i = 0; i < width; i++) {
    const next = Math.floor(rest / 36);
    digits = DIGITS[rest - next * 36] + digits;
    rest = next;
  }
  return digits;
}

/** A uniformly random integer below 2^bits (bits <= 48), from the pool. */
function randomBits(bits: number): number {
  if (offset + DRAW_BYTES > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const value = pool.readUIntBE(offset, DRAW_BYTES);
  offset += DRAW_BYTES;
  return value % 2 ** bits;
}

/**
 * What the API accepts as an execution id (`exec-` + 8 to 32 lowercase letters and digits): the route
 * schemas' pattern too. Ids made here are one form of it; a string that does not match names no execution.
 */
export const EXECUTION_ID_PATTERN = "^exec-[a-z0-9]{8,32}$";
const ID_PATTERN = new RegExp(EXECUTION_ID_PATTERN);

export function isExecutionId(value: string): boolean {
  return ID_PATTERN.test(value);
}

export function executionNotFound(id: string): ZartError {
  return new ZartError("execution_not_found", `No execution found with ID ${id}`);
}
