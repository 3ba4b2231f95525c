/** What every page of the console is given, and the pieces they share. */
import { type Api, ApiError, wait } from "./api.ts";
import { el } from "./dom.ts";

/** A page's world: the API, its part of the document, and a signal aborted when the user leaves it. */
export interface PageContext {
  readonly api: Api;
  readonly main: HTMLElement;
  readonly signal: AbortSignal;
}

/** A page: draws itself into `ctx.main` and stops its streams and timers when `ctx.signal` aborts. */
export type Page = (ctx: PageContext) => void | Promise<void>;

/** A message box for a failure, with the API's own words when it gave some. */
export function errorBox(error: unknown, doing: string): HTMLElement {
  const detail = error instanceof ApiError ? `${error.message} (HTTP ${error.status})` : error instanceof Error ? error.message : String(error);
  return el("p", { className: "error", attrs: { role: "alert" } }, `${doing} failed: ${detail}`);
}

/** True for the error an aborted fetch throws: leaving a page is not a failure to show. */
export function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (error instanceof DOMException && error.name === "AbortError");
}

/** Calls `tick` now and then every `everyMs` until `signal` aborts; a slow tick delays the next. */
export function poll(signal: AbortSignal, everyMs: number, tick: () => Promise<void>): void {
  const loop = async () => {
    while (!signal.aborted) {
      await tick();
      if (signal.aborted) return;
      await wait(everyMs, signal);
    }
  };
  void loop();
}
