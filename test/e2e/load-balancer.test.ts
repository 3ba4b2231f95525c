/**
 * docs/scale.md as a test: two `dist/skiff serve` replicas on one Postgres behind the nginx and
 * HAProxy configs of examples/scale/ (run as written, ports substituted), under steady traffic,
 * through a rolling restart with drain. Not one request may fail, and every session must hold
 * exactly the turns its client was told were saved. Skips a balancer that is not installed
 * (apt-get install nginx-light haproxy).
 */
import type { Subprocess } from "bun";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeOpenAI, reply, startFakeOpenAI } from "../fakes/fake-openai-server.ts";
import { dropDatabases, freshDatabase, testPostgres } from "../helpers/postgres.ts";
import { projectRoot, skiffBinary } from "./binary.ts";
import { type ServeProcess, startServe, stopAllServes } from "./serve-process.ts";

const pg = await testPostgres();
const nginx = Bun.which("nginx") ?? Bun.which("/usr/sbin/nginx");
const haproxy = Bun.which("haproxy") ?? Bun.which("/usr/sbin/haproxy");
/** Why each balancer's test cannot run here (undefined: it runs); printed, and shown in the test's name. */
const skipped = {
  nginx: nginx ? undefined : "nginx is not installed; apt-get install nginx-light (.ci/run does)",
  haproxy: haproxy ? undefined : "HAProxy is not installed; apt-get install haproxy (.ci/run does)",
};
for (const why of Object.values(skipped)) if (pg && why) console.warn(`load-balancer.test.ts: skipping a test: ${why}`);
const skipNote = (why: string | undefined) => (why ? ` [skipped: ${why}]` : "");
const cleanups: (() => void | Promise<void>)[] = [];

beforeAll(async () => {
  if (pg && (nginx || haproxy)) await skiffBinary();
}, 120_000);
afterEach(async () => {
  await stopAllServes();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => dropDatabases(pg));

async function freePort(): Promise<number> {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "skiff-lb-"));
  // nginx workers run as nobody when the test runs as root.
  chmodSync(dir, 0o777);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The example config with the documented ports (8080 front, 8081/8082 replicas) replaced. */
function exampleConfig(name: string, ports: { front: number; a: number; b: number }): string {
  return readFileSync(join(projectRoot, "examples/scale", name), "utf8")
    .replaceAll("127.0.0.1:8080", `127.0.0.1:${ports.front}`)
    .replaceAll("127.0.0.1:8081", `127.0.0.1:${ports.a}`)
    .replaceAll("127.0.0.1:8082", `127.0.0.1:${ports.b}`);
}

let nginxDir = "";
function startNginx(ports: { front: number; a: number; b: number }): Subprocess {
  const dir = tempDir();
  nginxDir = dir;
  writeFileSync(join(dir, "skiff.conf"), exampleConfig("nginx-skiff.conf", ports));
  writeFileSync(
    join(dir, "nginx.conf"),
    `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\nevents { worker_connections 1024; }\n` +
      `http {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  include ${dir}/skiff.conf;\n}\n`,
  );
  return spawnBalancer([nginx!, "-e", join(dir, "error.log"), "-p", dir, "-c", join(dir, "nginx.conf")]);
}

function startHaproxy(ports: { front: number; a: number; b: number }): Subprocess {
  const dir = tempDir();
  writeFileSync(join(dir, "haproxy.cfg"), exampleConfig("haproxy.cfg", ports));
  return spawnBalancer([haproxy!, "-db", "-f", join(dir, "haproxy.cfg")]);
}

function spawnBalancer(argv: string[]): Subprocess {
  const proc = Bun.spawn(argv, { stdout: "ignore", stderr: "pipe" });
  cleanups.push(async () => {
    // SIGTERM, not SIGKILL: nginx's master stops its workers on the way out; killed, it would
    // leave them running, holding the port.
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
    await proc.exited;
    clearTimeout(timer);
  });
  return proc;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check().valueOf())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** Clients that each keep one session going, turn after turn, until stopped; counts every outcome. */
function steadyTraffic(front: string, clients: number) {
  const statuses = new Map<number | string, number>();
  const saved = new Map<string, number>();
  let running = true;
  const workers = Array.from({ length: clients }, async (_, i) => {
    const id = `client-${i}`;
    for (let turn = 1; running; turn++) {
      let status: number | string;
      try {
        const res = await fetch(`${front}/v1/runs`, { method: "POST", body: JSON.stringify({ input: `turn ${turn}`, session_id: id }) });
        status = res.status;
        await res.arrayBuffer();
      } catch (error) {
        status = error instanceof Error ? error.message : String(error);
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status === 200) saved.set(id, (saved.get(id) ?? 0) + 1);
      else await Bun.sleep(10);
    }
  });
  return {
    statuses,
    saved,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** SIGTERM (drain), wait for exit 0, start again on the same port, wait until ready. */
async function restart(server: ServeProcess, args: string[], port: number): Promise<ServeProcess> {
  expect(await server.stop("SIGTERM")).toBe(0);
  const next = await startServe({ args: [...args, "--listen", `127.0.0.1:${port}`] });
  await until(async () => (await fetch(`${next.url}/readyz`)).status === 200, "the restarted replica to be ready");
  return next;
}

async function rollingRestart(balancer: "nginx" | "haproxy"): Promise<void> {
  const url = await freshDatabase(pg!);
  const llm: FakeOpenAI = startFakeOpenAI((request) => reply.text(`re: ${(request.body?.["messages"] as { content: string }[]).at(-1)!.content}`, { delayMs: 50 }));
  cleanups.push(() => llm.stop());
  const ports = { front: await freePort(), a: await freePort(), b: await freePort() };
  // Every turn stays in the history, so the test can count them.
  const args = ["--base-url", llm.url, "--model", "m", "--sessions", url, "--max-history-messages", "100000"];
  let a = await startServe({ args: [...args, "--listen", `127.0.0.1:${ports.a}`] });
  let b = await startServe({ args: [...args, "--listen", `127.0.0.1:${ports.b}`] });
  const lb = balancer === "nginx" ? startNginx(ports) : startHaproxy(ports);
  const front = `http://127.0.0.1:${ports.front}`;
  await until(async () => (await fetch(`${front}/readyz`).catch(() => undefined))?.status === 200, `${balancer} to serve`).catch(async (error: unknown) => {
    lb.kill();
    throw new Error(`${String(error)}: ${await new Response(lb.stderr as ReadableStream).text()}`);
  });
  // HAProxy takes a replica in after `rise` good checks, nginx after fail_timeout: the wait the
  // rolling restart procedure of docs/scale.md prescribes before the next replica.
  // (HAProxy: rise 2 × inter 1s; nginx: fail_timeout 2s.)
  const backInRotation = () => Bun.sleep(2_500);

  const traffic = steadyTraffic(front, 8);
  await Bun.sleep(500);
  a = await restart(a, args, ports.a);
  await backInRotation();
  b = await restart(b, args, ports.b);
  await backInRotation();
  // Long enough for the restarted B to take a share of the traffic.
  await Bun.sleep(1_000);
  await traffic.stop();

  const served = (server: ServeProcess) => server.logs.filter((l) => l["msg"] === "request" && l["route"] === "/v1/runs" && l["status"] === 200).length;
  console.log(`${balancer}: ${JSON.stringify(Object.fromEntries(traffic.statuses))} (new A served ${served(a)}, new B ${served(b)})`);
  if (traffic.statuses.size !== 1) {
    console.log(JSON.stringify([...a.logs, ...b.logs].filter((l) => l["status"] !== 200 && l["route"] !== "/readyz")));
    if (balancer === "nginx") writeFileSync("/tmp/nginx-fail.log", readFileSync(join(nginxDir, "error.log"), "utf8"));
  }
  expect([...traffic.statuses.keys()]).toEqual([200]);
  expect(served(a)).toBeGreaterThan(0);
  expect(served(b)).toBeGreaterThan(0);
  // Every turn a client was told was saved is stored, once: no turn lost, none run twice.
  for (const [id, count] of traffic.saved) {
    const session = (await (await fetch(`${front}/v1/sessions/${id}`)).json()) as { turns: number; messages: { content: string }[] };
    expect(session.turns).toBe(count);
    expect(session.messages.filter((_, i) => i % 2 === 0).map((m) => m.content)).toEqual(Array.from({ length: count }, (_, i) => `turn ${i + 1}`));
  }
  expect(lb.exitCode).toBeNull();
}

describe.skipIf(!pg)(`a rolling restart behind a load balancer (docs/scale.md)${skipNote(pg ? undefined : "no PostgreSQL server; see the message above")}`, () => {
  it.skipIf(!nginx)(`loses no request and no turn behind nginx${skipNote(skipped.nginx)}`, () => rollingRestart("nginx"), 60_000);
  it.skipIf(!haproxy)(`loses no request and no turn behind HAProxy${skipNote(skipped.haproxy)}`, () => rollingRestart("haproxy"), 60_000);
});
