/**
 * Server-sent events framing, as the HTML standard defines it: lines end in LF, CRLF or CR;
 * `data:` lines of one event are joined with "\n"; one space after the colon is dropped; lines
 * starting with ":" are comments (OpenRouter's "OPENROUTER PROCESSING" keep-alives); a blank line
 * ends an event. Only the `event` and `data` fields matter to a chat-completions stream.
 */

/** Called once per complete event: its `event` field ("" when none) and its data. */
export type SseListener = (event: string, data: string) => void;

/** Turns text, fed in pieces as it arrives, into events. */
export class SseDecoder {
  /** Text after the last line break, waiting for the rest of its line. */
  private pending = "";
  /** The data lines of the event being read, joined; undefined before its first data line. */
  private data: string | undefined;
  private event = "";

  constructor(private readonly onEvent: SseListener) {}

  /** Reads the next piece of the stream; complete events go to the listener before it returns. */
  push(text: string): void {
    const buffer = this.pending === "" ? text : this.pending + text;
    let start = 0;
    // Nearly every server ends lines with LF alone; a CR is looked for once, not per line.
    let cr = buffer.indexOf("\r");
    for (;;) {
      const lf = buffer.indexOf("\n", start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        // CRLF or a lone CR: which one is known only once the next character has arrived.
        if (cr + 1 === buffer.length) break;
        end = cr;
        next = buffer.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
        cr = buffer.indexOf("\r", next);
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      this.line(buffer, start, end);
      start = next;
    }
    this.pending = start === 0 ? buffer : buffer.slice(start);
  }

  /**
   * The stream ended. An event not yet closed by a blank line is delivered anyway: the standard
   * drops it, but some servers end with `data: [DONE]` and no blank line after it.
   */
  end(): void {
    if (this.pending !== "") {
      const last = this.pending.endsWith("\r") ? this.pending.slice(0, -1) : this.pending;
      this.pending = "";
      this.line(last, 0, last.length);
    }
    this.dispatch();
  }

  private line(buffer: string, start: number, end: number): void {
    if (start === end) {
      this.dispatch();
      return;
    }
    if (buffer.charCodeAt(start) === 58 /* ":" */) return; // a comment
    let colon = buffer.indexOf(":", start);
    if (colon === -1 || colon > end) colon = end;
    let valueStart = colon + 1;
    if (valueStart < end && buffer.charCodeAt(valueStart) === 32 /* " " */) valueStart++;
    const value = valueStart >= end ? "" : buffer.slice(valueStart, end);
    const nameLength = colon - start;
    if (nameLength === 4 && buffer.startsWith("data", start)) {
      this.data = this.data === undefined ? value : `${this.data}\n${value}`;
    } else if (nameLength === 5 && buffer.startsWith("event", start)) {
      this.event = value;
    }
    // `id` and `retry` are for reconnecting EventSource clients; a completion is not resumed.
  }

  private dispatch(): void {
    const data = this.data;
    const event = this.event;
    this.data = undefined;
    this.event = "";
    if (data !== undefined) this.onEvent(event, data);
  }
}
