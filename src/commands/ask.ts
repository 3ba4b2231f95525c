import { ask } from "../cli/ask.ts";
import { type CommandContext, switchOn } from "../cli/commands.ts";
import { ExitCode } from "../cli/exit-codes.ts";
import { logToTerminal } from "../cli/log-line.ts";
import { UsageError } from "../errors.ts";
import { buildRuntime } from "../wire.ts";
import { withInterrupt } from "./with-interrupt.ts";

/** `skiff ask`: builds the runtime, runs one question under Ctrl-C/SIGTERM, shuts the runtime down. */
export async function runAsk(context: CommandContext): Promise<number> {
  const { config } = context.loadConfig();
  const { positionals, terminal } = context;
  if (positionals.length > 1) {
    throw new UsageError(`ask takes one question; quote it: skiff ask "${positionals.join(" ")}"`);
  }
  const traceparent = context.env["TRACEPARENT"];
  const runtime = await buildRuntime({
    config,
    secrets: context.secrets,
    log: logToTerminal(terminal),
    ...(switchOn(context, "trace") ? { traceTo: terminal.err } : {}),
  });
  try {
    await withInterrupt((signal) =>
      ask({
        question: positionals[0],
        json: switchOn(context, "json"),
        config,
        runtime,
        terminal,
        signal,
        ...(traceparent ? { traceparent } : {}),
      }),
    );
  } finally {
    await runtime.shutdown();
  }
  return ExitCode.ok;
}
