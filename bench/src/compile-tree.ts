/**
 * Compiles a checkout's `src/` to plain JavaScript for probe-tree-ab.ts, so two checkouts are compared as
 * the package runs (compiled, no loader) rather than through tsx, whose `keepNames` wraps every function
 * made at run time in a naming helper. Both trees get the same transform: esbuild, file by file, ES2022,
 * ESM, no bundling, no `keepNames`. The `.sql` files are copied beside their modules, and the output links
 * to the checkout's node_modules, so the tree loads as the checkout would.
 *
 *   npx tsx src/compile-tree.ts <checkout> <out-dir>
 *   ZART_ROOT=<out-dir> npx tsx src/probe-tree-ab.ts throughput w0 20000 10
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { transformSync } from "esbuild";

const [checkoutArg, outArg] = process.argv.slice(2);
if (!checkoutArg || !outArg) throw new Error("usage: compile-tree.ts <checkout> <out-dir>");
const checkout = resolve(checkoutArg);
const out = resolve(outArg);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "package.json"), `${JSON.stringify({ type: "module", private: true })}\n`);
symlinkSync(join(checkout, "node_modules"), join(out, "node_modules"), "dir");

let files = 0;
for (const entry of readdirSync(join(checkout, "src"), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const source = join(entry.parentPath, entry.name);
  const target = join(out, relative(checkout, source));
  mkdirSync(dirname(target), { recursive: true });
  if (entry.name.endsWith(".sql")) cpSync(source, target);
  if (!entry.name.endsWith(".ts") || entry.name.endsWith(".d.ts")) continue;
  const { code } = transformSync(readFileSync(source, "utf8"), {
    loader: "ts",
    format: "esm",
    target: "es2022",
    sourcefile: source,
  });
  writeFileSync(target.replace(/\.ts$/, ".js"), code);
  files++;
}
console.log(`${files} modules of ${checkout}/src compiled into ${out}/src`);
