// Shared by the bin scripts: imports the compiled entry point, and says what to do when a source
// checkout has not been built yet instead of printing a module-resolution stack trace.
const entries = {
  zart: new URL("../dist/cli/zart.js", import.meta.url),
  "zart-server": new URL("../dist/cli/zart-server.js", import.meta.url),
};

export async function runCompiled(name) {
  const entry = entries[name];
  try {
    await import(entry.href);
  } catch (error) {
    if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes(entry.pathname)) {
      console.error(`${name}: ${entry.pathname} is missing; run \`npm run build\` in the package first`);
      process.exit(1);
    }
    throw error;
  }
}
