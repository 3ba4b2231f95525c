/**
 * Runs one command: parses argv, finds the command in the table of cli/commands.ts and calls its
 * `run` with the process's terminal, environment and config loader. Errors become one stderr line
 * and an exit code (DESIGN §5). main.ts loads it for every command but `skiff version`.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "./cli/argv.ts";
import { type CommandContext, commandHelp, commands, findCommand, flagsOf, mainHelp, switchOn } from "./cli/commands.ts";
import { describeError, ExitCode, exitCodeFor } from "./cli/exit-codes.ts";
import { notStartedDocument } from "./cli/not-started.ts";
import type { Terminal } from "./cli/io.ts";
import { type LoadedConfig, loadConfig, type SecretSources } from "./config/index.ts";
import { ConfigError, UsageError } from "./errors.ts";

const terminal: Terminal = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  stdinIsTTY: process.stdin.isTTY === true,
  readStdin: () => new Response(Bun.stdin.stream()).text(),
};

function readFile(path: string): string | undefined {
  try {
    return existsSync(path) ? readFileSync(path, "utf8") : undefined;
  } catch {
    return undefined;
  }
}

const env: Readonly<Record<string, string | undefined>> = process.env;
const secrets: SecretSources = { env, readFile };

/** Runs one skiff command and returns its exit code. */
async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    terminal.out(mainHelp());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const command = findCommand(name === "--version" ? "version" : name);
  if (!command) throw new UsageError(`unknown command "${name}"; commands are ${commands.map((c) => c.name).join(", ")} (see skiff --help)`);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(rest, flagsOf(command), command.name);
  } catch (error) {
    // `ask --json` promises one document on stdout whatever happens, a bad flag included.
    const output = command.documentOutput?.(rest);
    if (output !== undefined) terminal.out(notStartedDocument(error, output));
    throw error;
  }
  const { positionals, flags } = parsed;
  if (switchOn({ flags }, "help")) {
    terminal.out(commandHelp(command));
    return ExitCode.ok;
  }
  const context: CommandContext = { command, positionals, flags, terminal, env, secrets, cwd: process.cwd(), loadConfig: () => load(flags) };
  return await command.run(context);
}

function load(flags: ReadonlyMap<string, string>): LoadedConfig {
  const configPath = flags.get("config");
  const result = loadConfig({
    flags,
    env,
    cwd: process.cwd(),
    ...(configPath === undefined ? {} : { configPath }),
    readFile,
    parseToml: (text) => Bun.TOML.parse(text),
  });
  if (!result.ok) throw new ConfigError(result.issues);
  return result.value;
}

/** Runs the command in `argv` and returns the exit code; errors become one line on stderr. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    terminal.err(describeError(error, argv.includes("--verbose")));
    return exitCodeFor(error);
  }
}
