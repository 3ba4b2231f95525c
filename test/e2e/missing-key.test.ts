/**
 * A missing API key is said first, before any connection (issue 20, item 4): with no key and a
 * public endpoint, `ask`, `chat` and `doctor` name the missing key and where one is looked for,
 * instead of a DNS or connection error. To prove nothing goes out, every run has HTTPS_PROXY set
 * to a listener on 127.0.0.1 that counts connections: a request to api.openai.com would go to it
 * (the control run with a key shows it does), so none reaches the network either way.
 */
import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { type HangUpListener, startHangUpListener as startTrap } from "../helpers/hang-up-listener.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { runSkiff, skiffBinary } from "./binary.ts";
import { startServe, stopAllServes } from "./serve-process.ts";

const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-missing-key-");
/** A proxy that is not one: it counts connections and closes each at once. */
let trap: HangUpListener | undefined;

beforeAll(async () => {
  await skiffBinary();
}, 120_000);

afterEach(async () => {
  await stopAllServes();
  trap?.stop();
  trap = undefined;
  removeTempDirs();
});

/** Nothing but the proxy: no PATH, no HOME, no OPENAI_* or SKIFF_* variables. */
function emptyEnv(extra: Record<string, string> = {}): Record<string, string> {
  const proxy = trap!.url;
  return { HTTPS_PROXY: proxy, HTTP_PROXY: proxy, ...extra };
}

const keyError =
  "skiff: config error: api_key_file: no API key is set for https://api.openai.com/v1: skiff reads it from api_key_file " +
  "(--api-key-file, SKIFF_API_KEY_FILE or skiff.toml), else from the OPENAI_API_KEY environment variable, and neither is set; " +
  "set one, or point base_url at a local server (e.g. http://127.0.0.1:11434/v1), which needs no key\n";

describe("no API key and the default endpoint", () => {
  it("ask says so with exit 2 and connects nowhere; with a key the same run does connect", async () => {
    trap = startTrap();
    const cwd = tempDir();
    const ask = await runSkiff(["ask", "what is 6*7?"], { cwd, env: emptyEnv() });
    expect({ code: ask.code, stdout: ask.stdout, stderr: ask.stderr }).toEqual({ code: 2, stdout: "", stderr: keyError });
    expect(trap.connections()).toBe(0);

    const withKey = await runSkiff(["ask", "--retries", "0", "what is 6*7?"], { cwd, env: emptyEnv({ OPENAI_API_KEY: "sk-test" }) });
    expect(withKey.code).toBe(1);
    expect(trap.connections()).toBe(1);
  });

  it("chat says so before reading a line", async () => {
    trap = startTrap();
    const chat = await runSkiff(["chat"], { cwd: tempDir(), env: emptyEnv(), stdin: "what is 6*7?\n" });
    expect({ code: chat.code, stdout: chat.stdout, stderr: chat.stderr }).toEqual({ code: 2, stdout: "", stderr: keyError });
    expect(trap.connections()).toBe(0);
  });

  it("doctor fails the model check with where a key is looked for, and probes nothing", async () => {
    trap = startTrap();
    const doctor = await runSkiff(["doctor"], { cwd: tempDir(), env: emptyEnv() });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(
      "FAIL  model   no API key is set for https://api.openai.com/v1: looked in api_key_file (--api-key-file, SKIFF_API_KEY_FILE or skiff.toml), " +
        "then the OPENAI_API_KEY environment variable, and neither is set — fix: set one (export OPENAI_API_KEY=sk-…), or point base_url at a local server",
    );
    expect(trap.connections()).toBe(0);
  });

  it("a local endpoint needs no key: ask goes ahead and connects", async () => {
    trap = startTrap();
    const ask = await runSkiff(["ask", "--retries", "0", "--base-url", `${trap.url}/v1`, "hi"], { cwd: tempDir(), env: emptyEnv() });
    expect(ask.code).toBe(1);
    expect(ask.stderr).not.toContain("no API key");
    expect(trap.connections()).toBe(1);
  });

  it("serve starts (its readiness does not depend on the key) and logs the missing key once", async () => {
    trap = startTrap();
    const server = await startServe({ args: ["--sessions", "memory"], cwd: tempDir(), env: emptyEnv() });
    const warning = await server.waitForLog((line) => typeof line["msg"] === "string" && line["msg"].includes("no API key is set"));
    expect(warning["level"]).toBe("warn");
    expect(String(warning["msg"])).toEndWith("which needs no key; runs will fail until one is set");
    await server.stop();
    expect(trap.connections()).toBe(0);
  });
});
