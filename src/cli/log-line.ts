import type { Terminal } from "./io.ts";

/** Renders a runtime event as one stderr line: `skiff: warn: model request retry host=… attempt=1`. */
export function logToTerminal(terminal: Terminal) {
  return (event: { readonly level: string; readonly msg: string; readonly [field: string]: string | number | boolean }) => {
    const fields = Object.entries(event)
      .filter(([key]) => key !== "level" && key !== "msg")
      .map(([key, value]) => `${key}=${value}`)
      .join(" ");
    terminal.err(`skiff: ${event.level}: ${event.msg}${fields ? ` ${fields}` : ""}\n`);
  };
}
