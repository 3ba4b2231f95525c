/**
 * A separate process claiming runs from a SQLite file until none is left, for the cross-process
 * claim race in run-stores.test.ts. Prints the claimed ids as JSON on stdout.
 *   bun test/runs/claim-worker.ts PATH OWNER
 */
import { createSqliteRunStore } from "../../src/runs/sqlite-runs.ts";

const [path, owner] = process.argv.slice(2);
if (!path || !owner) throw new Error("usage: claim-worker.ts PATH OWNER");
const store = createSqliteRunStore(path);
const claimed: string[] = [];
// Bounded: each round claims at least one run until the file has none left.
for (let round = 0; round < 1_000; round++) {
  const runs = await store.claim(owner, 600_000, 2);
  if (runs.length === 0) break;
  claimed.push(...runs.map((run) => run.id));
  for (const run of runs) await store.append(run.id, owner, [{ type: "claimed", data: JSON.stringify({ owner }) }]);
}
await store.close();
console.log(JSON.stringify(claimed));
