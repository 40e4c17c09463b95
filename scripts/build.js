#!/usr/bin/env node
// `npm run build` (and `prepack`): compiles src/ to dist/ (JavaScript, declarations, declaration maps,
// source maps) with the project's tsc. dist/ is removed first, so a module deleted from src/ cannot
// linger in a published package.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
const result = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
process.exit(result.status ?? 1);
