/**
 * TypeScript task modules load through tsx, registered here on first need, so the compiled CLI runs
 * as plain JavaScript and pays for tsx only when a user's module is TypeScript. Both hooks: a `.ts`
 * module outside a `"type": "module"` package is compiled as CommonJS, which the ESM hook alone
 * cannot load.
 */
const TYPESCRIPT_FILE = /\.[cm]?tsx?$/i;

let registration: Promise<void> | null = null;

export function isTypeScriptFile(path: string): boolean {
  return TYPESCRIPT_FILE.test(path);
}

/** Registers tsx's ESM and CommonJS hooks once per process (again on top of `--import tsx` is harmless). */
export function enableTypeScriptModules(): Promise<void> {
  registration ??= Promise.all([import("tsx/esm/api"), import("tsx/cjs/api")]).then(([esm, cjs]) => {
    esm.register();
    cjs.register();
  });
  return registration;
}
