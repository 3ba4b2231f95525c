import { existsSync } from "node:fs";
import { atomicFileSink } from "../cli/atomic-file.ts";
import { type CommandContext, switchOn } from "../cli/commands.ts";
import { sessionsCommand } from "../cli/sessions-cmd.ts";
import { UsageError } from "../errors.ts";
import { openConfiguredStore } from "../wire-sessions.ts";

/** `skiff sessions export|import` over the configured store, stdin/stdout and real files. */
export async function runSessions(context: CommandContext): Promise<number> {
  const { config } = context.loadConfig();
  const [sub, ...args] = context.positionals;
  return await sessionsCommand({
    sub,
    args,
    output: context.flags.get("output"),
    replace: switchOn(context, "replace"),
    terminal: context.terminal,
    openStore: (purpose) => openConfiguredStore(config, { env: context.env, cwd: context.cwd }, { mustExist: purpose === "export" }),
    openInput: (path) => (path === "-" ? Bun.stdin.stream() : openInputFile(path)),
    openOutput: atomicFileSink,
  });
}

/** An import file's bytes; a missing file is a usage error naming it. */
function openInputFile(path: string): ReadableStream<Uint8Array> {
  if (!existsSync(path)) throw new UsageError(`no file ${path} to import; give the path of a skiff sessions export (JSONL), or - for stdin`);
  return Bun.file(path).stream();
}
