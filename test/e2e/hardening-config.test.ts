/**
 * Attacks on configuration and start-up, against the compiled binary: secrets in URLs shown by
 * doctor and `config show`, durations past what a timer can wait, what "0" means, a misspelt
 * section, and an MCP server that hangs at start.
 */
import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FakeOpenAI, reply, startFakeOpenAI } from "../fakes/fake-openai-server.ts";
import { isAlive, waitFor } from "../helpers/processes.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { cleanEnv, runSkiff, skiffBinary } from "./binary.ts";

const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-hardening-config-");
let fake: FakeOpenAI | undefined;
let failing: ReturnType<typeof Bun.serve> | undefined;
const leftPids: number[] = [];

beforeAll(async () => {
  await skiffBinary();
}, 120_000);

afterEach(async () => {
  await fake?.stop();
  fake = undefined;
  await failing?.stop(true);
  failing = undefined;
  // A test that failed half-way must not leave its hung server behind.
  for (const pid of leftPids.splice(0)) if (isAlive(pid)) process.kill(pid, "SIGKILL");
  removeTempDirs();
});

/** Writes skiff.toml into a new directory and returns the directory. */
function configDir(toml: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, "skiff.toml"), toml);
  return dir;
}

const secrets = ["PASSWORD", "SECRET", "K2"];
const secretQuery = "token=SECRET&api_key=K2&q=visible";

describe("URLs with credentials (issue 15, item 5)", () => {
  it("skiff doctor shows no password, token or key in any line, and keeps the other parameters", async () => {
    // A service that is up but failing, so its check is a WARN line; 127.0.0.1:1 refuses (FAIL lines).
    failing = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("down", { status: 503 }) });
    const dir = configDir(`
model = "m1"
base_url = "http://user:PASSWORD@127.0.0.1:1/v1?api_key=K2&q=visible"
[[tools.http]]
name = "refused"
description = "x"
url = "http://user:PASSWORD@127.0.0.1:1/x?${secretQuery}"
[[tools.http]]
name = "failing"
description = "x"
url = "http://user:PASSWORD@127.0.0.1:${failing.port}/x?${secretQuery}"
[otel]
endpoint = "http://user:PASSWORD@127.0.0.1:1/?${secretQuery}"
[[mcp]]
name = "remote"
url = "http://user:PASSWORD@127.0.0.1:1/mcp?${secretQuery}"
`);
    const result = await runSkiff(["doctor"], { cwd: dir });
    expect(result.code).toBe(1);
    const lines = (result.stdout + result.stderr).split("\n").filter((line) => line !== "");
    for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
    // Lines read `STATUS  name  detail`, the status padded to 4 characters.
    const lineOf = (name: string) => lines.find((line) => line.slice(6).startsWith(`${name} `)) ?? `(no line for ${name})`;
    expect(lineOf("tool refused")).toStartWith("FAIL");
    expect(lineOf("tool refused")).toContain("http://user:****@127.0.0.1:1/x?token=****&api_key=****&q=visible");
    expect(lineOf("tool failing")).toStartWith("WARN");
    expect(lineOf("tool failing")).toContain(`http://user:****@127.0.0.1:${failing.port}/x?token=****&api_key=****&q=visible answered HEAD with 503`);
    expect(lineOf("model")).toContain("http://user:****@127.0.0.1:1/v1?api_key=****&q=visible");
    expect(lineOf("otlp")).toContain("q=visible");
    expect(lineOf("mcp remote")).toContain("http://user:****@127.0.0.1:1/mcp?token=****&api_key=****&q=visible");
  });

  it("skiff config show hides them too, in top-level keys and in declared tools", async () => {
    const dir = configDir(`
base_url = "http://user:PASSWORD@127.0.0.1:1/v1?api_key=K2&q=visible"
[[tools.http]]
name = "t"
description = "x"
url = "http://user:PASSWORD@127.0.0.1:1/x?${secretQuery}"
`);
    const result = await runSkiff(["config", "show"], { cwd: dir });
    expect(result.code).toBe(0);
    for (const secret of secrets) expect(result.stdout).not.toContain(secret);
    expect(result.stdout).toContain('base_url = "http://user:****@127.0.0.1:1/v1?api_key=****&q=visible"');
    expect(result.stdout).toContain('"url":"http://user:****@127.0.0.1:1/x?token=****&api_key=****&q=visible"');
  });
});

describe("durations (issue 15, item 6)", () => {
  it("refuses SKIFF_TIMEOUT=25d with exit 2, naming the largest accepted value, instead of timing out at once", async () => {
    const result = await runSkiff(["ask", "--model", "demo", "hi"], { env: cleanEnv({ SKIFF_TIMEOUT: "25d" }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("timeout (env SKIFF_TIMEOUT): 25d is longer than the largest accepted duration, 24d");
  });

  it("refuses 30d for llm_timeout, tool_timeout and shutdown_timeout in the file, each with its line", async () => {
    const dir = configDir('llm_timeout = "30d"\ntool_timeout = "30d"\n[server]\nshutdown_timeout = "30d"\n');
    const result = await runSkiff(["config", "check"], { cwd: dir });
    expect(result.code).toBe(2);
    const file = join(dir, "skiff.toml");
    expect(result.stderr).toContain(`llm_timeout (${file}:1): 30d is longer than the largest accepted duration, 24d`);
    expect(result.stderr).toContain(`tool_timeout (${file}:2): 30d is longer than the largest accepted duration, 24d`);
    expect(result.stderr).toContain(`server.shutdown_timeout (${file}:4): 30d is longer than the largest accepted duration, 24d`);
  });

  it("reads llm_timeout = 0 as no limit: a model call is answered, and only the run's timeout ends one that hangs", async () => {
    fake = startFakeOpenAI([reply.text("pong")]);
    const dir = configDir("llm_timeout = 0\n");
    expect((await runSkiff(["config", "show"], { cwd: dir })).stdout).toContain(`llm_timeout = "0"  # ${join(dir, "skiff.toml")}:1`);
    const answered = await runSkiff(["ask", "--base-url", fake.url, "--model", "m", "ping"], { cwd: dir });
    expect(answered.stderr).toBe("");
    expect(answered.code).toBe(0);
    expect(answered.stdout).toBe("pong\n");
    await fake.stop();

    fake = startFakeOpenAI([reply.hang()]);
    const hung = await runSkiff(["ask", "--base-url", fake.url, "--model", "m", "--timeout", "1s", "ping"], { cwd: dir });
    expect(hung.code).toBe(124);
    expect(hung.stderr).toContain("did not finish within its timeout of 1s");
    expect(fake.chatRequests()).toHaveLength(1); // one request, never timed out and retried
  });

  it("refuses 0 where it cannot mean no limit, saying why", async () => {
    const dir = configDir('[server]\nshutdown_timeout = "0"\n');
    const result = await runSkiff(["config", "check"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`server.shutdown_timeout (${join(dir, "skiff.toml")}:2): 0 is not accepted here (`);
    expect(result.stderr).toContain("give a duration from 1ms to 24d");
  });
});

describe("an unknown section (issue 15, item 8)", () => {
  it("is reported at its file and line, with the section it likely meant", async () => {
    const dir = configDir('model = "demo"\n\n[sever]\nlisten = "127.0.0.1:9"\n');
    const result = await runSkiff(["config", "check"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`sever (${join(dir, "skiff.toml")}:3): unknown section [sever]; did you mean [server]?`);
    expect(result.stderr).not.toContain("(default)");
  });
});

describe("an MCP server that hangs at start (issue 15, item 8)", () => {
  it("is named with its phase and start_timeout, exits 2, and the hung process is gone", async () => {
    const dir = tempDir();
    const pidFile = join(dir, "pid");
    writeFileSync(
      join(dir, "skiff.toml"),
      `model = "demo"\n[[mcp]]\nname = "files"\ncommand = ["sh", "-c", "echo $$ > ${pidFile}; exec sleep 60"]\nstart_timeout = "1s"\n`,
    );
    const result = await runSkiff(["ask", "hi"], { cwd: dir });
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : undefined;
    if (pid !== undefined) leftPids.push(pid);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'mcp[files]: MCP server "files" did not answer initialize within start_timeout 1s; check that the command starts an MCP server on stdio',
    );
    expect(pid).toBeNumber();
    await waitFor(() => !isAlive(pid!), 5000, "the hung MCP server to be gone");

    // skiff doctor reports the same, as one FAIL line, and stops it too.
    const doctor = await runSkiff(["doctor"], { cwd: dir });
    const doctorPid = Number(readFileSync(pidFile, "utf8"));
    leftPids.push(doctorPid);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/FAIL {2}mcp files {2}MCP server "files" did not answer initialize within start_timeout 1s/);
    await waitFor(() => !isAlive(doctorPid), 5000, "the hung MCP server of doctor to be gone");
  });
});
