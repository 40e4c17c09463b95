#!/usr/bin/env node
// Registers tsx so the TypeScript sources (and users' task modules, .ts or .js) load without a build.
// Both hooks: a .ts task module outside a "type": "module" package is compiled as CommonJS, which the
// ESM hook alone cannot load.
import { register as registerCommonJs } from "tsx/cjs/api";
import { register } from "tsx/esm/api";

register();
registerCommonJs();
await import("../src/cli/zart-server.ts");
