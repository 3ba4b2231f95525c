import { createInterface } from "node:readline";
import { CancelReason, RunCancelledError, runAgent } from "../agent/index.ts";
import type { Config } from "../config/index.ts";
import type { Message } from "../model/messages.ts";
import type { Runtime } from "../wire.ts";
import { describeError, ExitCode, exitCodeFor } from "./exit-codes.ts";
import type { Terminal } from "./io.ts";
import { runSettings } from "./run-limits.ts";
import { trimHistory } from "../sessions/index.ts";
import { type ApprovalSettings, terminalApprovals } from "./approval-prompt.ts";
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
  /** Tools needing approval and what was approved ahead (`--approve`, `--yes`); the person is asked for the rest. */
  readonly approvals?: Omit<ApprovalSettings, "askLine" | "err">;
}

/** What `/help` prints. */
const helpText = "commands: /reset clears the history, /exit (or Ctrl-D) quits, /help shows this; Ctrl-C cancels an answer\n";

/**
 * `skiff chat`: a REPL that streams answers and keeps the conversation. Prompts go to stderr so
 * stdout holds only answers. Ctrl-C during an answer cancels it; Ctrl-C at the prompt (or a
 * second one while cancelling) quits with 130. `/exit` or end of input quits with 0 when every
 * turn was answered, else with the exit code of the last turn that failed (as `ask` would have).
 */
export async function chat(options: ChatOptions): Promise<number> {
  const { config, runtime, terminal } = options;
  const settings = runSettings(config);
  const system: Message[] = config.system ? [{ role: "system", content: config.system }] : [];
  let history: Message[] = [...system, ...((await options.session?.load()) ?? [])];
  let current: AbortController | undefined;
  let exitCode: number | undefined;
  /** The exit code of the last turn that failed: a script piping questions in must see it. */
  let failedTurnCode: number | undefined;

  const lines = createInterface({ input: options.input, terminal: false, crlfDelay: Infinity });
  // One reader of input lines for the prompt and for approval questions asked during a run.
  const input = lines[Symbol.asyncIterator]();
  const readLine = async (): Promise<string | undefined> => {
    const next = await input.next();
    return next.done ? undefined : next.value;
  };
  const approvals =
    options.approvals &&
    terminalApprovals({
      ...options.approvals,
      err: terminal.err,
      askLine: (question) => {
        terminal.err(question);
        return readLine();
      },
    });
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

  terminal.err(`skiff chat · model ${runtime.model.name} · /help lists commands, /exit quits\n`);
  if (history.length > system.length) terminal.err(`(continuing the session: ${history.length - system.length} messages)\n`);
  const prompt = () => terminal.err("you> ");
  prompt();
  try {
    for (let raw = await readLine(); raw !== undefined; raw = await readLine()) {
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
      if (line === "/help") {
        terminal.err(helpText);
        prompt();
        continue;
      }
      // An unknown command is not sent to the model as a question (a typo of /exit would be).
      if (/^\/[A-Za-z]+$/.test(line)) {
        terminal.err(`unknown command ${line}; ${helpText}`);
        prompt();
        continue;
      }
      current = new AbortController();
      const messages: Message[] = [...history, { role: "user", content: line }];
      let streamed = false;
      let textStep: number | undefined;
      try {
        const result = await runAgent({
          model: runtime.model,
          tools: runtime.tools,
          messages,
          ...settings,
          signal: current.signal,
          tracer: runtime.tracer,
          stream: true,
          ...(approvals === undefined ? {} : { approvals }),
          onEvent: (event) => {
            if (event.type === "model.delta") {
              streamed = true;
              // Text of a later step (after tools ran) starts on its own line, not glued to the last.
              if (textStep !== undefined && textStep !== event.step) terminal.out("\n");
              textStep = event.step;
              terminal.out(event.text);
            } else if (event.type === "tool.finished") {
              terminal.err(`· ${event.name} ${event.ok ? "ok" : "error"} (${event.durationMs.toFixed(1)}ms)\n`);
            }
          },
        });
        if (!streamed) terminal.out(result.output);
        terminal.out("\n");
        if (result.finishReason === "content_filter") {
          terminal.err("(the provider's content filter stopped this answer)\n");
          failedTurnCode = ExitCode.runFailed;
        }
        // Oldest turns go first, never a tool call without its result; the system prompt stays.
        const conversation = result.messages.slice(system.length);
        history = [...system, ...trimHistory(conversation, config.server.max_history_messages)];
        // The turn: this user message and everything the run added after it.
        const stored = await options.session?.save(result.messages.slice(result.inputMessageCount - 1), terminal);
        if (stored) history = [...system, ...stored];
      } catch (error) {
        if (streamed) terminal.out("\n");
        if (error instanceof RunCancelledError) terminal.err("(answer cancelled)\n");
        else {
          terminal.err(describeError(error, options.verbose));
          failedTurnCode = exitCodeFor(error);
        }
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
  return exitCode ?? failedTurnCode ?? ExitCode.ok;
}
