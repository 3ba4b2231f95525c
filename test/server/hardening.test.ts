/**
 * The HTTP edge against misbehaving clients and a session store that stops answering, in process
 * (test/e2e/hardening-server.test.ts drives the same attacks against the compiled binary).
 */
import { describe, expect, it } from "bun:test";
import { createMemorySessionStore } from "../../src/sessions/memory.ts";
import type { SessionStore } from "../../src/sessions/index.ts";
import { call, scriptedModel } from "../fakes/scripted-model.ts";
import { waitFor } from "../helpers/processes.ts";
import { errorOf, parseSse, request, slowTool, testApp, token } from "./helpers.ts";

const encoder = new TextEncoder();

/** A POST whose body sends `first` and then nothing more, until `fail()` breaks it off as a dropped connection would. */
function stalledPost(path: string, first: string, headers: Record<string, string> = {}) {
  let streamController!: ReadableStreamDefaultController<Uint8Array>;
  const client = new AbortController();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      streamController = c;
      c.enqueue(encoder.encode(first));
    },
  });
  const req = new Request(`http://skiff.test${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, ...headers },
    body,
    signal: client.signal,
  });
  return {
    req,
    fail() {
      client.abort();
      streamController.error(new DOMException("The connection was closed.", "AbortError"));
    },
  };
}

async function metricsText(app: { fetch: (req: Request) => Promise<Response> }): Promise<string> {
  return (await app.fetch(request("GET", "/metrics"))).text();
}

describe("request bodies", () => {
  it("answer 408 and close the connection when a body stalls past body_timeout, chunked or with Content-Length", async () => {
    const { app, logs } = testApp({ settings: { bodyTimeoutMs: 50 } });
    const headerSets: Record<string, string>[] = [{}, { "content-length": "100" }];
    for (const headers of headerSets) {
      for (const path of ["/v1/runs", "/v1/chat/completions"]) {
        const res = await app.fetch(stalledPost(path, '{"inp', headers).req);
        expect(res.status).toBe(408);
        expect(res.headers.get("connection")).toBe("close");
        const error = await errorOf(res);
        expect(error.type).toBe("timeout_error");
        expect(error.message).toContain("body_timeout of 50ms");
      }
    }
    expect(logs.filter((line) => line["msg"] === "request").map((line) => line["status"])).toEqual([408, 408, 408, 408]);
  });

  it("log a client that drops mid-body as 499, never 500, and count it as 499", async () => {
    const { app, logs } = testApp();
    for (const path of ["/v1/runs", "/v1/chat/completions"]) {
      const post = stalledPost(path, '{"input":"wh');
      const answered = app.fetch(post.req);
      post.fail();
      expect((await answered).status).toBe(499);
    }
    const lines = logs.filter((line) => line["msg"] === "request");
    expect(lines.map((line) => [line["status"], line["level"], line["error_code"]])).toEqual([
      [499, "info", undefined],
      [499, "info", undefined],
    ]);
    const metrics = await metricsText(app);
    expect(metrics).toContain('skiff_http_requests_total{route="/v1/runs",method="POST",status="499"} 1');
    expect(metrics).toContain('skiff_http_requests_total{route="/v1/chat/completions",method="POST",status="499"} 1');
    expect(metrics).not.toContain('status="500"');
  });
});

describe("streamed runs", () => {
  it("log a run whose client goes away as 499, on /v1/runs and /v1/chat/completions", async () => {
    for (const [path, body] of [
      ["/v1/runs", { input: "hi", stream: true }],
      ["/v1/chat/completions", { model: "skiff", stream: true, messages: [{ role: "user", content: "hi" }] }],
    ] as const) {
      const slow = slowTool();
      const model = scriptedModel([{ toolCalls: [call("c1", "slow", {})] }]);
      const { app, logs, runs } = testApp({ model, tools: [slow] });
      const res = await app.fetch(request("POST", path, body));
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      await reader.read();
      await waitFor(() => slow.started === 1, 5_000, "the tool to start");
      await reader.cancel();
      await waitFor(() => logs.some((line) => line["msg"] === "request"), 5_000, "the request's log line");
      const line = logs.find((l) => l["msg"] === "request")!;
      expect([line["route"], line["status"], line["outcome"]]).toEqual([path, 499, "cancelled"]);
      expect(await metricsText(app)).toContain(`skiff_http_requests_total{route="${path}",method="POST",status="499"} 1`);
      expect(runs.size).toBe(0);
    }
  });
});

describe("HEAD", () => {
  it("answers HEAD /healthz and /readyz like GET, without a body", async () => {
    const { app } = testApp();
    for (const path of ["/healthz", "/readyz"]) {
      const get = await app.fetch(request("GET", path, undefined, { auth: false }));
      const head = await app.fetch(request("HEAD", path, undefined, { auth: false }));
      expect(head.status).toBe(200);
      expect(head.body).toBeNull();
      expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
      expect(Number(head.headers.get("content-length"))).toBe((await get.arrayBuffer()).byteLength);
    }
  });
});

describe("tool messages", () => {
  it("refuses a tool message that answers no call of the assistant message before it, naming its index", async () => {
    const model = scriptedModel([]);
    const { app } = testApp({ model });
    const assistantCall = { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "calc", arguments: "{}" } }] };
    const cases = [
      {
        messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "tool", tool_call_id: "x", content: "c" }, { role: "user", content: "d" }],
        index: 2,
        why: 'no call has id "x"',
      },
      {
        messages: [{ role: "user", content: "a" }, assistantCall, { role: "user", content: "b" }, { role: "tool", tool_call_id: "c1", content: "c" }, { role: "user", content: "d" }],
        index: 3,
        why: 'no call has id "c1"',
      },
      {
        messages: [{ role: "user", content: "a" }, assistantCall, { role: "tool", tool_call_id: "c1", content: "c" }, { role: "tool", tool_call_id: "c1", content: "c" }, { role: "user", content: "d" }],
        index: 3,
        why: 'call "c1" was already answered',
      },
    ];
    for (const { messages, index, why } of cases) {
      const rule = 'a "tool" message must answer a tool call of the assistant message before it';
      const run = await errorOf(await app.fetch(request("POST", "/v1/runs", { input: messages })));
      expect([run.param, run.message]).toEqual([`input[${index}]`, `input[${index}]: ${rule}; ${why}`]);
      const chat = await errorOf(await app.fetch(request("POST", "/v1/chat/completions", { model: "skiff", messages })));
      expect([chat.param, chat.message]).toEqual([`messages[${index}]`, `messages[${index}]: ${rule}; ${why}`]);
    }
    expect(model.requests).toHaveLength(0);
  });

  it("accepts tool messages that answer the calls of the assistant message before them", async () => {
    const model = scriptedModel([{ text: "done" }]);
    const { app } = testApp({ model });
    const input = [
      { role: "user", content: "a" },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", function: { name: "calc", arguments: "{}" } }, { id: "c2", function: { name: "calc", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "c2", content: "2" },
      { role: "tool", tool_call_id: "c1", content: "1" },
      { role: "user", content: "b" },
    ];
    const res = await app.fetch(request("POST", "/v1/runs", { input }));
    expect(res.status).toBe(200);
  });
});

/** A memory store whose chosen operations wait until `thaw()`, as a frozen database would. */
function freezableStore() {
  const inner = createMemorySessionStore();
  let gate: Promise<void> | undefined;
  let open = () => {};
  const frozen = new Set<string>();
  const wait = async (op: string) => {
    while (gate && frozen.has(op)) await gate;
  };
  const store: SessionStore = {
    ...inner,
    get: async (id) => (await wait("get"), inner.get(id)),
    commitTurn: async (id, commit) => (await wait("commit"), inner.commitTurn(id, commit)),
    delete: async (id) => (await wait("delete"), inner.delete(id)),
    ping: async () => wait("ping"),
  };
  return {
    store,
    freeze(...ops: string[]) {
      for (const op of ops) frozen.add(op);
      gate = new Promise((resolve) => (open = resolve));
    },
    thaw() {
      frozen.clear();
      gate = undefined;
      open();
    },
  };
}

describe("a session store that stops answering", () => {
  it("fails a run with 503 once the run's timeout passes while loading its session (nothing ran)", async () => {
    const fake = freezableStore();
    const model = scriptedModel([]);
    const { app, runs, logs } = testApp({ model, store: fake.store, settings: { storeTimeoutMs: 60_000 } });
    fake.freeze("get");
    const res = await app.fetch(request("POST", "/v1/runs", { input: "hi", session_id: "s", timeout: 0.1 }));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    const error = await errorOf(res);
    expect(error.message).toBe('the session store did not answer within 100ms while loading the session; the run did not start; retry in a moment');
    expect(error.body["partial"]).toBeUndefined();
    expect(model.requests).toHaveLength(0);
    expect(runs.size).toBe(0);
    expect(logs.find((l) => l["msg"] === "request")?.["error_code"]).toBe("session_store_timeout");
    fake.thaw();
    // The session is free again: the next turn runs.
    const next = scriptedModel([{ text: "ok" }]);
    const again = testApp({ model: next, store: fake.store });
    expect((await again.app.fetch(request("POST", "/v1/runs", { input: "hi", session_id: "s" }))).status).toBe(200);
  });

  it("fails a finished run with 503 and its answer in partial when the save does not answer in time, streamed or not", async () => {
    const fake = freezableStore();
    fake.freeze("commit");
    for (const stream of [false, true]) {
      const { app } = testApp({ model: scriptedModel([{ text: "four" }]), store: fake.store, settings: { storeTimeoutMs: 100 } });
      const res = await app.fetch(request("POST", "/v1/runs", { input: "2+2?", session_id: `s-${stream}`, stream }));
      let body: Record<string, unknown>;
      if (stream) {
        const events = parseSse(await res.text());
        expect(events.at(-1)?.event).toBe("run.failed");
        body = JSON.parse(events.at(-1)!.data) as Record<string, unknown>;
      } else {
        expect(res.status).toBe(503);
        body = (await res.json()) as Record<string, unknown>;
      }
      const error = body["error"] as { type: string; message: string };
      expect(error.type).toBe("service_unavailable");
      expect(error.message).toBe(
        `the session store did not answer within 100ms while saving this turn to session "s-${stream}"; ` +
          `the turn may not have been saved (GET /v1/sessions/s-${stream} shows whether it was); its answer is in "partial"`,
      );
      expect((body["partial"] as { output: string }).output).toBe("four");
    }
    fake.thaw();
  });

  it("gives a save what is left of the run's timeout, but at least 1s, when store_timeout is longer", async () => {
    const fake = freezableStore();
    fake.freeze("commit");
    const { app } = testApp({ model: scriptedModel([{ text: "four" }]), store: fake.store, settings: { storeTimeoutMs: 60_000 } });
    const res = await app.fetch(request("POST", "/v1/runs", { input: "2+2?", session_id: "s", timeout: 0.2 }));
    expect(res.status).toBe(503);
    expect((await errorOf(res)).message).toStartWith('the session store did not answer within 1s while saving this turn to session "s"');
    fake.thaw();
  });

  it("answers 503 to GET and DELETE /v1/sessions/{id} after store_timeout", async () => {
    const fake = freezableStore();
    const { app } = testApp({ store: fake.store, settings: { storeTimeoutMs: 50 } });
    fake.freeze("get", "delete");
    for (const method of ["GET", "DELETE"]) {
      const res = await app.fetch(request(method, "/v1/sessions/x"));
      expect(res.status).toBe(503);
      const what = method === "GET" ? "reading" : "deleting";
      expect((await errorOf(res)).message).toBe(`the session store did not answer within 50ms while ${what} session "x"; retry in a moment`);
    }
    fake.thaw();
    expect((await app.fetch(request("GET", "/v1/sessions/x"))).status).toBe(404);
  });

  it("makes /readyz answer 503 naming the store until it answers a probe again", async () => {
    const fake = freezableStore();
    const { app } = testApp({ store: fake.store, settings: { storeTimeoutMs: 50 } });
    expect((await app.fetch(request("GET", "/readyz", undefined, { auth: false }))).status).toBe(200);
    fake.freeze("ping");
    const res = await app.fetch(request("GET", "/readyz", undefined, { auth: false }));
    expect(res.status).toBe(503);
    expect((await errorOf(res)).message).toBe("not ready: the session store has not answered a probe within 50ms (server.store_timeout)");
    expect((await app.fetch(request("HEAD", "/readyz", undefined, { auth: false }))).status).toBe(503);
    fake.thaw();
    // The probe that hung answers now; from then on the store is ready again.
    let status = 0;
    for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
      status = (await app.fetch(request("GET", "/readyz", undefined, { auth: false }))).status;
      if (status !== 200) await Bun.sleep(10);
    }
    expect(status).toBe(200);
  });
});
