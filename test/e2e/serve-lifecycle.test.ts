import { Database } from "bun:sqlite";
import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { existsSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeOpenAIs, reply } from "../fakes/fake-openai-server.ts";
import { hiddenRootOf } from "../../src/cli/systemd-quote.ts";
import { parseSse } from "../server/helpers.ts";
import { cleanEnv, projectRoot, runSkiff, skiffBinary } from "./binary.ts";
import { startServe, stopAllServes } from "./serve-process.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";

const { start: fake, stopAll: stopFakes } = createFakeOpenAIs();
const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-lifecycle-");
/** Generous: a 2-core machine runs other test files at the same time. */
const slow = 60_000;

beforeAll(async () => {
  await skiffBinary();
}, 120_000);

afterEach(async () => {
  await stopAllServes();
  await stopFakes();
  removeTempDirs();
});

const post = (url: string, body: unknown) => fetch(`${url}/v1/runs`, { method: "POST", body: JSON.stringify(body) });

describe("skiff serve lifecycle (compiled binary)", () => {
  it("keeps SQLite sessions across a restart", async () => {
    const db = join(tempDir(), "sessions.db");
    const args = ["--model", "demo", "--sessions", `sqlite:${db}`];
    const first = await startServe({ args });
    expect((await post(first.url, { input: "what is 1+1?", session_id: "keep" })).status).toBe(200);
    expect(await first.stop("SIGTERM")).toBe(0);

    const second = await startServe({ args });
    const before = (await (await fetch(`${second.url}/v1/sessions/keep`)).json()) as { turns: number; messages: unknown[] };
    expect(before.turns).toBe(1);
    expect(before.messages).toHaveLength(4);
    expect((await post(second.url, { input: "what is 2+2?", session_id: "keep" })).status).toBe(200);
    const after = (await (await fetch(`${second.url}/v1/sessions/keep`)).json()) as { turns: number; messages: unknown[] };
    expect(after.turns).toBe(2);
    expect(after.messages).toHaveLength(8);
  }, slow);

  it("puts the database under $STATE_DIRECTORY by default", async () => {
    const state = tempDir();
    const server = await startServe({ args: ["--model", "demo"], env: cleanEnv({ STATE_DIRECTORY: state }) });
    expect(server.logs.find((l) => l["msg"] === "listening")?.["sessions"]).toBe(`sqlite:${join(state, "skiff.db")}`);
    expect((await post(server.url, { input: "hi", session_id: "x" })).status).toBe(200);
    expect(await server.stop()).toBe(0);
    expect(existsSync(join(state, "skiff.db"))).toBe(true);
  }, slow);

  it("leaves the store readable and without a partial turn after kill -9 in the middle of a run", async () => {
    const db = join(tempDir(), "sessions.db");
    const model = fake([reply.text("first answer"), reply.toolCalls([{ name: "calc", arguments: '{"expression":"1+1"}' }]), reply.hang()]);
    const args = ["--base-url", model.url, "--model", "m", "--tools", "calc", "--sessions", `sqlite:${db}`];
    const server = await startServe({ args });
    expect((await post(server.url, { input: "one", session_id: "crash" })).status).toBe(200);
    const pending = post(server.url, { input: "two", session_id: "crash" }).catch(() => "connection lost");
    // The second turn has run its tool and waits for the model: kill it there.
    while (model.chatRequests().length < 3) await Bun.sleep(20);
    expect(await server.stop("SIGKILL")).not.toBe(0);
    expect(await pending).toBe("connection lost");

    const file = new Database(db, { readonly: true });
    expect(file.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    expect(file.query("SELECT version FROM sessions WHERE id = 'crash'").get()).toEqual({ version: 1 });
    expect(file.query("SELECT role FROM messages WHERE session_id = 'crash' ORDER BY seq").all()).toEqual([{ role: "user" }, { role: "assistant" }]);
    file.close();

    const restarted = await startServe({ args: ["--model", "demo", "--sessions", `sqlite:${db}`] });
    const session = (await (await fetch(`${restarted.url}/v1/sessions/crash`)).json()) as { messages: { content: string }[] };
    expect(session.messages.map((m) => m.content)).toEqual(["one", "first answer"]);
  }, slow);

  it("on SIGTERM stops accepting, lets in-flight runs finish, and exits 0", async () => {
    const model = fake(() => reply.text("finished", { delayMs: 1_500 }));
    const server = await startServe({ args: ["--base-url", model.url, "--model", "m", "--sessions", "memory"] });
    const runs = Array.from({ length: 5 }, () => post(server.url, { input: "hi" }));
    const streamed = fetch(`${server.url}/v1/runs`, { method: "POST", body: '{"input":"hi","stream":true}' }).then((r) => r.text());
    while (model.chatRequests().length < 6) await Bun.sleep(20);
    const stopped = server.stop("SIGTERM");
    await server.waitForLog((l) => l["msg"] === "shutting down");
    const refused = await fetch(`${server.url}/healthz`).then(
      (r) => r.status,
      () => "refused",
    );
    expect(refused).toBe("refused");
    const statuses = await Promise.all(runs.map(async (r) => (await r).status));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(parseSse(await streamed).at(-1)!.event).toBe("run.completed");
    expect(await stopped).toBe(0);
    expect(server.logs.at(-1)).toMatchObject({ msg: "stopped" });
    expect(server.logs.some((l) => l["msg"] === "aborting runs still in flight")).toBe(false);
  }, slow);

  it("on SIGTERM aborts runs still going after shutdown_timeout with a clear error, and exits 0", async () => {
    const model = fake([reply.hang(), reply.hang()]);
    const server = await startServe({ args: ["--base-url", model.url, "--model", "m", "--sessions", "memory", "--shutdown-timeout", "500ms"] });
    const plain = post(server.url, { input: "hi" });
    const streamed = fetch(`${server.url}/v1/runs`, { method: "POST", body: '{"input":"hi","stream":true}' }).then((r) => r.text());
    while (model.chatRequests().length < 2) await Bun.sleep(20);
    const started = performance.now();
    const code = await server.stop("SIGTERM");
    expect(code).toBe(0);
    expect(performance.now() - started).toBeLessThan(15_000);
    const res = await plain;
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { type: string; message: string }; partial: { steps: unknown[] } };
    expect(body.error.type).toBe("service_unavailable");
    expect(body.error.message).toMatch(/The run was cancelled: the server is shutting down/);
    expect(Array.isArray(body.partial.steps)).toBe(true);
    const last = parseSse(await streamed).at(-1)!;
    expect(last.event).toBe("run.failed");
    expect(JSON.parse(last.data).error.type).toBe("service_unavailable");
    expect(server.logs.some((l) => l["msg"] === "aborting runs still in flight")).toBe(true);
  }, slow);

  it("chat --session keeps the conversation in ./skiff.db across runs, shared with serve", async () => {
    const dir = tempDir();
    const first = await runSkiff(["chat", "--model", "demo", "--session", "work"], { cwd: dir, stdin: "what is 2+3?\n" });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe("2+3 = 5.\n");
    const second = await runSkiff(["chat", "--model", "demo", "--session", "work"], { cwd: dir, stdin: "and 4*5?\n" });
    expect(second.stderr).toContain("(continuing the session: 4 messages)");
    expect(second.stdout).toBe("4*5 = 20.\n");
    const server = await startServe({ args: ["--model", "demo"], cwd: dir });
    const session = (await (await fetch(`${server.url}/v1/sessions/work`)).json()) as { turns: number };
    expect(session.turns).toBe(2);
    const bad = await runSkiff(["chat", "--model", "demo", "--session", "no/slashes"], { cwd: dir, stdin: "" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--session "no/slashes" is not a valid session id');
  }, slow);

  it("prints a systemd unit that systemd-analyze verify accepts", async () => {
    // Paths under /tmp or /home would be hidden from the service, so the config lives in the project's
    // .tmp/ — or, when the checkout itself is under such a path (a CI clone in /tmp), in /opt, with a
    // link to the binary there, as an install would put it.
    const hiddenCheckout = hiddenRootOf(projectRoot) !== undefined;
    const dir = tempDir({ parent: hiddenCheckout ? "/opt" : join(projectRoot, ".tmp") });
    const binary = hiddenCheckout ? join(dir, "skiff") : await skiffBinary();
    if (hiddenCheckout) symlinkSync(await skiffBinary(), binary);
    writeFileSync(join(dir, "token"), "0123456789abcdef0123456789abcdef\n");
    writeFileSync(join(dir, "openai.key"), "sk-test\n");
    writeFileSync(
      join(dir, "config.toml"),
      `model = "gpt-4.1-mini"\napi_key_file = "${join(dir, "openai.key")}"\n[server]\nlisten = "0.0.0.0:8080"\nauth_token_file = "${join(dir, "token")}"\nshutdown_timeout = "20s"\n`,
    );
    const binaryFlag = hiddenCheckout ? ["--binary", binary] : [];
    const result = await runSkiff(
      ["systemd", ...binaryFlag, "--config", join(dir, "config.toml"), "--max-steps", "4", "--system", "You are 100% helpful"],
      { cwd: dir },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const unit = result.stdout;
    expect(unit).toContain(
      `ExecStart=${binary} serve --config ${join(dir, "config.toml")} --max-steps 4 --system "You are 100%% helpful" ` +
        "--api-key-file ${CREDENTIALS_DIRECTORY}/api_key --auth-token-file ${CREDENTIALS_DIRECTORY}/auth_token",
    );
    expect(unit).toContain(`LoadCredential=auth_token:${join(dir, "token")}`);
    expect(unit).toContain("TimeoutStopSec=35s");
    expect(unit).not.toContain("0123456789abcdef0123456789abcdef");
    expect(unit).not.toContain("sk-test");

    const analyze = Bun.which("systemd-analyze");
    if (analyze === null) {
      console.log("systemd-analyze is not installed: skipping `systemd-analyze verify`");
      return;
    }
    const unitPath = join(dir, "skiff.service");
    writeFileSync(unitPath, unit);
    const verify = Bun.spawnSync([analyze, "verify", unitPath], { stdout: "pipe", stderr: "pipe" });
    expect(`${verify.stdout.toString()}${verify.stderr.toString()}`).toBe("");
    expect(verify.exitCode).toBe(0);
  }, slow);

  it("systemd refuses a binary the unit's sandbox would hide", async () => {
    const result = await runSkiff(["systemd", "--binary", "/home/me/skiff"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ProtectHome=\/PrivateTmp= hide it|hide from the service/);
  }, slow);
});
