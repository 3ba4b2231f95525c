const encoder = new TextEncoder();
const ping = encoder.encode(": ping\n\n");

/** One open `text/event-stream` response. Writes after the client has gone are dropped. */
export interface SseChannel {
  /**
   * Sends one event; `data` is one line of JSON. Without `event` the client sees a plain message;
   * `id` becomes the SSE `id:` a client resumes after (Last-Event-ID).
   */
  send(data: string, event?: string, id?: number): void;
  /** Ends the stream. */
  close(): void;
  /** False once closed by us or cancelled by the client. */
  readonly open: boolean;
}

/**
 * Keeps every open stream alive with a comment line, from one timer for all of them. Bun closes
 * a connection that is silent for its idleTimeout, and so do proxies, while a model thinks or a
 * tool runs.
 */
export interface Heartbeat {
  add(channel: SseChannel & { ping(): void }): void;
  remove(channel: SseChannel & { ping(): void }): void;
}

/** Creates the shared heartbeat; its timer runs only while streams are open. */
export function createHeartbeat(intervalMs: number): Heartbeat {
  const channels = new Set<SseChannel & { ping(): void }>();
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    add(channel) {
      channels.add(channel);
      timer ??= setInterval(() => {
        for (const each of channels) each.ping();
      }, intervalMs);
    },
    remove(channel) {
      channels.delete(channel);
      if (channels.size === 0 && timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
    },
  };
}

/**
 * Opens an event stream: the Response to return now, and the channel to write events to.
 * `onCancel` runs when the reader cancels the stream: over HTTP the request's signal aborts too,
 * but a caller holding the Response in process (tests, an embedding) only has this.
 */
export function openSse(
  heartbeat: Heartbeat,
  headers: Readonly<Record<string, string>> = {},
  onCancel?: () => void,
): { response: Response; channel: SseChannel } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  const channel = {
    get open() {
      return open;
    },
    send(data: string, event?: string, id?: number) {
      if (!open) return;
      const head = `${id === undefined ? "" : `id: ${id}\n`}${event === undefined ? "" : `event: ${event}\n`}`;
      controller.enqueue(encoder.encode(`${head}data: ${data}\n\n`));
    },
    ping() {
      if (open) controller.enqueue(ping);
    },
    close() {
      if (!open) return;
      open = false;
      heartbeat.remove(channel);
      controller.close();
    },
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      open = false;
      heartbeat.remove(channel);
      onCancel?.();
    },
  });
  heartbeat.add(channel);
  const response = new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      // Tells nginx not to buffer the stream.
      "x-accel-buffering": "no",
      ...headers,
    },
  });
  return { response, channel };
}
