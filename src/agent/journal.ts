/**
 * The run journal port. A durable run reports each model response and each tool call to it, and
 * waits for the write, before the loop goes on; after a crash the run is rebuilt from what the
 * journal holds (`ResumePoint`) and continues from there. The loop knows nothing of where the
 * journal lives: the server wires SQLite or Postgres behind it; `ask` and `chat` wire none.
 */
import type { ToolCall } from "../model/messages.ts";
import type { ApprovalDecision } from "./approval.ts";
import type { ModelResponse } from "../model/model.ts";
import type { ToolCallRecord } from "./result.ts";

/** One model call as the journal keeps it. */
export interface JournalledModelCall {
  readonly step: number;
  readonly response: ModelResponse;
  /** When the step started, relative to the start of the run's first attempt, in ms. */
  readonly startMs: number;
  readonly durationMs: number;
}

/**
 * Where the loop reports progress. Entries are stored in the order they are made, and each promise
 * settles once its entry (and so every earlier one) is stored; once a write fails, every later one
 * fails too. The loop relies on that: it does not wait for a model answer's write on its own when
 * the step's tool starts follow it.
 */
export interface RunJournal {
  /** The model answered; called before any of the step's tool calls starts. */
  modelResponded(call: JournalledModelCall): Promise<void>;
  /** These calls of `step` are about to start (a crash after this makes them "interrupted"). */
  toolsStarting(step: number, calls: readonly ToolCall[]): Promise<void>;
  /** One tool call finished; `record.output` is what the model is sent. */
  toolFinished(step: number, record: ToolCallRecord): Promise<void>;
  /** A person decided on calls of `step` (at a terminal); written before the approved ones start. */
  approvalsDecided(step: number, decisions: readonly ApprovalDecision[]): Promise<void>;
}

/** One step as journalled: its model call, which calls started and which finished, and decisions on them. */
export interface JournalledStep {
  readonly model: JournalledModelCall;
  readonly startedCallIds: ReadonlySet<string>;
  readonly finished: ReadonlyMap<string, ToolCallRecord>;
  /** Decisions on calls that needed approval, by call id (absent: none recorded). */
  readonly decisions?: ReadonlyMap<string, ApprovalDecision>;
}

/** What a journal says an earlier attempt of the run did, oldest step first. */
export interface ResumePoint {
  readonly steps: readonly JournalledStep[];
}

/** The journal could not be written; the run stops, since it could not be recovered past this point. */
export class JournalWriteFailed extends Error {
  constructor(override readonly cause: unknown) {
    super("the run journal could not be written");
    this.name = "JournalWriteFailed";
  }
}

/** What the model is told for a call that started before a crash and is not safe to run again. */
export const interruptedCallOutput =
  "error: this call was interrupted (the process running it stopped) and may or may not have taken effect; check its effect before calling it again";
