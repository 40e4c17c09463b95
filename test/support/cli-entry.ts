/**
 * How the tests start the command line: the TypeScript sources through tsx, so a test always runs the
 * code under test. The bin scripts run the compiled dist/ instead; test/package-install.test.ts covers
 * them from an installed tarball.
 */
import { join } from "node:path";

const ROOT = new URL("../..", import.meta.url).pathname;

/** Node arguments that run `zart` or `zart-server` from source; append the command's own arguments. */
export function cliArgs(command: "zart" | "zart-server"): string[] {
  return ["--import", "tsx", join(ROOT, "src/cli", `${command}.ts`)];
}

/** Node arguments that run the compiled `zart-server` or `zart` from dist/ (run `npm run build` first). */
export function compiledCliArgs(command: "zart" | "zart-server"): string[] {
  return [join(ROOT, "dist/cli", `${command}.js`)];
}
