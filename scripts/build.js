#!/usr/bin/env node
// `npm run build` (and `prepack`): compiles src/ to dist/ (JavaScript, declarations, declaration maps,
// source maps) with the project's tsc, and copies the files tsc does not (the stores' `.sql` migrations)
// beside their modules, then replaces the compiled src/core/typebox.ts by one bundled file (TypeBox's
// runtime; docs/decisions/028-server-baseline-memory.md). dist/ is removed first, so a module deleted from src/
// cannot linger in a package.
import { spawnSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { build } from "esbuild";

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

// The declarations tsc wrote for it stay: they name "typebox", whose types cost nothing at run time. tsc's
// source map described the file replaced, so it goes.
rmSync(join(root, "dist/core/typebox.js.map"));
const typebox = JSON.parse(readFileSync(join(root, "node_modules/typebox/package.json"), "utf8"));
const license = readFileSync(join(root, "node_modules/typebox/license"), "utf8").trim();
await build({
  entryPoints: [join(root, "src/core/typebox.ts")],
  outfile: join(root, "dist/core/typebox.js"),
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: false,
  logLevel: "warning",
  banner: {
    js: `/*\n * Bundled from typebox ${typebox.version} (${typebox.repository.url}).\n *\n * ${license.replaceAll("\n", "\n * ")}\n */`,
  },
});
