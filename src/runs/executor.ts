/**
 * Runs that outlive their process, on one replica: holds a renewable lease on every run it
 * executes, renews them on a tick, stops a run whose lease it lost or whose cancel was asked for
 * (on any replica), and claims runs nobody executes (queued, or their replica died) when it has
 * room. How a claimed run is executed is passed in (`execute`): this module knows leases and the
 * journal, not HTTP, sessions or the model.
 */
import { CancelReason } from "../agent/errors.ts";
import type { ResumeOptions } from "../agent/run-agent.ts";
import { eventData, resumePointOf, runEvent, type RunEventType } from "./journal-codec.ts";
import { type FinalStatus, LeaseLostError, type NewRun, type RunEvent, type RunRecord, type RunStore } from "./run-store.ts";
import { StoreJournal } from "./store-journal.ts";

/** The abort reason of a run whose lease this replica lost: it must stop without writing. */
export class LeaseLost extends CancelReason {
  constructor() {
    super("another replica took the run over");
  }
}

/** The abort reason of a run cancelled through the API (possibly on another replica). */
export class CancelRequested extends CancelReason {
  constructor() {
    super("cancelled through the API");
  }
}

/** How a run ended, as stored: the final status and the JSON body of the final event and of GET. */
export interface RunFinal {
  /** `requires_action`: paused for approvals; the lease is given up until the decisions are in. */
  readonly status: FinalStatus;
  readonly body: Readonly<Record<string, unknown>>;
}

/** A slot for a run (server.max_concurrent); its signal aborts at shutdown. */
export interface RunSlot {
  readonly signal: AbortSignal;
  release(): void;
}

/** What `execute` gets for a claimed background run. */
export interface ClaimedRun {
  readonly record: RunRecord;
  readonly journal: StoreJournal;
  /** Set when an earlier attempt left a journal to continue from. */
  readonly resume: ResumeOptions | undefined;
  /** The run's stored events so far (empty for a first attempt). */
  readonly events: readonly RunEvent[];
  /** Aborts on lease loss, cancel, or shutdown (the slot's signal). */
  readonly signal: AbortSignal;
}

/** Counters for /metrics. */
export interface ExecutorCounters {
  runsRecovered: number;
  leasesLost: number;
  journalWrites: number;
}

export interface RunExecutorOptions {
  readonly store: RunStore;
  /** This process's name in leases and `run.started` events; unique per process. */
  readonly replica: string;
  readonly leaseMs: number;
  /** How often leases are renewed, cancels noticed and unowned runs claimed. */
  readonly tickMs: number;
  /** A slot for a background run, or undefined when the server is full or draining. */
  readonly takeSlot: () => RunSlot | undefined;
  /** Executes a claimed background run to its end. */
  readonly execute: (run: ClaimedRun) => Promise<RunFinal>;
  /** Trouble that has nowhere else to go (a failed renewal, a run that could not be finished). */
  readonly warn: (message: string, error?: unknown) => void;
  /** Epoch ms. */
  readonly now?: () => number;
}

/** A run this replica executes right now. */
export class LocalRun {
  readonly controller = new AbortController();
  readonly journal: StoreJournal;
  #done = false;

  constructor(
    private readonly executor: RunExecutor,
    readonly record: RunRecord,
  ) {
    this.journal = new StoreJournal(executor.store, record.id, executor.replica, (id) => executor.written(id));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Stores how the run ended, after every journal write. A lease lost meanwhile means another
   * replica owns the run now: nothing is written and false is returned.
   */
  async finish(final: RunFinal): Promise<boolean> {
    if (this.#done) return false;
    this.#done = true;
    this.executor.forget(this);
    if (this.controller.signal.reason instanceof LeaseLost) return false;
    await this.journal.settled();
    const type: RunEventType = `run.${final.status}`;
    const body = JSON.stringify(final.body);
    try {
      await this.executor.store.finish(this.record.id, this.executor.replica, final.status, body, [{ type, data: eventData(type, final.body) }]);
      this.executor.written(this.record.id);
      return true;
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.executor.counters.leasesLost++;
        return false;
      }
      throw error;
    }
  }

  /** Stops tracking the run without writing anything (its lease is someone else's). */
  abandon(): void {
    this.#done = true;
    this.executor.forget(this);
  }

  /** Gives the run back unfinished (shutdown): another replica, or this one restarted, resumes it. */
  async release(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.executor.forget(this);
    await this.journal.settled();
    await this.executor.store.release(this.record.id, this.executor.replica).catch((error: unknown) => {
      this.executor.warn(`run ${this.record.id}: could not give up its lease (it will be resumed when the lease expires)`, error);
    });
  }
}

/** Work the executor repeats while it runs. */
interface Chore {
  readonly everyMs: number;
  readonly what: string;
  readonly work: () => Promise<void>;
  timer: ReturnType<typeof setInterval> | undefined;
}

/** One replica's share of the durable runs. */
export class RunExecutor {
  readonly store: RunStore;
  readonly replica: string;
  readonly counters: ExecutorCounters = { runsRecovered: 0, leasesLost: 0, journalWrites: 0 };
  readonly #options: RunExecutorOptions;
  readonly #local = new Map<string, LocalRun>();
  readonly #listeners = new Map<string, Set<() => void>>();
  readonly #background = new Set<Promise<void>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #chores: Chore[] = [];
  #ticking = false;
  #stopped = false;

  constructor(options: RunExecutorOptions) {
    this.#options = options;
    this.store = options.store;
    this.replica = options.replica;
  }

  /** Starts the tick: renew, notice cancels, claim. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.tick(), this.#options.tickMs);
    this.#timer.unref?.();
    for (const chore of this.#chores) this.startChore(chore);
    void this.tick();
  }

  /** Stops claiming and renewing (and the chores); runs still executing keep their signals. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const chore of this.#chores) clearInterval(chore.timer);
  }

  /** Claims now what there is room for, without waiting for the tick (a run was just queued). */
  poke(): void {
    void this.tick();
  }

  /** Runs `work` every `everyMs` while the executor runs (e.g. the approval timeout sweep); failures are warned about. */
  every(everyMs: number, what: string, work: () => Promise<void>): void {
    const chore: Chore = { everyMs, what, work, timer: undefined };
    this.#chores.push(chore);
    if (this.#timer) this.startChore(chore);
  }

  private startChore(chore: Chore): void {
    let running = false;
    chore.timer = setInterval(() => {
      if (running || this.#stopped) return;
      running = true;
      chore
        .work()
        .catch((error: unknown) => this.warn(`${chore.what} failed; retrying later`, error))
        .finally(() => (running = false));
    }, chore.everyMs);
    chore.timer.unref?.();
  }

  /** Settles when every background run this replica started has ended (finished or released). */
  async idle(): Promise<void> {
    while (this.#background.size > 0) await Promise.all(this.#background);
  }

  /** Runs executing here now. */
  get localCount(): number {
    return this.#local.size;
  }

  /** Creates a run claimed by this replica and returns its handle (a foreground run's route drives it). */
  async begin(run: Omit<NewRun, "owner" | "leaseMs">): Promise<LocalRun> {
    const record = await this.store.create({ ...run, owner: this.replica, leaseMs: this.#options.leaseMs });
    return this.adopt(record);
  }

  /**
   * Takes a background run: executes it here at once when a slot is free, else leaves it queued
   * for whichever replica has room first. Returns the stored record.
   */
  async submit(run: Omit<NewRun, "owner" | "leaseMs">): Promise<RunRecord> {
    const slot = this.#stopped ? undefined : this.#options.takeSlot();
    if (!slot) return this.store.create({ ...run, events: [...(run.events ?? []), runEvent("run.queued", { id: run.id })] });
    let record: RunRecord;
    try {
      record = await this.store.create({ ...run, owner: this.replica, leaseMs: this.#options.leaseMs });
    } catch (error) {
      slot.release();
      throw error;
    }
    this.launch(record, slot);
    return record;
  }

  /**
   * Cancels a run wherever it executes: here at once, elsewhere at that replica's next tick. A run
   * nobody executes is finished as cancelled by the store. Undefined for an unknown id.
   */
  async cancel(id: string, body: Readonly<Record<string, unknown>>): Promise<RunRecord | undefined> {
    const record = await this.store.requestCancel(id, JSON.stringify(body), [{ type: "run.cancelled", data: eventData("run.cancelled", body) }]);
    if (record) this.written(id);
    this.#local.get(id)?.controller.abort(new CancelRequested());
    return record;
  }

  /** Calls `listener` whenever an event of run `id` is stored by this process; returns the unsubscribe. */
  subscribe(id: string, listener: () => void): () => void {
    let set = this.#listeners.get(id);
    if (!set) this.#listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(id);
    };
  }

  /** Aborts every local run with `reason` (shutdown, after the drain timeout). */
  abortAll(reason: unknown): void {
    for (const run of this.#local.values()) run.controller.abort(reason);
  }

  /** @internal A write for run `id` was stored. */
  written(id: string): void {
    this.counters.journalWrites++;
    const listeners = this.#listeners.get(id);
    if (listeners) for (const listener of listeners) listener();
  }

  /** @internal */
  forget(run: LocalRun): void {
    if (this.#local.get(run.record.id) === run) this.#local.delete(run.record.id);
  }

  /** @internal */
  warn(message: string, error?: unknown): void {
    this.#options.warn(message, error);
  }

  private adopt(record: RunRecord): LocalRun {
    const run = new LocalRun(this, record);
    this.#local.set(record.id, run);
    return run;
  }

  /** Executes a claimed background run in the background, in `slot`. */
  private launch(record: RunRecord, slot: RunSlot): void {
    const run = this.adopt(record);
    const onSlotAbort = () => run.controller.abort(slot.signal.reason);
    if (slot.signal.aborted) onSlotAbort();
    else slot.signal.addEventListener("abort", onSlotAbort, { once: true });
    const done = this.execute(run)
      .catch((error: unknown) => this.warn(`run ${record.id}: could not be executed`, error))
      .finally(() => {
        slot.signal.removeEventListener("abort", onSlotAbort);
        slot.release();
        this.#background.delete(done);
      });
    this.#background.add(done);
  }

  private async execute(run: LocalRun): Promise<void> {
    const { record } = run;
    if (record.cancelRequested) {
      await run.finish({ status: "cancelled", body: { id: record.id, status: "cancelled", error: { type: "cancelled", message: "The run was cancelled before it started." } } });
      return;
    }
    let resume: ResumeOptions | undefined;
    let events: readonly RunEvent[] = [];
    if (record.attempt > 1) {
      events = await this.allEvents(record.id);
      // A foreground run that paused for approvals answered its client then; it goes on like a background run.
      if (!record.background && !events.some((event) => event.type === "run.requires_action")) {
        // A foreground run belongs to its HTTP request, which died with the replica: say so, and
        // do not run on for a client that is gone.
        await run.finish({
          status: "failed",
          body: { id: record.id, status: "failed", error: { type: "interrupted", message: "The replica running this run stopped, and its client's connection with it; it was not resumed (only background runs are).", param: null } },
        });
        return;
      }
      resume = {
        point: resumePointOf(events),
        elapsedMs: Math.max(0, this.now() - record.createdAt),
        attempt: record.attempt,
        replica: this.replica,
        ...(record.traceId === undefined ? {} : { traceId: record.traceId }),
      };
      this.counters.runsRecovered++;
    }
    const final = await this.#options.execute({ record, journal: run.journal, resume, events, signal: run.signal });
    const reason: unknown = run.signal.reason;
    // Another replica owns the run now: write nothing more.
    if (reason instanceof LeaseLost) return run.abandon();
    // Shutdown (the slot's signal): give the run back, so it resumes elsewhere or after the restart.
    if (run.signal.aborted && !(reason instanceof CancelRequested)) return run.release();
    await run.finish(final);
  }

  private async allEvents(id: string): Promise<RunEvent[]> {
    const all: RunEvent[] = [];
    for (;;) {
      const page = await this.store.events(id, all.at(-1)?.seq ?? 0, 1000);
      all.push(...page);
      if (page.length < 1000) return all;
    }
  }

  private now(): number {
    return (this.#options.now ?? Date.now)();
  }

  /** Renews leases (stopping runs whose lease was lost or cancelled), then claims what it has room for. */
  private async tick(): Promise<void> {
    if (this.#ticking || this.#stopped) return;
    this.#ticking = true;
    try {
      if (this.#local.size > 0) {
        const ids = [...this.#local.keys()];
        const { renewed, cancelRequested } = await this.store.renew(this.replica, ids, this.#options.leaseMs);
        const kept = new Set(renewed);
        for (const id of ids) {
          if (!kept.has(id)) {
            this.counters.leasesLost++;
            this.#local.get(id)?.controller.abort(new LeaseLost());
          }
        }
        for (const id of cancelRequested) this.#local.get(id)?.controller.abort(new CancelRequested());
      }
      for (;;) {
        const slot = this.#options.takeSlot();
        if (!slot) break;
        const [claimed] = await this.store.claim(this.replica, this.#options.leaseMs, 1).catch((error: unknown) => {
          slot.release();
          throw error;
        });
        if (!claimed) {
          slot.release();
          break;
        }
        this.launch(claimed, slot);
      }
    } catch (error) {
      this.warn("the run store did not answer the lease renewal or claim; retrying at the next tick", error);
    } finally {
      this.#ticking = false;
    }
  }
}
