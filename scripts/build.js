#!/usr/bin/env node
// `npm run build` (and `prepack`): compiles src/ to dist/ (JavaScript, declarations, declaration maps,
// source maps) with the project's tsc, and copies the files tsc does not (the stores' `.sql` migrations)
// beside their modules. dist/ is removed first, so a module deleted from src/ cannot linger in a package.
import { spawnSync } from "node:child_process";
import { cpSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
rmSync(join(root, "dist"), { recursive: true, force: true });
const result = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
if (result.status !== 0) process.exit(result.status ?? 1);
for (const entry of readdirSync(join(root, "src"), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".sql")) continue;
  const source = join(entry.parentPath, entry.name);
  const target = join(root, "dist", relative(join(root, "src"), source));
  cpSync(source, target, { recursive: false, force: true });
}
