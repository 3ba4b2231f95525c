/**
 * The RunJournal port over a RunStore: each entry becomes stored events, appended under the
 * executing replica's lease. Entries made while a write is in flight (or in the same tick) go out
 * together in the next write, one transaction for all of them (group commit): three parallel tool
 * calls finishing together cost one append, not three. Writes stay in the order they were made, so
 * sequence numbers follow the run's order, and a promise settles only once its entry is stored;
 * `note` adds an event nobody waits for (step.started), and a failure fails every later write.
 */
import type { ApprovalDecision } from "../agent/approval.ts";
import type { JournalledModelCall, RunJournal } from "../agent/journal.ts";
import type { ToolCallRecord } from "../agent/result.ts";
import type { ToolCall } from "../model/messages.ts";
import { approvalDecidedEvents, modelCompletedEvent, toolFinishedEvent, toolStartedEvents } from "./journal-codec.ts";
import type { NewRunEvent, RunStore } from "./run-store.ts";

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Writes one run's events. */
export class StoreJournal implements RunJournal {
  /** Events waiting for the next write, and who waits for them. */
  #queue: NewRunEvent[] = [];
  #waiters: Waiter[] = [];
  /** A trace id to record with the next write (best effort). */
  #traceId: string | undefined;
  /** The write loop, while it runs. */
  #flushing: Promise<void> | undefined;
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
      // Remembered as the journal's failure: the next awaited write reports it.
    });
  }

  /** Stores the run's trace id (known once its span starts) with the next write. */
  recordTraceId(traceId: string): void {
    this.#traceId = traceId;
    this.schedule();
  }

  /** Settles when every write asked for so far is stored (or has failed). */
  async settled(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  private write(events: readonly NewRunEvent[]): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failure);
    this.#queue.push(...events);
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.schedule();
    return done;
  }

  /** Starts the write loop on the next microtask, so entries made in this tick share its first write. */
  private schedule(): void {
    this.#flushing ??= Promise.resolve().then(() => this.flush());
  }

  private async flush(): Promise<void> {
    try {
      while (!this.#failed && (this.#queue.length > 0 || this.#traceId !== undefined)) {
        const events = this.#queue;
        const waiters = this.#waiters;
        const traceId = this.#traceId;
        this.#queue = [];
        this.#waiters = [];
        this.#traceId = undefined;
        // A lost trace id costs only the link between attempts' spans; the run goes on.
        if (traceId !== undefined) await this.store.setTraceId(this.runId, this.owner, traceId).catch(() => {});
        if (events.length === 0) continue;
        try {
          await this.store.append(this.runId, this.owner, events);
        } catch (error) {
          this.#failed = true;
          this.#failure = error;
          for (const waiter of [...waiters, ...this.#waiters.splice(0)]) waiter.reject(error);
          this.#queue = [];
          return;
        }
        this.onWritten(this.runId);
        for (const waiter of waiters) waiter.resolve();
      }
    } finally {
      this.#flushing = undefined;
    }
  }
}
