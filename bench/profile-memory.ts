/**
 * Where the bytes of an in-flight session go. Builds the same runtime and app as `skiff serve`
 * in this process, starts N runs against the fake upstream (real HTTP), and at the moment they
 * all wait on the model or tools takes a JSC heap census: object counts by type, per session.
 *
 *   BUN_CONFIG_MAX_HTTP_REQUESTS=16000 bun bench/profile-memory.ts [N=2000] [--no-otel] [--by-name]
 *
 * `--by-name` counts objects by V8-snapshot type and name instead (closures by function, objects
 * by constructor), to see which function's closures and frames an in-flight session holds.
 */
import { heapStats } from "bun:jsc";
import { join, resolve } from "node:path";
import { loadConfig } from "../src/config/index.ts";
import { runLimits } from "../src/cli/run-limits.ts";
import { createApp } from "../src/server/app.ts";
import { createLogger } from "../src/server/logger.ts";
import { RunTracker } from "../src/server/run-tracker.ts";
import { createMemorySessionStore } from "../src/sessions/memory.ts";
import { buildRuntime } from "../src/wire.ts";
import { startWithPort } from "./proc.ts";

const root = resolve(import.meta.dir, "..");
const sessions = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 2000);
const noOtel = process.argv.includes("--no-otel");

const up = await startWithPort([process.execPath, join(root, "bench", "fake-upstream.ts")], {
  PATH: process.env["PATH"],
  LLM_DELAY_MS: "1500",
  TOOL_DELAY_MS: "1500",
  TOOL_CALLS: "3",
});
const upstream = `http://127.0.0.1:${up.port}`;
const toml = `model = "bench-model"\nbase_url = "${upstream}/v1"\n${noOtel ? "" : `[otel]\nendpoint = "${upstream}"\n`}[[tools.http]]\nname = "lookup"\ndescription = "Looks an item up"\nurl = "${upstream}/tool"\nparameters = { type = "object", properties = { q = { type = "string" } }, required = ["q"] }\n`;
const loaded = loadConfig({ flags: new Map(), env: {}, cwd: "/nonexistent", readFile: (p) => (p === "/cfg.toml" ? toml : undefined), configPath: "/cfg.toml", parseToml: (t) => Bun.TOML.parse(t) });
if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
const config = loaded.value.config;
const runtime = await buildRuntime({ config, secrets: { env: {}, readFile: () => undefined }, metrics: true });
const app = createApp({
  model: runtime.model,
  tools: runtime.tools,
  tracer: runtime.tracer,
  store: createMemorySessionStore(),
  runs: new RunTracker(100_000),
  limits: runLimits(config),
  settings: { maxBodyBytes: 1 << 20, maxTimeoutMs: 600_000, maxHistoryMessages: 200 },
  system: config.system,
  logger: createLogger({ level: "error", format: "json", write: () => {} }),
});

const post = () =>
  app.fetch(new Request("http://skiff/v1/runs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input: "hi" }) }));

/** Live bytes by class name, from a JSC heap snapshot (nodes are [id, size, classIndex, flags, …]). */
const bytesByClass = (): Record<string, number> => {
  const snapshot = Bun.generateHeapSnapshot();
  const out: Record<string, number> = {};
  for (let i = 0; i < snapshot.nodes.length; i += 4) {
    const name = snapshot.nodeClassNames[snapshot.nodes[i + 2]!]!;
    out[name] = (out[name] ?? 0) + snapshot.nodes[i + 1]!;
  }
  return out;
};

/**
 * Live objects by V8-snapshot type and name (closures by function name, objects by constructor),
 * which says which closure or async frame of which function is held: `--by-name`.
 */
const countsByName = (): Record<string, number> => {
  const snapshot = JSON.parse(Bun.generateHeapSnapshot("v8")) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const width = snapshot.snapshot.meta.node_fields.length;
  const types = snapshot.snapshot.meta.node_types[0];
  const out: Record<string, number> = {};
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const key = `${types[snapshot.nodes[i]!]}:${snapshot.strings[snapshot.nodes[i + 1]!]}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
};
const byName = process.argv.includes("--by-name");

const census = () => {
  Bun.gc(true);
  const stats = heapStats();
  const counts = byName ? countsByName() : (stats.objectTypeCounts as Record<string, number>);
  return { heap: stats.heapSize, counts, bytes: byName ? {} : bytesByClass() };
};

await Promise.all(Array.from({ length: 50 }, post)); // warm up every code path
const before = census();
const rssBefore = process.memoryUsage().rss;
const inflight = Promise.all(Array.from({ length: sessions }, post));
await Bun.sleep(Number(process.env["PROFILE_AT_MS"] ?? 2_300)); // default: all runs are waiting on their tools
const during = census();
const rssDuring = process.memoryUsage().rss;
const responses = await inflight;
const failed = responses.filter((r) => r.status !== 200).length;

const rows = Object.entries(during.counts)
  .map(([type, count]) => ({ type, per: (count - (before.counts[type] ?? 0)) / sessions }))
  .filter((row) => row.per >= 0.5)
  .sort((a, b) => b.per - a.per)
  .slice(0, byName ? 80 : 40);
console.log(`sessions ${sessions}${noOtel ? " (no otel)" : ""}, failed ${failed}`);
console.log(`JS heap per session: ${((during.heap - before.heap) / sessions / 1024).toFixed(1)} KiB; RSS per session: ${((rssDuring - rssBefore) / sessions / 1024).toFixed(1)} KiB`);
for (const row of rows) {
  const bytes = ((during.bytes[row.type] ?? 0) - (before.bytes[row.type] ?? 0)) / sessions;
  console.log(`${row.per.toFixed(1).padStart(8)}  ${(bytes / 1024).toFixed(2).padStart(7)} KiB  ${row.type}`);
}
await runtime.shutdown();
await up.stop();
