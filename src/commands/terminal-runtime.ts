import { type CommandContext, switchOn } from "../cli/commands.ts";
import { logToTerminal } from "../cli/log-line.ts";
import type { Config } from "../config/index.ts";
import { startupDone } from "../platform/jit-policy.ts";
import { buildRuntime, type Runtime } from "../wire.ts";

/**
 * The runtime of a command that talks to a terminal (ask, chat): its log lines go to stderr, and
 * `--trace` draws the span tree there. Start-up ends once it is built (platform/jit-policy.ts).
 */
export async function terminalRuntime(context: CommandContext, config: Config): Promise<Runtime> {
  const { terminal } = context;
  const runtime = await buildRuntime({
    config,
    secrets: context.secrets,
    log: logToTerminal(terminal),
    ...(switchOn(context, "trace") ? { traceTo: terminal.err } : {}),
  });
  startupDone();
  return runtime;
}
