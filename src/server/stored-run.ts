/**
 * A run as the run store keeps it: its request (enough for any replica to run it, or run it on
 * after a crash) and its end (status and final body). Shared by foreground runs (execute-run.ts)
 * and background ones (durable-runs.ts).
 */
import type { PendingApproval } from "../agent/result.ts";
import type { ResumeOptions } from "../agent/run-agent.ts";
import type { Message } from "../model/messages.ts";
import type { JsonSchema } from "../model/model.ts";
import type { RunFinal } from "../runs/executor.ts";
import type { StoreJournal } from "../runs/store-journal.ts";
import type { RunEnd, RunJob } from "./execute-run.ts";
import { type RunIds, runJson } from "./run-errors.ts";

/** A run's request as stored: enough for any replica to run it, or run it on after a crash. */
export interface StoredRunRequest {
  readonly input: readonly Message[];
  readonly max_steps: number | null;
  /** The run's whole timeout, counted from when it was accepted. */
  readonly timeout_ms: number;
  readonly traceparent: string | null;
  /** The name of the key the run was started with; absent in runs stored before keys existed. */
  readonly key?: string | null;
  /** The JSON Schema the answer must match, when the run has one. */
  readonly output_schema?: JsonSchema;
}

/** The stored form of a job whose timeout is `timeoutMs`. */
export function encodeRunRequest(job: RunJob, timeoutMs: number): string {
  const stored: StoredRunRequest = {
    input: job.input,
    max_steps: job.maxSteps ?? null,
    timeout_ms: timeoutMs,
    traceparent: job.traceparent ?? null,
    ...(job.keyName === undefined ? {} : { key: job.keyName }),
    ...(job.outputSchema === undefined ? {} : { output_schema: job.outputSchema.schema }),
  };
  return JSON.stringify(stored);
}

/** The stored request, read back. */
export function decodeRunRequest(text: string): StoredRunRequest {
  return JSON.parse(text) as StoredRunRequest;
}

/** What a journalled attempt needs from the route or the executor. */
export interface Durability {
  readonly journal: StoreJournal;
  readonly resume?: ResumeOptions;
}

/** The stored end of a run: its status and the body GET /v1/runs/{id} and the final event carry. */
export function runFinalOf(ids: RunIds, end: RunEnd, now: number): RunFinal {
  if (end.ok && end.result.finishReason === "requires_action") {
    return { status: "requires_action", body: { ...pausedRunJson(ids, end.result.pendingApprovals ?? [], now) } };
  }
  if (end.ok) return { status: "completed", body: { ...runJson(ids, end.result), status: "completed" } };
  const cancelled = end.failure.outcome === "cancelled";
  return { status: cancelled ? "cancelled" : "failed", body: { id: ids.id, status: cancelled ? "cancelled" : "failed", ...end.failure.http.body() } };
}

/** A call waiting for a decision, as the API shows it. */
export interface PendingApprovalJson {
  readonly step: number;
  readonly call_id: string;
  readonly tool: string;
  readonly arguments: string;
}

/** The stored result of a paused run: what waits for a decision, and since when. */
export interface PausedRunJson {
  readonly id: string;
  readonly session_id: string | null;
  readonly status: "requires_action";
  readonly pending_approvals: readonly PendingApprovalJson[];
  /** ISO time the run paused: server.approval_timeout counts from here. */
  readonly requested_at: string;
}

/** The body of a paused run (GET /v1/runs/{id} shows it, and the `run.requires_action` event carries it). */
export function pausedRunJson(ids: RunIds, pending: readonly PendingApproval[], now: number): PausedRunJson {
  return {
    id: ids.id,
    session_id: ids.sessionId ?? null,
    status: "requires_action",
    pending_approvals: pending.map((call) => ({ step: call.step, call_id: call.callId, tool: call.name, arguments: call.arguments })),
    requested_at: new Date(now).toISOString(),
  };
}
