import type { ApprovalGate } from "../agent/approval.ts";
import { type AskLine, terminalApprovals } from "../cli/approval-prompt.ts";
import { existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ask, type AskOutput } from "../cli/ask.ts";
import { loadOutputSchemaFile } from "../cli/output-schema-file.ts";
import { notStartedDocument } from "../cli/not-started.ts";
import type { Terminal } from "../cli/io.ts";
import { lineAsker, listFlag } from "./line-asker.ts";
import type { Config } from "../config/index.ts";
import { type CommandContext, switchOn } from "../cli/commands.ts";
import { ExitCode } from "../cli/exit-codes.ts";
import { UsageError } from "../errors.ts";
import { terminalRuntime } from "./terminal-runtime.ts";
import { withInterrupt } from "./with-interrupt.ts";

/**
 * `skiff ask`: builds the runtime, runs one question under Ctrl-C/SIGTERM, shuts the runtime down.
 * With `--json` or `--stream-json`, a failure before the run (config, flags, the schema file) is
 * printed as a result document too, so stdout always parses.
 */
export async function runAsk(context: CommandContext): Promise<number> {
  const output = outputOf(context);
  try {
    return await askWith(context, output);
  } catch (error) {
    // ask() prints what happens from the question on; what failed before it is printed here.
    if (!(error instanceof AskReported) && output !== "text") context.terminal.out(notStartedDocument(error, output));
    throw error instanceof AskReported ? error.cause : error;
  }
}

/** An error `ask` already reported on stdout. */
class AskReported extends Error {}

async function askWith(context: CommandContext, output: AskOutput): Promise<number> {
  const loaded = context.loadConfig();
  const { config } = loaded;
  const { positionals, terminal } = context;
  if (positionals.length > 1) {
    throw new UsageError(`ask takes one question; quote it: skiff ask "${positionals.join(" ")}"`);
  }
  const outputFile = context.flags.get("output-file");
  if (outputFile !== undefined) checkOutputFile(outputFile);
  const outputSchema =
    config.output_schema === undefined ? undefined : await loadOutputSchemaFile(config.output_schema, config.output_schema_retries, loaded.sources.get("output_schema"));
  const traceparent = context.env["TRACEPARENT"];
  const runtime = await terminalRuntime(context, config);
  const asker = terminal.stdinIsTTY ? lineAsker(terminal) : undefined;
  try {
    await withInterrupt((signal) =>
      ask({
        question: positionals[0],
        output,
        config,
        runtime,
        terminal,
        signal,
        ...(traceparent ? { traceparent } : {}),
        ...approvalsOf(context, config, terminal, asker?.ask),
        ...(outputSchema === undefined ? {} : { outputSchema }),
        ...(outputFile === undefined ? {} : { writeAnswer: (text: string) => writeAtomically(outputFile, text) }),
      }).catch((error: unknown) => {
        throw new AskReported("reported", { cause: error });
      }),
    );
  } finally {
    asker?.close();
    await runtime.shutdown();
  }
  return ExitCode.ok;
}

/** `--json`, `--stream-json` (not both), or the answer's text. */
function outputOf(context: CommandContext): AskOutput {
  const json = switchOn(context, "json");
  const stream = switchOn(context, "stream-json");
  if (json && stream) throw new UsageError("--json and --stream-json are two forms of the same output; choose one");
  return stream ? "stream-json" : json ? "json" : "text";
}

/** Refuses an --output-file whose folder is missing before any token is spent. */
function checkOutputFile(path: string): void {
  if (!existsSync(dirname(resolve(path)))) throw new UsageError(`--output-file ${path}: its directory does not exist; create it or choose another path`);
}

/** Writes the answer next to `path` and renames it into place, so a reader never sees half of it. */
function writeAtomically(path: string, text: string): void {
  const temp = `${path}.partial-${process.pid}`;
  try {
    writeFileSync(temp, text.endsWith("\n") || text === "" ? text : `${text}\n`);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new UsageError(`--output-file ${path}: cannot write it (${(error as { code?: string }).code ?? String(error)}); choose another path`);
  }
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
