import type { ApprovalGate } from "../agent/approval.ts";
import { type AskLine, terminalApprovals } from "../cli/approval-prompt.ts";
import { ask } from "../cli/ask.ts";
import type { Terminal } from "../cli/io.ts";
import { lineAsker, listFlag } from "./line-asker.ts";
import type { Config } from "../config/index.ts";
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
  const asker = terminal.stdinIsTTY ? lineAsker(terminal) : undefined;
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
        ...approvalsOf(context, config, terminal, asker?.ask),
      }),
    );
  } finally {
    asker?.close();
    await runtime.shutdown();
  }
  return ExitCode.ok;
}

/** The approval gate of `ask`: a prompt on stderr when stdin is a terminal, else the run pauses (exit 4). */
function approvalsOf(context: CommandContext, config: Config, terminal: Terminal, askLine: AskLine | undefined): { approvals?: ApprovalGate } {
  const approvals = terminalApprovals({
    required: config.tools.require_approval,
    preApproved: listFlag(context, "approve"),
    approveAll: switchOn(context, "yes"),
    err: terminal.err,
    ...(askLine === undefined ? {} : { askLine }),
  });
  return approvals === undefined ? {} : { approvals };
}
