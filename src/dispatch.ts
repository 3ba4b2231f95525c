/**
 * skiff's composition root: parses argv, loads config, wires the real adapters and dispatches to
 * a command. Errors become one stderr line and an exit code (DESIGN §5). main.ts loads it.
 */
import { existsSync, readFileSync } from "node:fs";
import { CancelReason } from "./agent/index.ts";
import { parseArgs } from "./cli/argv.ts";
import { commandHelp, commands, findCommand, flagsOf, mainHelp } from "./cli/commands.ts";
import { describeError, ExitCode, exitCodeFor } from "./cli/exit-codes.ts";
import type { Terminal } from "./cli/io.ts";
import { logToTerminal } from "./cli/log-line.ts";
import { printVersion } from "./cli/version.ts";
import { type LoadedConfig, loadConfig, type SecretSources } from "./config/index.ts";
import { ConfigError, UsageError } from "./errors.ts";
// Commands load what they need when they run (dynamic imports below): `skiff version` must not
// pay for the OpenAI SDK, OpenTelemetry or the HTTP server, and `serve` re-executes itself
// before loading them (platform/http-capacity.ts).
import { bunDefaultMaxHttpRequests, ensureHttpCapacity, maxHttpRequestsVariable } from "./platform/http-capacity.ts";

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
  if (!command) throw new UsageError(`unknown command "${name}"; commands are ${commands.map((c) => c.name).join(", ")} (see skiff --help)`);
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
  // These three must work whatever the config says: init writes one, doctor reports its errors.
  if (command.name === "completion") {
    const { completionScript } = await import("./cli/completion.ts");
    terminal.out(completionScript(args.positionals[0]));
    return ExitCode.ok;
  }
  if (command.name === "init") {
    const path = args.positionals[0] ?? flag("config") ?? env["SKIFF_CONFIG"] ?? "skiff.toml";
    const foundByDefault = args.positionals[0] === undefined && flag("config") === undefined;
    const { initConfig, writeNewFile } = await import("./cli/init.ts");
    initConfig({ path, foundByDefault, terminal, writeNew: writeNewFile });
    return ExitCode.ok;
  }
  if (command.name === "doctor") {
    const [{ doctor }, { wireDoctorChecks }] = await Promise.all([import("./cli/doctor.ts"), import("./wire-doctor.ts")]);
    return doctor({
      load: () => load(args.flags),
      checks: wireDoctorChecks({ secrets, env, cwd: process.cwd() }),
      context: { fetch, timeoutMs: 5_000, secrets, path: env["PATH"] ?? "" },
      terminal,
    });
  }

  if (command.name === "serve") {
    // Before anything is loaded: this only returns when no re-exec was needed or possible, so the
    // config is read once, by the process that serves (see platform/http-capacity.ts).
    const capacity = ensureHttpCapacity(env);
    if (capacity.kind === "unsupported") {
      terminal.err(
        `skiff: warn: outbound HTTP requests stay limited to ${bunDefaultMaxHttpRequests} at once (${capacity.reason}); set ${maxHttpRequestsVariable} in the service's environment to raise it\n`,
      );
    }
  }
  const loaded = load(args.flags);
  const config = loaded.config;
  const [sub, ...positionals] = args.positionals;

  switch (command.name) {
    case "config": {
      const { checkConfig, printConfigSchema, showConfig } = await import("./cli/config-cmd.ts");
      if (sub === "check") checkConfig(loaded, terminal);
      else if (sub === "show") showConfig(loaded, env, terminal);
      else if (sub === "schema") printConfigSchema(terminal);
      else throw new UsageError(`config needs a subcommand: check, show or schema${sub ? ` (got "${sub}")` : ""}`);
      return ExitCode.ok;
    }

    case "tools": {
      if (sub !== "list" && sub !== "call") throw new UsageError(`tools needs a subcommand: list or call${sub ? ` (got "${sub}")` : ""}`);
      const [{ buildTools }, { callTool, listTools }] = await Promise.all([import("./wire.ts"), import("./cli/tools-cmd.ts")]);
      const { tools, close } = await buildTools(config, secrets);
      try {
        if (sub === "list") listTools(tools, on("json"), terminal);
        else await withInterrupt((signal) => callTool(positionals[0], positionals[1], tools, config, terminal, signal));
      } finally {
        await close();
      }
      return ExitCode.ok;
    }

    case "ask": {
      if (args.positionals.length > 1) {
        throw new UsageError(`ask takes one question; quote it: skiff ask "${args.positionals.join(" ")}"`);
      }
      const [{ buildRuntime }, { ask }] = await Promise.all([import("./wire.ts"), import("./cli/ask.ts")]);
      const runtime = await buildRuntime({ config, secrets, log: logToTerminal(terminal), ...(on("trace") ? { traceTo: terminal.err } : {}) });
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
      const [{ buildRuntime }, { chat }, { openChatSession }] = await Promise.all([
        import("./wire.ts"),
        import("./cli/chat.ts"),
        import("./wire-sessions.ts"),
      ]);
      const session = await openChatSession(flag("session"), config, { env, cwd: process.cwd() }, terminal);
      const runtime = await buildRuntime({ config, secrets, log: logToTerminal(terminal), ...(on("trace") ? { traceTo: terminal.err } : {}) });
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
          ...(session ? { session: session.chat } : {}),
        });
      } finally {
        await runtime.shutdown();
        await session?.close();
      }
    }

    case "serve": {
      const { serveCommand } = await import("./wire-serve.ts");
      return await serveCommand({
        config,
        secrets,
        cwd: process.cwd(),
        write: terminal.err,
        onSignal: (handler) => {
          process.on("SIGTERM", () => handler("SIGTERM"));
          process.on("SIGINT", () => handler("SIGINT"));
        },
      });
    }

    case "sessions": {
      const [{ sessionsCommand }, { openConfiguredStore }, { atomicFileSink }] = await Promise.all([
        import("./cli/sessions-cmd.ts"),
        import("./wire-sessions.ts"),
        import("./cli/atomic-file.ts"),
      ]);
      return await sessionsCommand({
        sub,
        args: positionals,
        output: flag("output"),
        replace: on("replace"),
        terminal,
        openStore: (purpose) => openConfiguredStore(config, { env, cwd: process.cwd() }, { mustExist: purpose === "export" }),
        openInput: (path) => (path === "-" ? Bun.stdin.stream() : openInputFile(path)),
        openOutput: atomicFileSink,
      });
    }

    case "systemd": {
      const { printSystemdUnit, selfCommand } = await import("./cli/systemd-cmd.ts");
      printSystemdUnit({ command, flags: args.flags, loaded, env, cwd: process.cwd(), terminal, self: selfCommand(process.execPath, Bun.main) });
      return ExitCode.ok;
    }

    default:
      throw new UsageError(`command "${command.name}" is not available in this build`);
  }
}

/** An import file's bytes; a missing file is a usage error naming it. */
function openInputFile(path: string): ReadableStream<Uint8Array> {
  if (!existsSync(path)) throw new UsageError(`no file ${path} to import; give the path of a skiff sessions export (JSONL), or - for stdin`);
  return Bun.file(path).stream();
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

/** Runs the command in `argv` and returns the exit code; errors become one line on stderr. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    terminal.err(describeError(error, argv.includes("--verbose")));
    return exitCodeFor(error);
  }
}
