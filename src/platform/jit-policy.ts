/**
 * The JIT policy a command starts with, and the switch back to normal once start-up is over.
 *
 * Start-up code (argument parsing, building and checking the config's zod schemas, wiring the
 * runtime) runs once, yet it runs enough of the same functions to make JavaScriptCore compile
 * them: the compilers' own code is paged in from the executable and their output kept, for code
 * that never runs again. build.sh therefore bakes a higher tier-up threshold into the executable
 * (`--compile-jit-policy`, docs/build.md): idle `skiff serve` 61 → 55 MB resident, `skiff ask
 * --model demo` 62 → 48 ms. A command calls `startupDone` when its real work begins, so the
 * agent loop, the server and the tools are compiled as eagerly as ever.
 */

/** Where the setter lives: `Bun.unsafe`; a runtime without it has no policy to undo. */
export interface JitPolicyControl {
  readonly setJITPolicy?: (scale: number) => void;
}

/** Restores JavaScriptCore's normal tier-up thresholds for this thread. Idempotent. */
export function startupDone(control: JitPolicyControl = Bun.unsafe): void {
  control.setJITPolicy?.(1);
}
