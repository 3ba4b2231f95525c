/**
 * Time for the run store contract. Stores that take an injected `now` follow the test's clock
 * exactly; a store that reads the database's clock (Postgres) is waited out instead: a poll of
 * the server's clock, bounded by count, until it has passed the wanted span.
 */

/** How a store reads time. */
export type StoreClock = { readonly kind: "injected" } | { readonly kind: "database"; serverNow(): Promise<number> };

/** The test's clock: moved by hand for injected stores, waited out for the database's. */
export class TestClock {
  value = 1_700_000_000_000;
  readonly now = () => this.value;
  constructor(private readonly kind: StoreClock) {}

  /** Returns once the store's clock reads at least `ms` later than when called. */
  async pass(ms: number): Promise<void> {
    if (this.kind.kind === "injected") {
      this.value += ms;
      return;
    }
    const target = (await this.kind.serverNow()) + ms;
    for (let i = 0; i < 2_000; i++) {
      if ((await this.kind.serverNow()) >= target) return;
      await Bun.sleep(5);
    }
    throw new Error(`the database clock did not pass ${ms} ms within 2,000 polls`);
  }
}
