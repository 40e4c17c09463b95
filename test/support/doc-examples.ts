/**
 * The runnable examples of a documentation page: code blocks whose first line is `// file: <name>`,
 * each with the console block that follows it, if any (`$ node <args>`, then the exact output).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

export interface Example {
  file: string;
  code: string;
  /** Node's arguments from the page's `$ node …` line, when it shows one. */
  command?: string[];
  /** The output the page shows under that line. */
  output?: string;
}

/** Code blocks whose first line is `// file: <name>`, each with the console block that follows it, if any. */
export function libraryExamples(path: string): Example[] {
  const page = readFileSync(path, "utf8");
  const blocks = [...page.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1] as string, body: m[2] as string }));
  const examples: Example[] = [];
  blocks.forEach((block, i) => {
    const file = /^\/\/ file: (\S+)\n/.exec(block.body)?.[1];
    if (file === undefined) return;
    const example: Example = { file, code: block.body };
    const next = blocks[i + 1];
    if (next?.lang === "console") {
      const [commandLine = "", ...output] = next.body.trimEnd().split("\n");
      const words = commandLine.replace(/^\$ /, "").split(" ");
      assert.equal(words[0], "node", `the command for ${file}`);
      example.command = words.slice(1);
      example.output = output.join("\n");
    }
    examples.push(example);
  });
  return examples;
}
