#!/usr/bin/env node
// The `zart-server` command (= `zart serve`) runs the compiled CLI in dist/ (built by `npm run build`,
// and by `prepack` before publishing). TypeScript task modules are loaded through tsx by the CLI itself.
import { runCompiled } from "./run-compiled.js";

await runCompiled("zart-server");
