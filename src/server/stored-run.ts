/**
 * A run as the run store keeps it: its request (enough for any replica to run it, or run it on
 * after a crash) and its end (status and final body). Shared by foreground runs (execute-run.ts)
 * and background ones (durable-runs.ts).
 */
import type { ResumeOptions } from "../agent/run-agent.ts";
import type { Message } from "../model/messages.ts";
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
}

/** The stored form of a job whose timeout is `timeoutMs`. */
export function encodeRunRequest(job: RunJob, timeoutMs: number): string {
  const stored: StoredRunRequest = { input: job.input, max_steps: job.maxSteps ?? null, timeout_ms: timeoutMs, traceparent: job.traceparent ?? null };
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
export function runFinalOf(ids: RunIds, end: RunEnd): RunFinal {
  if (end.ok) return { status: "completed", body: { ...runJson(ids, end.result), status: "completed" } };
  const cancelled = end.failure.outcome === "cancelled";
  return { status: cancelled ? "cancelled" : "failed", body: { id: ids.id, status: cancelled ? "cancelled" : "failed", ...end.failure.http.body() } };
}
