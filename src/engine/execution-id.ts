import { randomFillSync } from "node:crypto";
import { ZartError } from "../core/errors.js";

/**
 * Random bytes are drawn 4 KiB at a time and handed out 10 at a time instead of one `randomBytes()` call
 * per id (docs/decisions/010-execution-ids.md). The bytes are the same CSPRNG output either way
 * (`crypto.randomUUID` pools the same way).
 */
const POOL_BYTES = 4096;
const RANDOM_BYTES = 10;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;
/** 36^9 ms: nine base-36 digits hold creation times until the year 5138. */
const TIME_LIMIT = 36 ** 9;

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
 */
let lastTime = -1;
let lastBits = 0n;

export function newExecutionId(now: number): string {
  const time = Math.max(Math.min(Math.max(0, Math.floor(now)), TIME_LIMIT - 1), lastTime);
  const bits = time === lastTime ? lastBits + 1n + randomBits(8) : randomBits(RANDOM_BYTES);
  lastTime = time;
  lastBits = bits;
  return `exec-${time.toString(36).padStart(9, "0")}${bits.toString(36).padStart(16, "0")}`;
}

/** `bytes` random bytes from the pool, as a number. */
function randomBits(bytes: number): bigint {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const bits = BigInt(`0x${pool.toString("hex", offset, offset + bytes)}`);
  offset += bytes;
  return bits;
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
