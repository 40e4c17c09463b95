/**
 * `zart/client`'s transport at its edges: a server root or token it cannot use is refused when the
 * client is made, an answer that is not JSON says so, and only a real network failure is a
 * `ZartConnectionError`.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { ZartClient, ZartConnectionError, ZartHttpError } from "../src/client/index.js";
import { freePort } from "./support/http-helpers.js";

describe("ZartClient options", () => {
  it("refuses a baseUrl with a query, fragment or credentials, or that is no http(s) URL, naming the problem", () => {
    const cases: Array<[string, RegExp]> = [
      ["http://127.0.0.1:7700?x=1", /^baseUrl must not have a query \(\?…\) or fragment \(#…\)/],
      ["http://127.0.0.1:7700/#top", /^baseUrl must not have a query \(\?…\) or fragment \(#…\)/],
      ["http://user:pw@127.0.0.1:7700", /^baseUrl must not contain a user name or password/],
      ["localhost:7700", /^baseUrl must be an http:\/\/ or https:\/\/ URL/],
      ["ftp://127.0.0.1/", /^baseUrl must be an http:\/\/ or https:\/\/ URL/],
      ["not a url", /^baseUrl must be a URL/],
    ];
    for (const [baseUrl, message] of cases) {
      assert.throws(
        () => new ZartClient({ baseUrl }),
        (error: Error) => error instanceof TypeError && message.test(error.message),
        baseUrl,
      );
    }
    for (const baseUrl of ["http://127.0.0.1:7700", "https://zart.example.com/", "http://[::1]:7700/prefix/"]) new ZartClient({ baseUrl });
  });

  it("refuses a token that cannot go in a header as it is (not printable ASCII, or with spaces), without echoing it", () => {
    for (const token of ["abc\ndef", "€uro", "two words", "tab\there"]) {
      assert.throws(
        () => new ZartClient({ baseUrl: "http://127.0.0.1:7700", token }),
        (error: Error) =>
          error instanceof TypeError && /^token must hold only printable ASCII/.test(error.message) && !error.message.includes(token),
        JSON.stringify(token),
      );
    }
    new ZartClient({ baseUrl: "http://127.0.0.1:7700", token: "Abc-123._~+/=!#$%&'*^`|" });
    new ZartClient({ baseUrl: "http://127.0.0.1:7700", token: "" });
  });
});

describe("ZartClient answers and failures", () => {
  it("timeoutMs: refused unless within (0, 2e9]; an answer stalled part way is a request_timeout; the caller's abort stays its own", async () => {
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2_000_000_001])
      assert.throws(() => new ZartClient({ baseUrl: "http://127.0.0.1:7700", timeoutMs }), /^TypeError: timeoutMs must be/);
    const stalled = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write('{"total": ');
    });
    await new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", resolve));
    try {
      const baseUrl = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`;
      const client = new ZartClient({ baseUrl, timeoutMs: 200 });
      await assert.rejects(client.stats(), (error: unknown) => error instanceof ZartConnectionError && error.reason === "request_timeout");
      const mine = new AbortController();
      const call = client.wait("exec-0mx908wny3ebixtjbe2gh94ai", { timeoutSeconds: 1, signal: mine.signal });
      mine.abort(new Error("mine"));
      await assert.rejects(call, /^Error: mine$/);
    } finally {
      stalled.closeAllConnections();
      await new Promise((resolve) => stalled.close(resolve));
    }
  });

  it("a success that is not JSON is a ZartHttpError invalid_response naming the URL", async () => {
    const fetch: typeof globalThis.fetch = async () => new Response("<html>a web page</html>", { status: 200 });
    const client = new ZartClient({ baseUrl: "http://127.0.0.1:7700/", fetch });
    await assert.rejects(
      client.stats(),
      (error: unknown) =>
        error instanceof ZartHttpError &&
        error.status === 200 &&
        error.code === "invalid_response" &&
        error.message === "the answer from http://127.0.0.1:7700/api/v1/stats is not JSON (is it a Zart server?)",
    );
    // The long-poll reads its answers itself: the same refusal.
    await assert.rejects(
      client.wait("exec-0mx908wny3ebixtjbe2gh94ai", { timeoutSeconds: 1 }),
      (error: unknown) => error instanceof ZartHttpError && error.code === "invalid_response",
    );
  });

  it("an id or event name a URL would drop (`.`, `..`) is refused before anything is sent", async () => {
    let sent = 0;
    const fetch: typeof globalThis.fetch = async () => {
      sent += 1;
      return new Response("{}", { status: 200 });
    };
    const client = new ZartClient({ baseUrl: "http://127.0.0.1:7700", fetch });
    for (const name of [".", ".."]) {
      await assert.rejects(client.sendEvent("exec-0mx908wny3ebixtjbe2gh94ai", name, {}), /cannot be sent in a URL path/);
      await assert.rejects(client.get(name), /cannot be sent in a URL path/);
    }
    assert.equal(sent, 0);
  });

  it("only a network failure is a ZartConnectionError; fetch refusing the request is passed on as it is", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    await assert.rejects(
      new ZartClient({ baseUrl: url }).stats(),
      (error: unknown) => error instanceof ZartConnectionError && error.url === url && error.reason === "ECONNREFUSED",
    );
    const refused = new TypeError("Headers.append: invalid header value");
    const fetch: typeof globalThis.fetch = async () => {
      throw refused;
    };
    await assert.rejects(new ZartClient({ baseUrl: url, fetch }).stats(), (error: unknown) => error === refused);
  });
});
