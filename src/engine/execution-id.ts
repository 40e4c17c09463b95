import { randomFillSync } from "node:crypto";

/**
 * Random bytes are drawn 4 KiB at a time and handed out 16 at a time: one `randomBytes(16)` per id is a
 * system call each, and a V8 profile of zart-server on SQLite under 50-connection POST load
 * (`node --cpu-prof bin/zart-server.js`, autocannon as in bench/src/http.ts) put it at a tenth of the
 * process's CPU on the benchmark VM. The bytes are the same CSPRNG output either way (`crypto.randomUUID`
 * pools the same way).
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** `exec-` + 25 base-36 characters from 128 random bits: unique and not guessable from one another. */
export function newExecutionId(): string {
  if (offset + 16 > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const bits = BigInt(`0x${pool.toString("hex", offset, offset + 16)}`);
  offset += 16;
  return `exec-${bits.toString(36).padStart(25, "0")}`;
}

const ID_PATTERN = /^exec-[a-z0-9]{8,32}$/;

export function isExecutionId(value: string): boolean {
  return ID_PATTERN.test(value);
}
