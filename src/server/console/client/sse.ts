/**
 * A decoder of `text/event-stream` as the HTML spec defines it, for streams read with fetch()
 * (EventSource cannot send an Authorization header). Text goes in as it arrives, in pieces of any
 * size; whole events come out.
 */

/** One dispatched event. */
export interface SseEvent {
  /** The `event:` name, or "message" when none was given. */
  readonly event: string;
  /** The `data:` lines, joined by "\n". */
  readonly data: string;
  /** The last `id:` seen up to this event (the spec's last event ID), if any. */
  readonly id: string | undefined;
}

/** Turns chunks of stream text into events; keeps the unfinished line between calls. */
export class SseDecoder {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  /** The `id:` of the event being read; it becomes the last event ID when that event is complete. */
  private idBuffer: string | undefined;
  private lastId: string | undefined;

  /** The last event ID so far: what a reconnection sends as Last-Event-ID. */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /**
   * Forgets a half-received event (a broken connection's), keeping the last event ID: call it
   * before reading a new connection.
   */
  discardPending(): void {
    this.buffer = "";
    this.data = [];
    this.event = "";
    this.idBuffer = this.lastId;
  }

  /** Feeds the next piece of text; returns the events it completed. */
  push(text: string): SseEvent[] {
    this.buffer += text;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== "\n" && c !== "\r") continue;
      // A CR at the very end may be the first half of a CRLF: wait for the next piece.
      if (c === "\r" && i === this.buffer.length - 1) break;
      const line = this.buffer.slice(start, i);
      if (c === "\r" && this.buffer[i + 1] === "\n") i++;
      start = i + 1;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\u0000")) this.idBuffer = value;
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    this.lastId = this.idBuffer;
    const data = this.data;
    const event = this.event;
    this.data = [];
    this.event = "";
    if (data.length === 0) return undefined;
    return { event: event === "" ? "message" : event, data: data.join("\n"), id: this.lastId };
  }
}
