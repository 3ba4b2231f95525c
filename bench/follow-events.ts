/** Follows a run's event stream (GET /v1/runs/{id}/events) and notes when each event arrived. */

/** One event as received: its sequence number (the SSE `id:`), its name, and performance.now() on arrival. */
export interface ReceivedEvent {
  readonly seq: number;
  readonly type: string;
  readonly at: number;
}

/** A followed stream's events, in order. */
export interface Followed {
  readonly events: readonly ReceivedEvent[];
}

/**
 * Reads the stream at `url` until it ends (the server closes it after the run's final event) or
 * `timeoutMs` passes, whichever is first.
 */
export async function followEvents(url: string, timeoutMs = 30_000): Promise<Followed> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200 || !res.body) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  const events: ReceivedEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of res.body) {
      const at = performance.now();
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const seq = /^id: (\d+)$/m.exec(block)?.[1];
        const type = /^event: (.+)$/m.exec(block)?.[1];
        // Keep-alive comments (":" lines) have neither.
        if (seq !== undefined && type !== undefined) events.push({ seq: Number(seq), type, at });
        end = buffer.indexOf("\n\n");
      }
    }
  } catch (error) {
    if (!(error instanceof DOMException && error.name === "TimeoutError")) throw error;
  }
  return { events };
}
