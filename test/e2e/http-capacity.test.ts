import { afterEach, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { outboundCapacity } from "../../src/platform/http-capacity.ts";
import { type FakeOpenAI, reply, startFakeOpenAI } from "../fakes/fake-openai-server.ts";
import { cleanEnv } from "./binary.ts";
import { startServe, stopAllServes } from "./serve-process.ts";

let fake: FakeOpenAI | undefined;

afterEach(async () => {
  await stopAllServes();
  await fake?.stop();
  fake = undefined;
});

function environOf(pid: number): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, "utf8");
  return Object.fromEntries(
    raw
      .split("\0")
      .filter((entry) => entry.includes("="))
      .map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
  );
}

describe("skiff serve outbound HTTP capacity (compiled binary)", () => {
  it("re-executes itself (same PID) with BUN_CONFIG_MAX_HTTP_REQUESTS sized from the open-file limit", async () => {
    const server = await startServe({ args: ["--model", "demo", "--sessions", "memory"] });
    const environ = environOf(server.pid);
    const openFiles = Number(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${server.pid}/limits`, "utf8"))?.[1]);
    expect(Number(environ["BUN_CONFIG_MAX_HTTP_REQUESTS"])).toBe(outboundCapacity(openFiles));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("leaves a value the user set alone", async () => {
    const server = await startServe({ args: ["--model", "demo", "--sessions", "memory"], env: cleanEnv({ BUN_CONFIG_MAX_HTTP_REQUESTS: "300" }) });
    expect(environOf(server.pid)["BUN_CONFIG_MAX_HTTP_REQUESTS"]).toBe("300");
  });

  it("runs far more than 256 model requests at once", async () => {
    let active = 0;
    let peak = 0;
    fake = startFakeOpenAI(async () => {
      active++;
      peak = Math.max(peak, active);
      await Bun.sleep(1_000);
      active--;
      return reply.text("done");
    });
    const server = await startServe({ args: ["--base-url", fake.url, "--model", "m", "--sessions", "memory"] });
    // The client side uses node:http: `bun test` keeps its own fetch at 256 at once whatever the
    // environment says, which would cap this test instead of the server.
    const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    const post = () =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${server.url}/v1/runs`, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
        req.end('{"input":"hi"}');
      });
    const runs = await Promise.all(Array.from({ length: 600 }, post));
    expect(runs.every((status) => status === 200)).toBe(true);
    expect(peak).toBeGreaterThan(256);
  }, 30_000);
});

describe("outboundCapacity", () => {
  it("is 45 % of the open-file limit, within Bun's default and 65,535", () => {
    expect(outboundCapacity(20_000)).toBe(9_000);
    expect(outboundCapacity(1_024)).toBe(460);
    expect(outboundCapacity(100)).toBe(256);
    expect(outboundCapacity(1_000_000)).toBe(65_535);
  });
});
