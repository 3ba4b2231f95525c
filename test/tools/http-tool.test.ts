import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpToolEntry } from "../../src/config/sections/tools.ts";
import { ConfigError } from "../../src/errors.ts";
import { createHttpTool } from "../../src/tools/http-tool.ts";
import { createSemaphore, type Semaphore } from "../../src/util/semaphore.ts";
import { ToolFailure, ToolInputError } from "../../src/tools/tool.ts";
import { waitFor } from "../helpers/processes.ts";

interface Seen {
  method: string;
  path: string;
  query: [string, string][];
  body: string;
  headers: Record<string, string>;
}

let server: ReturnType<typeof Bun.serve>;
let base: string;
let dir: string;
const closedByClient: string[] = [];
let slowStarted = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "skiff-http-"));
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      switch (url.pathname) {
        case "/echo": {
          const seen: Seen = {
            method: request.method,
            path: url.pathname,
            query: [...url.searchParams],
            body: await request.text(),
            headers: Object.fromEntries(request.headers),
          };
          return Response.json(seen);
        }
        case "/slow":
          slowStarted++;
          request.signal.addEventListener("abort", () => closedByClient.push(url.searchParams.get("id") ?? "?"));
          await Bun.sleep(5000);
          return new Response("too late");
        case "/fail":
          return new Response(`upstream exploded: ${"x".repeat(2000)}`, { status: 503 });
        case "/big":
          return new Response("y".repeat(3 * 1024 * 1024));
        case "/moved":
          return Response.redirect("http://127.0.0.1:1/elsewhere?token=secret", 302);
        default:
          return new Response("not found", { status: 404 });
      }
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

function tool(entry: Record<string, unknown>, env: Record<string, string | undefined> = {}, outbound: Semaphore = createSemaphore(64)) {
  return createHttpTool(httpToolEntry.parse({ name: "t", description: "test", ...entry }), {
    outbound,
    secrets: { env, readFile: (path) => { try { return readFileSync(path, "utf8"); } catch { return undefined; } } },
    defaultTimeoutMs: 10_000,
    userAgent: "skiff-test",
  });
}

const context = (extra: { traceparent?: string; signal?: AbortSignal } = {}) => ({
  signal: extra.signal ?? new AbortController().signal,
  callId: "call_1",
  ...(extra.traceparent ? { traceparent: extra.traceparent } : {}),
});

const cityParameters = {
  type: "object",
  properties: { city: { type: "string" }, days: { type: "integer" }, tags: { type: "array", items: { type: "string" } } },
  required: ["city"],
};

describe("createHttpTool", () => {
  it("sends POST arguments as the JSON body, exactly as given", async () => {
    const post = tool({ url: `${base}/echo`, parameters: cityParameters });
    const args = { city: "Zürich \"quoted\" & <tags>", days: 3, tags: ["a", "b c"] };
    const seen = JSON.parse((await post.execute(args, context())) as string) as Seen;
    expect(seen.method).toBe("POST");
    expect(JSON.parse(seen.body)).toEqual(args);
    expect(seen.headers["content-type"]).toBe("application/json");
    expect(seen.headers["user-agent"]).toBe("skiff-test");
  });

  it("sends GET arguments as the query string, keeping the URL's own parameters", async () => {
    const get = tool({ url: `${base}/echo?v=2`, method: "GET", parameters: cityParameters });
    const seen = JSON.parse((await get.execute({ city: "New York & co", days: 2, tags: ["x", "y"] }, context())) as string) as Seen;
    expect(seen.method).toBe("GET");
    expect(seen.body).toBe("");
    expect(seen.query).toEqual([["v", "2"], ["city", "New York & co"], ["days", "2"], ["tags", "x"], ["tags", "y"]]);
  });

  it("validates arguments before sending anything", async () => {
    const post = tool({ url: `${base}/echo`, parameters: cityParameters });
    const error = await post.execute({ days: "many" }, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolInputError);
    expect((error as Error).message).toContain("city:");
    expect((error as Error).message).toContain("days:");
  });

  it("resolves env: and file: header values, and sends traceparent", async () => {
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "file-secret\n");
    const post = tool(
      { url: `${base}/echo`, headers: { authorization: "env:SIDECAR_TOKEN", "x-api-key": `file:${tokenFile}`, "x-plain": "plain" } },
      { SIDECAR_TOKEN: "Bearer env-secret" },
    );
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const seen = JSON.parse((await post.execute({}, context({ traceparent }))) as string) as Seen;
    expect(seen.headers["authorization"]).toBe("Bearer env-secret");
    expect(seen.headers["x-api-key"]).toBe("file-secret");
    expect(seen.headers["x-plain"]).toBe("plain");
    expect(seen.headers["traceparent"]).toBe(traceparent);
  });

  it("names a missing header secret at start-up without showing any value", () => {
    expect(() => tool({ url: `${base}/echo`, headers: { authorization: "env:NOT_SET_ANYWHERE" } })).toThrow(
      "tools.http[t].headers.authorization: refers to the environment variable NOT_SET_ANYWHERE, which is not set",
    );
  });

  it("refuses a parameters schema it cannot read, naming the tool", () => {
    const error = (() => {
      try {
        tool({ url: `${base}/echo`, parameters: { type: "object", properties: { a: { type: "text" } } } });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]).toMatchObject({ code: "invalid_value", path: ["tools", "http", "t", "parameters"] });
  });

  it("stops at its timeout and closes the connection", async () => {
    const slow = tool({ url: `${base}/slow?id=timeout`, timeout: "200ms" });
    const started = Date.now();
    const error = await slow.execute({}, context()).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(ToolFailure);
    expect((error as Error).message).toBe(`POST ${base}/slow?id=timeout did not answer within 200ms (timeout of tool "t")`);
    await waitFor(() => closedByClient.includes("timeout"), 2000, "the server to see the connection close");
  });

  it("aborts mid-request when the run is cancelled: the server sees the connection close", async () => {
    const slow = tool({ url: `${base}/slow?id=abort` });
    const controller = new AbortController();
    const before = slowStarted;
    const running = slow.execute({}, context({ signal: controller.signal })).catch((e: unknown) => e);
    await waitFor(() => slowStarted > before, 2000, "the request to arrive");
    controller.abort(new Error("cancelled by test"));
    expect(((await running) as Error).message).toBe("cancelled by test");
    await waitFor(() => closedByClient.includes("abort"), 2000, "the server to see the connection close");
  });

  it("turns a non-2xx answer into a tool error with the status and a short excerpt", async () => {
    const failing = tool({ url: `${base}/fail` });
    const error = await failing.execute({}, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolFailure);
    const message = (error as Error).message;
    expect(message).toStartWith(`POST ${base}/fail answered 503 Service Unavailable: upstream exploded: xxx`);
    expect(message.length).toBeLessThan(700);
  });

  it("refuses a response over max_response", async () => {
    const big = tool({ url: `${base}/big`, method: "GET", max_response: "64KiB" });
    const error = await big.execute({}, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolFailure);
    expect((error as Error).message).toContain("is larger than 64 KiB (max_response of tool \"t\")");
  });

  it("reports a redirect instead of following it, with the target's credentials hidden", async () => {
    const moved = tool({ url: `${base}/moved`, method: "GET" });
    const error = await moved.execute({}, context()).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `GET ${base}/moved answered 302 redirecting to http://127.0.0.1:1/elsewhere?token=****; HTTP tools do not follow redirects, so set url of tool "t" to the final address`,
    );
  });

  it("says when the service cannot be reached", async () => {
    const down = tool({ url: "http://127.0.0.1:1/nothing" });
    const error = await down.execute({}, context()).catch((e: unknown) => e);
    expect((error as Error).message).toStartWith("could not reach POST http://127.0.0.1:1/nothing: ");
  });

  it("runs at most max_concurrent calls at once, and all tools together within the shared budget", async () => {
    let inFlight = 0;
    let peak = 0;
    const gate = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch() {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await Bun.sleep(30);
        inFlight--;
        return new Response("ok");
      },
    });
    try {
      const limited = tool({ url: `http://127.0.0.1:${gate.port}/`, max_concurrent: 3 });
      const results = await Promise.all(Array.from({ length: 12 }, () => limited.execute({}, context())));
      expect(results).toEqual(Array.from({ length: 12 }, () => "ok"));
      expect(peak).toBe(3);

      peak = 0;
      const shared = createSemaphore(4);
      const one = tool({ name: "one", url: `http://127.0.0.1:${gate.port}/a` }, {}, shared);
      const two = tool({ name: "two", url: `http://127.0.0.1:${gate.port}/b` }, {}, shared);
      await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? one : two).execute({}, context())));
      expect(peak).toBe(4);

      // parallel = false is for the loop (serial within a step), not a process-wide cap.
      expect(tool({ name: "serial", url: `http://127.0.0.1:${gate.port}/`, parallel: false }).parallel).toBe(false);
    } finally {
      await gate.stop(true);
    }
  });
});
