/**
 * The RunJournal port over a RunStore: each entry becomes stored events, appended under the
 * executing replica's lease. Writes go out one after another in the order they were made, so
 * sequence numbers follow the run's order; `note` adds an event nobody waits for (step.started)
 * into the same line, and a failure of such a write fails the next journal write.
 */
import type { ApprovalDecision } from "../agent/approval.ts";
import type { JournalledModelCall, RunJournal } from "../agent/journal.ts";
import type { ToolCallRecord } from "../agent/result.ts";
import type { ToolCall } from "../model/messages.ts";
import { approvalDecidedEvents, modelCompletedEvent, toolFinishedEvent, toolStartedEvents } from "./journal-codec.ts";
import type { NewRunEvent, RunStore } from "./run-store.ts";

/** Writes one run's events; also counts them, for metrics. */
export class StoreJournal implements RunJournal {
  #tail: Promise<void> = Promise.resolve();
  #failure: unknown;
  #failed = false;

  constructor(
    private readonly store: RunStore,
    private readonly runId: string,
    private readonly owner: string,
    /** Called after each stored write with the run id (wakes local followers; counts writes). */
    private readonly onWritten: (runId: string) => void,
  ) {}

  modelResponded(call: JournalledModelCall): Promise<void> {
    return this.write([modelCompletedEvent(call)]);
  }

  toolsStarting(step: number, calls: readonly ToolCall[]): Promise<void> {
    return this.write(toolStartedEvents(step, calls));
  }

  toolFinished(step: number, record: ToolCallRecord): Promise<void> {
    return this.write([toolFinishedEvent(step, record)]);
  }

  approvalsDecided(step: number, decisions: readonly ApprovalDecision[]): Promise<void> {
    return this.write(approvalDecidedEvents(step, decisions, { by: "terminal" }));
  }

  /** Appends events without making the run wait; they keep their place in the order. */
  note(events: readonly NewRunEvent[]): void {
    this.write(events).catch(() => {
      // Remembered in #failure: the next awaited write reports it.
    });
  }

  /** Stores the run's trace id (known once its span starts), in order with the other writes. */
  recordTraceId(traceId: string): void {
    const next = this.#tail.then(() => this.store.setTraceId(this.runId, this.owner, traceId));
    this.#tail = next.catch(() => {
      // A lost trace id costs only the link between attempts' spans; the run goes on.
    });
  }

  /** Settles when every write made so far is stored (or has failed). */
  settled(): Promise<void> {
    return this.#tail.catch(() => {});
  }

  private write(events: readonly NewRunEvent[]): Promise<void> {
    const next = this.#tail.then(async () => {
      if (this.#failed) throw this.#failure;
      try {
        await this.store.append(this.runId, this.owner, events);
      } catch (error) {
        this.#failed = true;
        this.#failure = error;
        throw error;
      }
      this.onWritten(this.runId);
    });
    // The chain itself never rejects, so a failed write does not leave an unhandled rejection.
    this.#tail = next.catch(() => {});
    return next;
  }
}
