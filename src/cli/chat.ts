import { createInterface } from "node:readline";
import { CancelReason, RunCancelledError, runAgent } from "../agent/index.ts";
import type { Config } from "../config/index.ts";
import type { Message } from "../model/messages.ts";
import type { Runtime } from "../wire.ts";
import { describeError, ExitCode } from "./exit-codes.ts";
import type { Terminal } from "./io.ts";
import { runLimits } from "./run-limits.ts";
import { priceFor } from "../model/pricing.ts";
import { trimHistory } from "../sessions/index.ts";
import type { ChatSession } from "./chat-session.ts";

export interface ChatOptions {
  readonly config: Config;
  readonly runtime: Runtime;
  readonly terminal: Terminal;
  readonly input: NodeJS.ReadableStream;
  readonly verbose: boolean;
  /** Registers the Ctrl-C handler; returns a function that removes it. */
  readonly onInterrupt: (handler: () => void) => () => void;
  /** `--session ID`: load the conversation from the store and save every answered turn. */
  readonly session?: ChatSession;
}

/**
 * `skiff chat`: a REPL that streams answers and keeps the conversation. Prompts go to stderr so
 * stdout holds only answers. Ctrl-C during an answer cancels it; Ctrl-C at the prompt (or a
 * second one while cancelling) quits with 130. `/exit` or end of input quits with 0.
 */
export async function chat(options: ChatOptions): Promise<number> {
  const { config, runtime, terminal } = options;
  const system: Message[] = config.system ? [{ role: "system", content: config.system }] : [];
  let history: Message[] = [...system, ...((await options.session?.load()) ?? [])];
  let current: AbortController | undefined;
  let exitCode: number | undefined;

  const lines = createInterface({ input: options.input, terminal: false, crlfDelay: Infinity });
  const interrupt = () => {
    if (current && !current.signal.aborted) {
      current.abort(new CancelReason("interrupted (Ctrl-C)"));
      return;
    }
    exitCode = ExitCode.interrupted;
    terminal.err("\n");
    lines.close();
  };
  const removeInterrupt = options.onInterrupt(interrupt);

  terminal.err(`skiff chat · model ${runtime.model.name} · /reset clears history, /exit quits\n`);
  if (history.length > system.length) terminal.err(`(continuing the session: ${history.length - system.length} messages)\n`);
  const prompt = () => terminal.err("you> ");
  prompt();
  try {
    for await (const raw of lines) {
      const line = raw.trim();
      if (line === "") {
        prompt();
        continue;
      }
      if (line === "/exit" || line === "/quit") break;
      if (line === "/reset") {
        history = [...system];
        await options.session?.reset();
        terminal.err("(history cleared)\n");
        prompt();
        continue;
      }
      current = new AbortController();
      const messages: Message[] = [...history, { role: "user", content: line }];
      let streamed = false;
      try {
        const result = await runAgent({
          model: runtime.model,
          tools: runtime.tools,
          messages,
          limits: runLimits(config),
          price: priceFor(config.pricing),
          signal: current.signal,
          tracer: runtime.tracer,
          stream: true,
          onEvent: (event) => {
            if (event.type === "model.delta") {
              streamed = true;
              terminal.out(event.text);
            } else if (event.type === "tool.finished") {
              terminal.err(`· ${event.name} ${event.ok ? "ok" : "error"} (${event.durationMs.toFixed(1)}ms)\n`);
            }
          },
        });
        if (!streamed) terminal.out(result.output);
        terminal.out("\n");
        // Oldest turns go first, never a tool call without its result; the system prompt stays.
        const conversation = result.messages.slice(system.length);
        history = [...system, ...trimHistory(conversation, config.server.max_history_messages)];
        // The turn: this user message and everything the run added after it.
        const stored = await options.session?.save(result.messages.slice(result.inputMessageCount - 1), terminal);
        if (stored) history = [...system, ...stored];
      } catch (error) {
        if (streamed) terminal.out("\n");
        if (error instanceof RunCancelledError) terminal.err("(answer cancelled)\n");
        else terminal.err(describeError(error, options.verbose));
        // The failed turn is dropped, so history stays a valid conversation.
      } finally {
        current = undefined;
      }
      if (exitCode !== undefined) break;
      prompt();
    }
  } finally {
    removeInterrupt();
    lines.close();
  }
  return exitCode ?? ExitCode.ok;
}
