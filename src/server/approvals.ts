/**
 * Decisions on tool calls that wait for a person, for runs paused in `requires_action`: recorded
 * with a compare-and-set on the run (two replicas deciding at once cannot both win), and queued for
 * any replica to continue once every pending call is decided. Also the `server.approval_timeout`
 * sweep, which denies what is still undecided when the wait has been too long.
 */
import type { ApprovalDecision } from "../agent/approval.ts";
import { approvalDecidedEvents, runEvent } from "../runs/journal-codec.ts";
import type { RunRecord, RunStore } from "../runs/run-store.ts";
import { formatDuration } from "../util/duration.ts";
import type { PausedRunJson, PendingApprovalJson } from "./stored-run.ts";

/** Why decisions were refused: the HTTP layer maps each to a status. */
export type DecisionRefusal =
  | { readonly kind: "not_found" }
  | { readonly kind: "not_waiting"; readonly status: string }
  | { readonly kind: "unknown_call"; readonly index: number; readonly callId: string; readonly pending: readonly string[] }
  | { readonly kind: "already_decided"; readonly index: number; readonly callId: string }
  | { readonly kind: "busy" };

/** How recording decisions went. */
export type DecisionOutcome = { readonly ok: true; readonly record: RunRecord; readonly queued: boolean } | { readonly ok: false; readonly refusal: DecisionRefusal };

/** A paused run's stored result, with the decisions taken so far. */
interface PausedState extends PausedRunJson {
  readonly decided?: readonly { readonly call_id: string; readonly approve: boolean }[];
}

/** Times a decision is retried when another decision on the same run landed first. */
const attempts = 5;

/**
 * Records `decisions` on run `id` if it waits for them. When no pending call is left, the run is
 * queued: whichever replica has room continues it from its journal, decisions included.
 */
export async function recordDecisions(store: RunStore, id: string, decisions: readonly ApprovalDecision[], options: { by: string; now: number }): Promise<DecisionOutcome> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const record = await store.get(id);
    if (!record) return { ok: false, refusal: { kind: "not_found" } };
    if (record.status !== "requires_action" || record.result === undefined) return { ok: false, refusal: { kind: "not_waiting", status: record.status } };
    const state = JSON.parse(record.result) as PausedState;
    const pending = new Map(state.pending_approvals.map((call) => [call.call_id, call] as const));
    const decidedBefore = new Set((state.decided ?? []).map((entry) => entry.call_id));
    for (const [index, decision] of decisions.entries()) {
      if (decidedBefore.has(decision.callId)) return { ok: false, refusal: { kind: "already_decided", index, callId: decision.callId } };
      if (!pending.has(decision.callId)) return { ok: false, refusal: { kind: "unknown_call", index, callId: decision.callId, pending: [...pending.keys()] } };
    }
    const waitMs = options.now - Date.parse(state.requested_at);
    const events = decisions.flatMap((decision) => approvalDecidedEvents(pending.get(decision.callId)!.step, [decision], { by: options.by, waitMs }));
    const left = state.pending_approvals.filter((call) => !decisions.some((decision) => decision.callId === call.call_id));
    const decided = [...(state.decided ?? []), ...decisions.map((decision) => ({ call_id: decision.callId, approve: decision.approve }))];
    const queued = left.length === 0;
    const change = queued
      ? { status: "queued" as const, result: undefined, events: [...events, runEvent("run.queued", { id })] }
      : { status: "requires_action" as const, result: JSON.stringify({ ...state, pending_approvals: left, decided } satisfies PausedState), events };
    const seq = await store.advance(id, { status: "requires_action", lastSeq: record.lastSeq }, change);
    if (seq === undefined) continue;
    const updated = await store.get(id);
    return { ok: true, record: updated ?? record, queued };
  }
  return { ok: false, refusal: { kind: "busy" } };
}

/**
 * Denies the undecided calls of runs that have waited longer than `timeoutMs`; returns how many
 * runs it moved on. Looks at up to `limit` waiting runs per sweep.
 */
export async function expireApprovals(store: RunStore, timeoutMs: number, now: number, limit = 500): Promise<number> {
  const waiting = await store.list({ status: "requires_action", limit });
  let moved = 0;
  for (const record of waiting) {
    if (record.result === undefined) continue;
    const state = JSON.parse(record.result) as PausedState;
    if (Date.parse(state.requested_at) + timeoutMs > now) continue;
    const reason = `no decision within server.approval_timeout (${formatDuration(timeoutMs)}); denied`;
    const decisions = state.pending_approvals.map((call: PendingApprovalJson) => ({ callId: call.call_id, approve: false, reason }));
    const outcome = await recordDecisions(store, record.id, decisions, { by: "approval_timeout", now });
    if (outcome.ok) moved++;
  }
  return moved;
}
