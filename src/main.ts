/**
 * skiff's entry point and composition root: parses argv, loads config, wires the real adapters
 * and dispatches to a command. Errors become one stderr line and an exit code (DESIGN §5).
 */
import { existsSync, readFileSync } from "node:fs";
import { CancelReason } from "./agent/index.ts";
import { parseArgs } from "./cli/argv.ts";
import { ask } from "./cli/ask.ts";
import { chat } from "./cli/chat.ts";
import { commandHelp, findCommand, flagsOf, mainHelp } from "./cli/commands.ts";
import { checkConfig, printConfigSchema, showConfig } from "./cli/config-cmd.ts";
import { describeError, ExitCode, exitCodeFor } from "./cli/exit-codes.ts";
import type { Terminal } from "./cli/io.ts";
import { callTool, listTools } from "./cli/tools-cmd.ts";
import { printVersion } from "./cli/version.ts";
import { type LoadedConfig, loadConfig, type SecretSources } from "./config/index.ts";
import { ConfigError, UsageError } from "./errors.ts";
import { buildRuntime, buildTools } from "./wire.ts";

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
  if (name === "--version") {
    printVersion(false, terminal);
    return ExitCode.ok;
  }
  const command = findCommand(name);
  if (!command) throw new UsageError(`unknown command "${name}"; commands are ask, chat, tools, config, version (see skiff --help)`);
  const args = parseArgs(rest, flagsOf(command), command.name);
  const flag = (key: string) => args.flags.get(key);
  const on = (key: string) => flag(key) === "true";
  if (on("help")) {
    terminal.out(commandHelp(command));
    return ExitCode.ok;
  }

  if (command.name === "version") {
    printVersion(on("json"), terminal);
    return ExitCode.ok;
  }

  const loaded = load(args.flags);
  const config = loaded.config;
  const [sub, ...positionals] = args.positionals;

  switch (command.name) {
    case "config":
      if (sub === "check") checkConfig(loaded, terminal);
      else if (sub === "show") showConfig(loaded, env, terminal);
      else if (sub === "schema") printConfigSchema(terminal);
      else throw new UsageError(`config needs a subcommand: check, show or schema${sub ? ` (got "${sub}")` : ""}`);
      return ExitCode.ok;

    case "tools": {
      const tools = buildTools(config);
      if (sub === "list") listTools(tools, on("json"), terminal);
      else if (sub === "call") await withInterrupt((signal) => callTool(positionals[0], positionals[1], tools, config, terminal, signal));
      else throw new UsageError(`tools needs a subcommand: list or call${sub ? ` (got "${sub}")` : ""}`);
      return ExitCode.ok;
    }

    case "ask": {
      if (args.positionals.length > 1) {
        throw new UsageError(`ask takes one question; quote it: skiff ask "${args.positionals.join(" ")}"`);
      }
      const runtime = buildRuntime({ config, secrets, ...(on("trace") ? { traceTo: terminal.err } : {}) });
      try {
        await withInterrupt((signal) =>
          ask({
            question: args.positionals[0],
            json: on("json"),
            config,
            runtime,
            terminal,
            signal,
            ...(env["TRACEPARENT"] ? { traceparent: env["TRACEPARENT"] } : {}),
          }),
        );
      } finally {
        await runtime.shutdown();
      }
      return ExitCode.ok;
    }

    case "chat": {
      const runtime = buildRuntime({ config, secrets, ...(on("trace") ? { traceTo: terminal.err } : {}) });
      try {
        return await chat({
          config,
          runtime,
          terminal,
          input: process.stdin,
          verbose: on("verbose"),
          onInterrupt: (handler) => {
            process.on("SIGINT", handler);
            return () => process.off("SIGINT", handler);
          },
        });
      } finally {
        await runtime.shutdown();
      }
    }

    default:
      throw new UsageError(`command "${command.name}" is not available in this build`);
  }
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

/**
 * Runs work with one AbortSignal that Ctrl-C and SIGTERM abort. A second Ctrl-C exits at once,
 * for a tool that does not stop.
 */
async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    controller.abort(new CancelReason(signal === "SIGINT" ? "interrupted (Ctrl-C)" : `received ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

const verbose = process.argv.includes("--verbose");
let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (error) {
  terminal.err(describeError(error, verbose));
  code = exitCodeFor(error);
}
process.exit(code);
