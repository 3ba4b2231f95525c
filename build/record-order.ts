/**
 * Records the bytecode-order profiles that build.sh lays the executable's bytecode out by
 * (`bun build --bytecode-order`, docs/build.md): the functions each common start of skiff loads,
 * so that they sit together at the front of the embedded bytecode and a start reads less of the
 * file. Run it after changes that move start-up code around; an old profile still applies (Bun
 * matches functions by a hash of their syntax), it just covers less.
 *
 *   node_modules/.bin/bun build/record-order.ts
 *
 * Builds dist/skiff without profiles, then records, offline on the demo model:
 *   build/serve.order  `skiff serve` started, one run with tool calls (JSON and event stream),
 *                      the runs list, then SIGTERM; the service is what skiff is deployed as.
 *   build/ask.order    `skiff ask --model demo` with the README's question.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const binary = join(root, "dist", "skiff");
const question = "What time is it in Tokyo and in Paris, and what is 17*23?";

function run(command: string[], env: Record<string, string> = {}): void {
  const result = Bun.spawnSync(command, { cwd: root, env: { ...process.env, ...env }, stdout: "ignore", stderr: "inherit" });
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} exited with ${result.exitCode}`);
}

/** Starts serve, waits for its listening line, drives a few requests, stops it with SIGTERM. */
async function recordServe(out: string): Promise<void> {
  const server = Bun.spawn([binary, "serve", "--model", "demo", "--listen", "127.0.0.1:0", "--sessions", "memory"], {
    cwd: root,
    env: { ...process.env, BUN_BYTECODE_ORDER_OUT: out },
    stdout: "ignore",
    stderr: "pipe",
  });
  const url = await listeningUrl(server.stderr);
  const body = (stream: boolean) => JSON.stringify({ input: question, stream });
  for (const stream of [false, true]) {
    const response = await fetch(`${url}/v1/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: body(stream) });
    if (!response.ok) throw new Error(`POST /v1/runs answered ${response.status}: ${await response.text()}`);
    await response.text();
  }
  const list = await fetch(`${url}/v1/runs`);
  if (!list.ok) throw new Error(`GET /v1/runs answered ${list.status}`);
  await list.text();
  server.kill("SIGTERM");
  const code = await server.exited;
  if (code !== 0) throw new Error(`skiff serve exited with ${code} after SIGTERM`);
}

/** Reads log lines until the `listening` one and returns its url. */
async function listeningUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stderr) {
    text += decoder.decode(chunk, { stream: true });
    for (const line of text.split("\n")) {
      if (!line.includes('"listening"')) continue;
      const { url } = JSON.parse(line) as { url: string };
      return url.replace(/\/$/, "");
    }
  }
  throw new Error(`skiff serve stopped before listening:\n${text}`);
}

const serveOrder = join(root, "build", "serve.order");
const askOrder = join(root, "build", "ask.order");
// A profile describes a build without one: recording with a laid-out binary would be just as valid,
// but starting from none keeps the result independent of the last profile.
run(["./build.sh", "--no-bytecode-order"]);
rmSync(serveOrder, { force: true });
rmSync(askOrder, { force: true });
await recordServe(serveOrder);
run([binary, "ask", "--model", "demo", question], { BUN_BYTECODE_ORDER_OUT: askOrder });
console.log(`recorded ${serveOrder} and ${askOrder}; ./build.sh uses them`);
