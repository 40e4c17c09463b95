/**
 * The OpenAPI document through third-party tools, for a server without tokens and one with them:
 * Redocly CLI lints it with its recommended rules (no errors, no warnings), and openapi-typescript
 * generates types from it against which the README's flows, written with openapi-fetch, pass a strict
 * type-check by the project's tsc (wrong calls must fail it: `@ts-expect-error` lines).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { childEnv, type Finished, runToEnd } from "./support/child-process.js";
import { openApiDocument } from "./support/openapi-document.js";

const ROOT = new URL("..", import.meta.url).pathname;
// Inside the repository (ignored by git), so the check resolves openapi-fetch from its node_modules.
mkdirSync(join(ROOT, "tmp"), { recursive: true });
const work = mkdtempSync(join(ROOT, "tmp", "openapi-tools-"));
after(() => rmSync(work, { recursive: true, force: true }));

function run(command: string, args: string[]): Promise<Finished> {
  // Redocly would otherwise check for updates and send usage data; nothing here may reach the network.
  const env = childEnv({ REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", DO_NOT_TRACK: "1" });
  return runToEnd(command, args, { cwd: work, env });
}

const CLIENT = `import createClient from "openapi-fetch";
import type { paths } from "./api";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export async function readmeFlows(baseUrl: string, token?: string): Promise<string> {
  const client = createClient<paths>({ baseUrl, headers: token ? { authorization: \`Bearer \${token}\` } : {} });

  const created = await client.POST("/api/v1/executions", {
    body: { task: "onboarding", data: { user_id: "u123", email: "user@example.com" }, idempotency_key: "signup-u123" },
  });
  if (created.error) {
    const codes: Equal<
      typeof created.error.error.code,
      | "task_not_registered"
      | "invalid_data"
      | "execution_already_exists"
      | "invalid_json"
      | "invalid_request"
      | "payload_too_large"
      | "unsupported_media_type"
      | "method_not_allowed"
      | "internal_error"
      | "overloaded"
      | "store_unavailable"
      | UnauthorizedCode
    > = true;
    return \`\${codes} \${created.error.error.message}\`;
  }
  const id: string = created.data.execution_id;

  const status = await client.GET("/api/v1/executions/{id}", { params: { path: { id } } });
  if (status.data) {
    const step: string | null = status.data.current_step;
    const waiting: string | null = status.data.waiting_for_event;
    const failed: string | undefined = status.data.error?.message;
    void [step, waiting, failed, status.data.output];
  }
  if (status.error) {
    const notFound: Equal<typeof status.error.error.code, "execution_not_found" | "method_not_allowed" | "internal_error" | "store_unavailable" | UnauthorizedCode> = true;
    void notFound;
  }

  const early = await client.GET("/api/v1/executions/{id}/wait", { params: { path: { id }, query: { timeout: 1 } } });
  if (early.response.status === 202 && early.data && "message" in early.data) void early.data.message;

  await client.POST("/api/v1/events/{id}/{event_name}", {
    params: { path: { id, event_name: "manager-approval" } },
    body: { approved: true, reviewer: "jane@example.com", notes: "Looks good, proceed." },
  });
  // An event without a payload: the body may be left out (the payload is null).
  await client.POST("/api/v1/events/{id}/{event_name}", { params: { path: { id, event_name: "ping" } } });

  const done = await client.GET("/api/v1/executions/{id}/wait", { params: { path: { id }, query: { timeout: 30 } } });
  const finished = done.data && "completed_at" in done.data ? done.data.status : "still running";

  const cancelled = await client.POST("/api/v1/executions/{id}/cancel", { params: { path: { id } } });
  if (cancelled.data) {
    const literal: "cancelled" = cancelled.data.status;
    void literal;
  }
  if (cancelled.error) {
    const conflict: Equal<
      typeof cancelled.error.error.code,
      | "execution_not_found"
      | "execution_not_cancellable"
      | "invalid_json"
      | "invalid_request"
      | "payload_too_large"
      | "unsupported_media_type"
      | "method_not_allowed"
      | "internal_error"
      | "store_unavailable"
      | UnauthorizedCode
    > = true;
    void conflict;
  }

  const page = await client.GET("/api/v1/executions", { params: { query: { task: "onboarding", status: "completed", limit: 5, order: "asc" } } });
  const total: number = page.data?.total ?? 0;
  const first: string | undefined = page.data?.executions[0]?.execution_id;
  const stats = await client.GET("/api/v1/stats");
  const pending: number = stats.data?.pending ?? 0;

  // @ts-expect-error a status that does not exist
  await client.GET("/api/v1/executions", { params: { query: { status: "finished" } } });
  // @ts-expect-error task must be a string
  await client.POST("/api/v1/executions", { body: { task: 42, data: {} } });
  // @ts-expect-error data must be an object
  await client.POST("/api/v1/executions", { body: { task: "echo", data: "text" } });
  // @ts-expect-error no such route
  await client.GET("/api/v1/nothing");

  return \`\${finished} \${total} \${first} \${pending}\`;
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "ESNext",
    moduleResolution: "Bundler",
    strict: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    skipLibCheck: false,
    types: [],
    lib: ["ES2023", "DOM"],
  },
  files: ["client.ts"],
};

for (const [label, tokens] of [
  ["no token configured", []],
  ["tokens configured", ["s3cret"]],
] as const) {
  describe(`the document of a server with ${label}`, () => {
    const dir = join(work, tokens.length > 0 ? "auth" : "open");

    test("Redocly CLI lints it with no errors and no warnings", async () => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "openapi.json"), JSON.stringify(await openApiDocument({ tokens: [...tokens] }), null, 2));
      const lint = await run(join(ROOT, "node_modules/.bin/redocly"), [
        "lint",
        join(dir, "openapi.json"),
        "--config",
        join(ROOT, "redocly.yaml"),
        "--format",
        "json",
      ]);
      const report = JSON.parse(lint.stdout) as { totals: { errors: number; warnings: number }; problems: unknown[] };
      assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 }, JSON.stringify(report.problems, null, 2));
      assert.equal(lint.code, 0, lint.stderr);
    });

    test("openapi-typescript's types carry the README flows through a strict tsc with openapi-fetch", async () => {
      const generated = await run(process.execPath, [
        join(ROOT, "tools/openapi-typescript/node_modules/openapi-typescript/bin/cli.js"),
        join(dir, "openapi.json"),
        "--output",
        join(dir, "api.d.ts"),
      ]);
      assert.equal(generated.code, 0, generated.stderr);
      // 401 is an answer (and so a code) only where tokens are configured.
      const unauthorized = tokens.length > 0 ? `"unauthorized"` : "never";
      writeFileSync(join(dir, "client.ts"), `type UnauthorizedCode = ${unauthorized};\n${CLIENT}`);
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(TSCONFIG));
      const checked = await run(join(ROOT, "node_modules/.bin/tsc"), ["-p", join(dir, "tsconfig.json")]);
      assert.equal(checked.code, 0, `${checked.stdout}${checked.stderr}`);
    });
  });
}
