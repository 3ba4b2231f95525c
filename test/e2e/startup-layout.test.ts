/**
 * The executable's bytecode is laid out by the profiles in build/ (build.sh, --bytecode-order):
 * a serve start must load mostly functions the profile knows. When this fails after a large
 * change, record the profiles again: `node_modules/.bin/bun build/record-order.ts`.
 */
import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { skiffBinary } from "./binary.ts";
import { startServe, stopAllServes } from "./serve-process.ts";

beforeAll(async () => {
  await skiffBinary();
}, 120_000);

afterEach(async () => {
  await stopAllServes();
});

describe("the bytecode layout of the built binary", () => {
  it("is profile-guided, and the profiles still cover what serve loads", async () => {
    const server = await startServe({ args: ["--model", "demo", "--sessions", "memory", "--log-level", "debug"] });
    const line = await server.waitForLog((entry) => entry["msg"] === "bytecode layout");
    const hot = Number(line["hot"]);
    const unknown = Number(line["unknown"]);
    const cold = Number(line["cold"]);
    // Hundreds of functions load before the server listens; all of them were in the recorded run.
    expect(hot).toBeGreaterThan(500);
    const share = unknown / (hot + unknown + cold);
    if (share >= 0.25) {
      throw new Error(`${(share * 100).toFixed(0)}% of the functions serve loaded are unknown to build/serve.order: record the profiles again (bun build/record-order.ts)`);
    }
    expect(await server.stop("SIGTERM")).toBe(0);
  }, 60_000);
});
