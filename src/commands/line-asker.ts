import { createInterface } from "node:readline";
import type { AskLine } from "../cli/approval-prompt.ts";
import type { CommandContext } from "../cli/commands.ts";
import type { Terminal } from "../cli/io.ts";

/** Questions on stderr, answers from stdin's next lines; `close` lets the process end. */
export function lineAsker(terminal: Terminal, input: NodeJS.ReadableStream = process.stdin): { readonly ask: AskLine; close(): void } {
  let lines: ReturnType<typeof createInterface> | undefined;
  let next: AsyncIterator<string> | undefined;
  return {
    async ask(prompt) {
      terminal.err(prompt);
      if (!lines) {
        lines = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
        next = lines[Symbol.asyncIterator]();
      }
      const line = await next!.next();
      return line.done ? undefined : line.value;
    },
    close() {
      lines?.close();
    },
  };
}

/** A comma-separated flag (`--approve a,b`) as a list; empty when absent. */
export function listFlag(context: Pick<CommandContext, "flags">, name: string): string[] {
  const value = context.flags.get(name);
  if (value === undefined || value === "") return [];
  return value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}
