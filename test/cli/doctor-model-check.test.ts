import { afterEach, describe, expect, it } from "bun:test";
import type { CheckContext } from "../../src/cli/doctor/check.ts";
import { modelCheck } from "../../src/cli/doctor/model-check.ts";

const servers: { stop(force?: boolean): Promise<void> }[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop(true);
});

const context: CheckContext = { fetch, timeoutMs: 500, secrets: { env: {}, readFile: () => undefined }, path: "" };

function serve(handler: (request: Request) => Response | Promise<Response>): string {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch: handler });
  servers.push(server);
  return `http://127.0.0.1:${server.port}/v1`;
}

const check = (baseUrl: string, apiKey?: string) =>
  modelCheck({ name: "model", model: "m1", baseUrl, apiKey: () => apiKey, where: "base_url", keyFrom: "api_key_file, then OPENAI_API_KEY" });

describe("modelCheck", () => {
  it("falls back to a 1-token chat completion when the endpoint has no model list", async () => {
    const seen: unknown[] = [];
    const url = serve(async (request) => {
      if (new URL(request.url).pathname === "/v1/models") return new Response("no", { status: 404 });
      seen.push(await request.json());
      return Response.json({ id: "x", choices: [{ index: 0, message: { role: "assistant", content: "p" }, finish_reason: "length" }] });
    });
    const outcome = await check(url).run(context);
    expect(outcome.status).toBe("ok");
    expect(outcome.detail).toContain("POST /chat/completions → 200");
    expect(seen).toEqual([{ model: "m1", messages: [{ role: "user", content: "ping" }], max_tokens: 1 }]);
  });

  it("says when neither /models nor /chat/completions exist, and what base_url usually looks like", async () => {
    const url = serve(() => new Response("no", { status: 404 }));
    const outcome = await check(url).run(context);
    expect(outcome).toEqual({
      status: "fail",
      detail: `no OpenAI-compatible API at ${url}: GET /models and POST /chat/completions both → 404`,
      fix: "correct base_url; it usually ends in /v1, e.g. http://127.0.0.1:11434/v1",
    });
  });

  it("gives up after the time limit on an endpoint that never answers", async () => {
    const url = serve(() => new Promise<Response>(() => {}));
    const started = performance.now();
    const outcome = await check(url).run(context);
    expect(outcome.status).toBe("fail");
    expect(outcome.detail).toBe(`m1 at ${url}/models: no answer within 500ms`);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("never repeats the key, even when the endpoint echoes it", async () => {
    const url = serve(() => Response.json({ error: { message: "model m1 unknown for key sk-echoed-secret" } }, { status: 400 }));
    const outcome = await check(url, "sk-echoed-secret").run(context);
    expect(outcome.status).toBe("fail");
    expect(outcome.detail).toBe(`m1 at ${url}/chat/completions → 400: model m1 unknown for key ****`);
  });

  it("says that no key is set for a public endpoint, and where one is looked for, before any request", async () => {
    const requested: string[] = [];
    const recording: typeof fetch = Object.assign(
      async (input: string | URL | Request) => {
        requested.push(String(input));
        return new Response("unreachable", { status: 500 });
      },
      { preconnect: fetch.preconnect },
    );
    const outcome = await check("https://api.openai.com/v1").run({ ...context, fetch: recording });
    expect(outcome).toEqual({
      status: "fail",
      detail: "no API key is set for https://api.openai.com/v1: looked in api_key_file, then OPENAI_API_KEY, and neither is set",
      fix: "set one (export OPENAI_API_KEY=sk-…), or point base_url at a local server such as http://127.0.0.1:11434/v1, which needs no key",
    });
    expect(requested).toEqual([]);
    // With a key, the same endpoint is probed (through the injected fetch: nothing leaves the machine).
    await check("https://api.openai.com/v1", "sk-test").run({ ...context, fetch: recording });
    expect(requested[0]).toBe("https://api.openai.com/v1/models");
  });
});
