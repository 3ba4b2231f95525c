/**
 * What runs waiting for approval cost a `skiff serve` process: 10,000 background runs on SQLite,
 * each of which pauses at its first step (every call of its tool needs approval), and the RSS of the
 * process before, while they wait, and after a forced collection. A waiting run is a row with its
 * journal, not something held in memory, so the difference should be what the store's page cache
 * and the garbage of handling 10,000 requests leave. Loopback only; bounded by count and time.
 *
 *   bun bench/waiting-runs.ts [RUNS]     (default 10000; writes results/waiting-runs.json)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, memoryOf, start, startWithPort, waitForOk } from "./proc.ts";
import { benchConfigToml } from "./bench-config.ts";

const root = resolve(import.meta.dir, "..");
const binary = join(root, "dist", "skiff");
const bun = process.execPath;
const runs = Number(process.argv[2] ?? 10_000);
const clients = 64;
const limitMs = 10 * 60_000;
const started = Date.now();

const dir = mkdtempSync(join(tmpdir(), "skiff-waiting-"));
const upstream = await startWithPort([bun, join(root, "bench", "fake-upstream.ts")], { PATH: process.env["PATH"], TOOL_CALLS: "1" });
const up = `http://127.0.0.1:${upstream.port}`;
writeFileSync(
  join(dir, "skiff.toml"),
  benchConfigToml({
    upstream: up,
    sessions: `sqlite:${join(dir, "skiff.db")}`,
    otel: false,
    server: [`max_concurrent = 20000`],
    tools: [`require_approval = ["lookup"]`],
  }),
);
const port = freePort();
const skiff = start([binary, "serve", "--listen", `127.0.0.1:${port}`], { PATH: process.env["PATH"], HOME: dir }, dir);
const base = `http://127.0.0.1:${port}`;

try {
  await waitForOk(`${base}/healthz`);
  const settle = async () => {
    // Let the pacer's collections run and the allocator return what it can.
    await Bun.sleep(2_000);
    return memoryOf(skiff.pid);
  };
  const idle = await settle();
  let next = 0;
  let errors = 0;
  const ids: string[] = [];
  /** Submits runs up to `total` and waits until every one of them has paused. */
  const fill = async (total: number): Promise<number> => {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < total && Date.now() - started < limitMs) {
          next++;
          const res = await fetch(`${base}/v1/runs`, { method: "POST", body: JSON.stringify({ input: `item ${next}`, background: true }) });
          if (res.status !== 202) errors++;
          else ids.push(((await res.json()) as { id: string }).id);
        }
      }),
    );
    let waiting = 0;
    while (Date.now() - started < limitMs) {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      waiting = Number(/skiff_runs_total\{outcome="requires_action"\} (\d+)/.exec(metrics)?.[1] ?? 0);
      if (waiting >= ids.length) break;
      await Bun.sleep(250);
    }
    return waiting;
  };
  // Two rounds: the first pays for what a burst leaves behind once (heap grown, page cache filled);
  // the second's growth is what each waiting run itself keeps.
  await fill(runs / 2);
  const half = await settle();
  const waiting = await fill(runs);
  const whileWaiting = await settle();
  const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
  const result = {
    runs: ids.length,
    errors,
    waiting,
    rss_idle_mib: mib(idle.rss),
    rss_waiting_mib: mib(whileWaiting.rss),
    private_idle_mib: mib(idle.anon),
    private_waiting_mib: mib(whileWaiting.anon),
    private_after_first_half_mib: mib(half.anon),
    /** Growth of private memory over the second half of the runs, per run. */
    bytes_per_waiting_run: Math.round((whileWaiting.anon - half.anon) / Math.max(1, ids.length - runs / 2)),
    peak_rss_mib: mib(whileWaiting.hwm),
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  console.log(JSON.stringify(result));
  writeFileSync(join(root, "bench", "results", "waiting-runs.json"), `${JSON.stringify({ measured: new Date().toISOString(), ...result }, null, 2)}\n`);
} finally {
  await skiff.stop();
  await upstream.stop();
  rmSync(dir, { recursive: true, force: true });
}
