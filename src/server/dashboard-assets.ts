/**
 * The dashboard's files, read once when the server starts: the `dashboard/` folder of the package (no
 * build step; plain ES modules) plus the three vendor modules (preact, preact/hooks, htm) taken from
 * node_modules as their own packages ship them, so the versions are those of the lock file. Serving
 * from a fixed in-memory table means no request ever touches the file system, and no URL can name a
 * file outside it.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export interface Asset {
  body: Buffer;
  contentType: string;
  /** Strong validator: a digest of the body. */
  etag: string;
}

export interface DashboardAssets {
  /** `index.html`, served at `/` and at every page URL under `/ui/`. */
  index: Asset;
  /** Every other file by its URL path (`/ui/…`). */
  files: ReadonlyMap<string, Asset>;
  /** The Content-Security-Policy of the page (the import map is its only inline script, allowed by hash). */
  contentSecurityPolicy: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/** The vendor modules the import map in index.html names, by URL, and the specifier each is resolved from. */
const VENDOR: ReadonlyArray<[url: string, specifier: string]> = [
  ["/ui/vendor/preact.mjs", "preact"],
  ["/ui/vendor/hooks.mjs", "preact/hooks"],
  ["/ui/vendor/htm.mjs", "htm"],
];

/**
 * The package's `dashboard/` folder, or null when the package has none. The package root is the nearest
 * folder above `from` whose package.json has a name: that holds for the sources (src/server), a compiled
 * copy (dist/src/server, even with a nameless `{"type": "module"}` package.json in dist/) and an install
 * in node_modules, and the search never wanders into an enclosing project's own folders.
 */
export function findDashboardDir(from: string = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    if (isPackageRoot(dir)) {
      const dashboard = join(dir, "dashboard");
      return existsSync(join(dashboard, "index.html")) ? dashboard : null;
    }
    if (dirname(dir) === dir) return null;
  }
}

function isPackageRoot(dir: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown };
    return typeof manifest.name === "string";
  } catch {
    return false;
  }
}

function asset(body: Buffer, path: string): Asset {
  const contentType = CONTENT_TYPES[extname(path)] ?? "application/octet-stream";
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
  return { body, contentType, etag };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The import map, the page's one inline script: the CSP allows exactly its text by SHA-256. */
function importMapHash(html: string): string {
  const match = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html);
  if (!match) throw new Error("dashboard/index.html has no import map");
  return `'sha256-${createHash("sha256")
    .update(match[1] as string, "utf8")
    .digest("base64")}'`;
}

function contentSecurityPolicy(html: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' ${importMapHash(html)}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
  ].join("; ");
}

/** Reads the dashboard into memory; null when the package has no dashboard folder. */
export function loadDashboardAssets(dir: string | null = findDashboardDir()): DashboardAssets | null {
  if (dir === null) return null;
  const html = readFileSync(join(dir, "index.html"));
  const files = new Map<string, Asset>();
  for (const path of listFiles(dir)) {
    const rel = relative(dir, path).split(sep).join("/");
    if (rel === "index.html" || rel.startsWith(".")) continue;
    files.set(`/ui/${rel}`, asset(readFileSync(path), path));
  }
  for (const [url, specifier] of VENDOR) {
    const path = fileURLToPath(import.meta.resolve(specifier));
    files.set(url, asset(readFileSync(path), path));
  }
  return { index: asset(html, "index.html"), files, contentSecurityPolicy: contentSecurityPolicy(html.toString("utf8")) };
}
