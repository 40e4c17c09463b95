import { randomBytes } from "node:crypto";

/** `exec-` + 25 base-36 characters from 128 random bits: unique and not guessable from one another. */
export function newExecutionId(): string {
  const bits = BigInt(`0x${randomBytes(16).toString("hex")}`);
  return `exec-${bits.toString(36).padStart(25, "0")}`;
}

const ID_PATTERN = /^exec-[a-z0-9]{8,32}$/;

export function isExecutionId(value: string): boolean {
  return ID_PATTERN.test(value);
}
