/**
 * Compares a freshly built schema dump (scripts/schema-dump.ts) with the committed file and fails with a
 * line diff and the command that regenerates the file.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { REGENERATE_COMMAND, SCHEMA_FILES, schemaFilePath } from "../../scripts/schema-dump.js";

export function assertMatchesCommitted(store: keyof typeof SCHEMA_FILES, built: string): void {
  const path = schemaFilePath(store);
  const committed = existsSync(path) ? readFileSync(path, "utf8") : "";
  if (built === committed) return;
  assert.fail(
    `${SCHEMA_FILES[store]} is not what the migrations build (- committed, + built):\n\n${lineDiff(committed, built)}\n\n` +
      `If the schema change is intended, run \`${REGENERATE_COMMAND}\` and commit ${SCHEMA_FILES[store]}.`,
  );
}

/** A unified-style diff of two texts by lines (longest common subsequence), with `context` lines around each change. */
export function lineDiff(before: string, after: string, context = 3): string {
  const a = before.split("\n");
  const b = after.split("\n");
  // common[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const common = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      common[i]![j] = a[i] === b[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
    }
  }
  const lines: { mark: " " | "-" | "+"; text: string; line: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) lines.push({ mark: " ", text: a[i++]!, line: j++ + 1 });
    else if (i < a.length && (j === b.length || common[i + 1]![j]! >= common[i]![j + 1]!))
      lines.push({ mark: "-", text: a[i++]!, line: j + 1 });
    else lines.push({ mark: "+", text: b[j]!, line: ++j });
  }
  const near = (k: number) => lines.slice(Math.max(0, k - context), k + context + 1).some((l) => l.mark !== " ");
  const out: string[] = [];
  let skipped = false;
  lines.forEach((l, k) => {
    if (!near(k)) {
      skipped = true;
      return;
    }
    if (skipped || out.length === 0) out.push(`@@ built line ${l.line} @@`);
    skipped = false;
    out.push(`${l.mark} ${l.text}`);
  });
  return out.join("\n");
}
