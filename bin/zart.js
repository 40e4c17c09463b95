#!/usr/bin/env node
// The `zart` command runs the compiled CLI in dist/ (built by `npm run build`, and by `prepack` before
// publishing). TypeScript task modules are loaded through tsx by the CLI itself (dist/cli/load-tasks.js).
import { runCompiled } from "./run-compiled.js";

await runCompiled("zart");
