/**
 * `skiff runs list|show|cancel`: the durable runs of the configured store, for operators. It reads
 * the same rows any replica serves, so it works with no server running (a cancel of a run that a
 * replica executes is noticed by that replica within half a second).
 */
import { UsageError } from "../errors.ts";
import { runStatuses, type RunRecord, type RunStatus, type RunStore } from "../runs/run-store.ts";
import { eventData } from "../runs/journal-codec.ts";
import type { Terminal } from "./io.ts";

/** What `skiff runs` needs from the outside. */
export interface RunsCommandOptions {
  readonly sub: string | undefined;
  readonly args: readonly string[];
  readonly json: boolean;
  readonly status: string | undefined;
  readonly limit: string | undefined;
  readonly terminal: Terminal;
  readonly openStore: () => Promise<RunStore>;
}

const usage = "skiff runs list [--status S] [--limit N] [--json] | skiff runs show ID [--json] | skiff runs cancel ID";

/** Runs the subcommand; returns the exit code (an unknown id is 1, like a failed lookup). */
export async function runsCommand(options: RunsCommandOptions): Promise<number> {
  const { sub, args, terminal } = options;
  if (sub === undefined) throw new UsageError(`which one? ${usage}`);
  if (!["list", "show", "cancel"].includes(sub)) throw new UsageError(`unknown subcommand "runs ${sub}"; ${usage}`);
  if (sub === "list" && args.length > 0) throw new UsageError(`runs list takes no arguments; ${usage}`);
  if (sub !== "list" && args.length !== 1) throw new UsageError(`runs ${sub} takes one run id; ${usage}`);
  const status = parseStatus(options.status);
  const limit = parseLimit(options.limit);
  const store = await options.openStore();
  try {
    if (sub === "list") {
      const runs = await store.list({ limit, ...(status === undefined ? {} : { status }) });
      if (options.json) for (const run of runs) terminal.out(`${JSON.stringify(summary(run))}\n`);
      else terminal.out(table(runs));
      return 0;
    }
    const id = args[0]!;
    if (sub === "show") {
      const run = await store.get(id);
      if (!run) return notFound(id, terminal);
      terminal.out(options.json ? `${JSON.stringify(detail(run), null, 2)}\n` : describe(run));
      return 0;
    }
    const body = { id, status: "cancelled", error: { type: "cancelled", message: "The run was cancelled with skiff runs cancel.", param: null } };
    const run = await store.requestCancel(id, JSON.stringify(body), [{ type: "run.cancelled", data: eventData("run.cancelled", body) }]);
    if (!run) return notFound(id, terminal);
    terminal.out(
      run.status === "cancelled"
        ? `run ${id}: cancelled\n`
        : run.cancelRequested
          ? `run ${id}: cancel requested; the replica running it stops it within half a second\n`
          : `run ${id}: already ${run.status}; nothing to cancel\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

function parseStatus(value: string | undefined): RunStatus | undefined {
  if (value === undefined) return undefined;
  if (!(runStatuses as readonly string[]).includes(value)) throw new UsageError(`--status "${value}" is not a run status; use one of ${runStatuses.join(", ")}`);
  return value as RunStatus;
}

function parseLimit(value: string | undefined): number {
  if (value === undefined) return 50;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError(`--limit "${value}" must be a whole number from 1 to 10000`);
  return limit;
}

function notFound(id: string, terminal: Terminal): number {
  terminal.err(`skiff: no run "${id}" in this store (it may have been removed by server.runs_retention, or be kept in another store: check --sessions)\n`);
  return 1;
}

function summary(run: RunRecord) {
  return {
    id: run.id,
    status: run.status,
    background: run.background,
    session_id: run.sessionId ?? null,
    created_at: new Date(run.createdAt).toISOString(),
    updated_at: new Date(run.updatedAt).toISOString(),
    attempt: run.attempt,
    owner: run.owner ?? null,
    cancel_requested: run.cancelRequested,
    events: run.lastSeq,
  };
}

function detail(run: RunRecord) {
  return { ...summary(run), trace_id: run.traceId ?? null, result: run.result === undefined ? null : (JSON.parse(run.result) as unknown) };
}

function table(runs: readonly RunRecord[]): string {
  if (runs.length === 0) return "no runs\n";
  const rows = runs.map((run) => [run.id, run.status, new Date(run.createdAt).toISOString(), String(run.attempt), run.owner ?? "-", run.sessionId ?? "-"]);
  const head = ["ID", "STATUS", "CREATED", "ATTEMPT", "REPLICA", "SESSION"];
  const widths = head.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]) => `${cells.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()}\n`;
  return line(head) + rows.map(line).join("");
}

function describe(run: RunRecord): string {
  const lines = [
    `id          ${run.id}`,
    `status      ${run.status}${run.cancelRequested && run.status !== "cancelled" ? " (cancel requested)" : ""}`,
    `background  ${run.background}`,
    `session     ${run.sessionId ?? "-"}`,
    `created     ${new Date(run.createdAt).toISOString()}`,
    `updated     ${new Date(run.updatedAt).toISOString()}`,
    `attempt     ${run.attempt}`,
    `replica     ${run.owner ?? "-"}`,
    `trace       ${run.traceId ?? "-"}`,
    `events      ${run.lastSeq}`,
  ];
  if (run.result !== undefined) {
    const result = JSON.parse(run.result) as { output?: unknown; error?: { message?: unknown }; pending_approvals?: { call_id: string; tool: string }[] };
    if (typeof result.output === "string") lines.push(`output      ${result.output}`);
    if (result.error && typeof result.error.message === "string") lines.push(`error       ${result.error.message}`);
    for (const call of result.pending_approvals ?? []) lines.push(`waiting     ${call.call_id} (${call.tool})`);
  }
  return `${lines.join("\n")}\n`;
}
