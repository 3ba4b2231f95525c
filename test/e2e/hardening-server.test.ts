/**
 * Attacks on `skiff serve` (the compiled binary) that used to hold connections or requests
 * forever, or were logged as bugs: stalled and dripping request bodies, clients that drop
 * mid-body or mid-stream, HEAD probes, stray tool messages, and a frozen Postgres (SIGSTOP on
 * the postmaster and its backends of a cluster this test starts itself).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeOpenAIs, reply } from "../fakes/fake-openai-server.ts";
import { canStartCluster, inCI, ownCluster, type TestCluster } from "../helpers/postgres.ts";
import { waitFor } from "../helpers/processes.ts";
import { skiffBinary } from "./binary.ts";
import { type ServeProcess, startServe, stopAllServes } from "./serve-process.ts";

beforeAll(async () => {
  await skiffBinary();
}, 180_000);

const { start: startFake, stopAll: stopFakes } = createFakeOpenAIs();
afterEach(async () => {
  await stopAllServes();
  await stopFakes();
});

function portOf(server: ServeProcess): number {
  return Number(new URL(server.url).port);
}

/** What a raw TCP client saw: the bytes it got, and whether the server closed the connection. */
interface RawOutcome {
  readonly text: string;
  readonly closedByServer: boolean;
}

/**
 * Sends `payload` on a new connection (then, with `drip`, one more byte every 100 ms) and waits
 * for the server to close it, giving up after `giveUpMs`. With `hangUp`, the client closes right
 * after writing, as a client that drops mid-body does.
 */
function rawExchange(port: number, payload: string, options: { drip?: boolean; hangUp?: boolean; giveUpMs?: number } = {}): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    let text = "";
    let drip: ReturnType<typeof setInterval> | undefined;
    let giveUp: ReturnType<typeof setTimeout> | undefined;
    const done = (closedByServer: boolean) => {
      clearInterval(drip);
      clearTimeout(giveUp);
      resolve({ text, closedByServer });
    };
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(socket) {
          socket.write(payload);
          if (options.hangUp) {
            socket.end();
            return;
          }
          if (options.drip) drip = setInterval(() => socket.write("a"), 100);
          giveUp = setTimeout(() => {
            socket.end();
            done(false);
          }, options.giveUpMs ?? 20_000);
        },
        data(_socket, data) {
          text += data.toString();
        },
        close() {
          done(!options.hangUp);
        },
        error() {
          done(!options.hangUp);
        },
      },
    }).catch(reject);
  });
}

const stalls = {
  "a partial body": (path: string) => `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"inp`,
  "a 1-byte drip": (path: string) => `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n{`,
  "chunked with no chunk": (path: string) => `POST ${path} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n`,
} as const;

describe("skiff serve against stalled request bodies", () => {
  it("answers 408 and closes the connection when a body is not complete within body_timeout", async () => {
    const server = await startServe({ args: ["--model", "demo", "--sessions", "memory", "--body-timeout", "1s"] });
    const attempts: Promise<[string, RawOutcome]>[] = [];
    for (const path of ["/v1/runs", "/v1/chat/completions"]) {
      for (const [name, payload] of Object.entries(stalls)) {
        attempts.push(rawExchange(portOf(server), payload(path), { drip: name === "a 1-byte drip" }).then((outcome) => [`${name} on ${path}`, outcome]));
      }
    }
    for (const [what, outcome] of await Promise.all(attempts)) {
      expect({ what, closedByServer: outcome.closedByServer }).toEqual({ what, closedByServer: true });
      expect(outcome.text).toStartWith("HTTP/1.1 408 Request Timeout\r\n");
      expect(outcome.text.toLowerCase()).toContain("connection: close");
      expect(outcome.text).toContain("body_timeout of 1s");
    }
    const logged = server.logs.filter((line) => line["msg"] === "request").map((line) => line["status"]);
    expect(logged).toEqual([408, 408, 408, 408, 408, 408]);
  });

  it("frees every stalled connection, so /healthz answers after a flood of them; stalled headers are closed too", async () => {
    const server = await startServe({ args: ["--model", "demo", "--sessions", "memory", "--body-timeout", "1s"] });
    const headers = rawExchange(portOf(server), "POST /v1/runs HTTP/1.1\r\nhost: x\r\ncontent-le", { giveUpMs: 60_000 });
    const flood = Array.from({ length: 300 }, () => rawExchange(portOf(server), stalls["a partial body"]("/v1/runs")));
    const outcomes = await Promise.all(flood);
    expect(outcomes.filter((outcome) => outcome.closedByServer && outcome.text.startsWith("HTTP/1.1 408"))).toHaveLength(300);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // Bun closes a connection whose headers stall (after about 12 s); no handler ever sees it.
    expect((await headers).closedByServer).toBe(true);
  }, 90_000);

  it("logs a client that drops mid-body as 499 and counts it as 499, never 500", async () => {
    const server = await startServe({ args: ["--model", "demo", "--sessions", "memory"] });
    for (const path of ["/v1/runs", "/v1/chat/completions"]) {
      await rawExchange(portOf(server), `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"input":"wh`, { hangUp: true });
      const line = await server.waitForLog((l) => l["msg"] === "request" && l["route"] === path);
      expect([line["status"], line["level"], line["error_code"]]).toEqual([499, "info", undefined]);
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('skiff_http_requests_total{route="/v1/runs",method="POST",status="499"} 1');
    expect(metrics).toContain('skiff_http_requests_total{route="/v1/chat/completions",method="POST",status="499"} 1');
    expect(metrics).not.toContain('status="500"');
  });
});

describe("skiff serve: other edges", () => {
  it("logs a streamed run whose client disconnects as 499", async () => {
    const fake = startFake(() => reply.hang());
    const server = await startServe({ args: ["--base-url", fake.url, "--model", "m", "--sessions", "memory"] });
    for (const [path, body] of [
      ["/v1/runs", { input: "hi", stream: true }],
      ["/v1/chat/completions", { model: "skiff", stream: true, messages: [{ role: "user", content: "hi" }] }],
    ] as const) {
      const client = new AbortController();
      const res = await fetch(`${server.url}${path}`, { method: "POST", body: JSON.stringify(body), signal: client.signal });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      await reader.read();
      // The model has the request: the run is under way when the client goes.
      const expected = path === "/v1/runs" ? 1 : 2;
      await waitFor(() => fake.chatRequests().length === expected, 10_000, "the model request");
      client.abort();
      const line = await server.waitForLog((l) => l["msg"] === "request" && l["route"] === path);
      expect([line["status"], line["outcome"]]).toEqual([499, "cancelled"]);
    }
  });

  it("answers HEAD /healthz and /readyz with 200 and no body", async () => {
    const server = await startServe({ args: ["--model", "demo", "--sessions", "memory"] });
    for (const path of ["/healthz", "/readyz"]) {
      const { text } = await rawExchange(portOf(server), `HEAD ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
      const [head, body] = text.split("\r\n\r\n");
      expect(head).toStartWith("HTTP/1.1 200 OK\r\n");
      expect(Number(/content-length: (\d+)/i.exec(head!)?.[1])).toBeGreaterThan(0);
      expect(body).toBe("");
    }
  });

  it("refuses a tool message with no preceding call of its id, naming the message", async () => {
    const server = await startServe({ args: ["--model", "demo", "--sessions", "memory"] });
    const messages = [
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
      { role: "tool", tool_call_id: "x", content: "forged result" },
      { role: "user", content: "and now?" },
    ];
    for (const [path, body, field] of [
      ["/v1/runs", { input: messages }, "input"],
      ["/v1/chat/completions", { model: "skiff", messages }, "messages"],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, { method: "POST", body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { message: string; param: string } };
      expect(error.param).toBe(`${field}[2]`);
      expect(error.message).toBe(`${field}[2]: a "tool" message must answer a tool call of the assistant message before it; no call has id "x"`);
    }
  });
});

/** The postmaster's pid and its children's (the backends and background workers; each in a session of its own). */
function postgresProcesses(cluster: TestCluster): number[] {
  const postmaster = Number(readFileSync(join(cluster.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === postmaster) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return [postmaster, ...children];
}

/** Sends `signal` to the postmaster first (so it forks nothing new), then to its children. */
function signalPostgres(cluster: TestCluster, signal: "SIGSTOP" | "SIGCONT"): void {
  for (const pid of postgresProcesses(cluster)) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already.
    }
  }
}

async function readyStatus(server: ServeProcess): Promise<{ status: number; message: string | undefined }> {
  const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as { error?: { message: string } };
  return { status: res.status, message: body.error?.message };
}

describe("skiff serve with a frozen Postgres", () => {
  let cluster: TestCluster | undefined;
  let frozen = false;
  const skip = !canStartCluster();
  if (skip) {
    if (inCI) throw new Error("the frozen-Postgres test needs initdb and pg_ctl in CI (.ci/postgres.sh installs them)");
    console.warn("skipping the frozen-Postgres test: no initdb/pg_ctl found to start a cluster of its own (apt-get install postgresql)");
  }

  afterEach(() => {
    if (cluster && frozen) signalPostgres(cluster, "SIGCONT");
    frozen = false;
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it.skipIf(skip)(
    "bounds every request by the run's timeout or store_timeout, reports the store on /readyz, rolls back what it could not save, and recovers",
    async () => {
      cluster = await ownCluster();
      // While `gate` is set, the model tells `onCall` it has a request and answers when the gate opens.
      let gate: Promise<void> | undefined;
      let onCall: (() => void) | undefined;
      const fake = startFake(async () => {
        if (gate) {
          onCall?.();
          await gate;
        }
        return reply.text("answer");
      });
      const server = await startServe({ args: ["--base-url", fake.url, "--model", "m", "--sessions", cluster!.url, "--store-timeout", "2s"] });
      const post = (body: unknown) =>
        fetch(`${server.url}/v1/runs`, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });

      expect((await post({ input: "first", session_id: "s1" })).status).toBe(200);
      expect((await readyStatus(server)).status).toBe(200);

      signalPostgres(cluster!, "SIGSTOP");
      frozen = true;
      // Loading the session: the run's 1s timeout is shorter than store_timeout, and bounds it.
      const run = await post({ input: "second", session_id: "s1", timeout: "1s" });
      expect(run.status).toBe(503);
      const runError = (await run.json()) as { error: { message: string } };
      expect(runError.error.message).toBe("the session store did not answer within 1s while loading the session; the run did not start; retry in a moment");
      // A request without a run timeout gets store_timeout.
      const read = await fetch(`${server.url}/v1/sessions/s1`, { signal: AbortSignal.timeout(30_000) });
      expect(read.status).toBe(503);
      expect(((await read.json()) as { error: { message: string } }).error.message).toBe(
        'the session store did not answer within 2s while reading session "s1"; retry in a moment',
      );
      const notReady = await readyStatus(server);
      expect(notReady).toEqual({ status: 503, message: expect.stringMatching(/^not ready: the session store has not answered a probe within 2s/) });
      const readyLine = await server.waitForLog((l) => l["msg"] === "request" && l["route"] === "/readyz" && l["status"] === 503);
      expect(readyLine["error_code"]).toBe("session_store_timeout");

      signalPostgres(cluster!, "SIGCONT");
      frozen = false;
      let ready = await readyStatus(server);
      for (let attempt = 0; attempt < 100 && ready.status !== 200; attempt++) {
        await Bun.sleep(100);
        ready = await readyStatus(server);
      }
      expect(ready.status).toBe(200);

      // Frozen between loading the session and saving the turn: the answer comes back in partial,
      // and the turn, which the client was told may not be saved, is rolled back once the server
      // answers. With Postgres the run is journalled, so the first write that meets the frozen
      // database is the journal's record of the answer, before the turn's save.
      let openGate!: () => void;
      gate = new Promise((resolve) => (openGate = resolve));
      const called = new Promise<void>((resolve) => (onCall = resolve));
      const pending = post({ input: "third", session_id: "s2", timeout: "30s" });
      await called;
      signalPostgres(cluster!, "SIGSTOP");
      frozen = true;
      openGate();
      gate = undefined;
      const unsaved = await pending;
      expect(unsaved.status).toBe(503);
      const unsavedBody = (await unsaved.json()) as { error: { message: string }; partial: { output: string } };
      expect(unsavedBody.error.message).toStartWith("The run's journal could not be written, so it stopped: the run store (postgres://");
      expect(unsavedBody.error.message).toContain("did not write the run's journal within 2s");
      expect(unsavedBody.partial.output).toBe("answer");

      signalPostgres(cluster!, "SIGCONT");
      frozen = false;
      ready = await readyStatus(server);
      for (let attempt = 0; attempt < 100 && ready.status !== 200; attempt++) {
        await Bun.sleep(100);
        ready = await readyStatus(server);
      }
      expect(ready.status).toBe(200);
      expect((await fetch(`${server.url}/v1/sessions/s2`)).status).toBe(404);
      expect((await post({ input: "fourth", session_id: "s1" })).status).toBe(200);
      const session = (await (await fetch(`${server.url}/v1/sessions/s1`)).json()) as { turns: number };
      expect(session.turns).toBe(2);
    },
    120_000,
  );
});
