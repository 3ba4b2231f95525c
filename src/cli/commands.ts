/**
 * The command table: every `skiff` command with its help, flags and `run`. dispatch.ts looks a
 * command up here and runs it; `--help` and shell completion read the same table.
 */
import { z } from "zod";
import type { LoadedConfig, SecretSources } from "../config/index.ts";
import { configLeaves } from "../config/leaves.ts";
import type { FlagSpec } from "./argv.ts";
import { ExitCode } from "./exit-codes.ts";
import type { Terminal } from "./io.ts";
import { type DocumentOutput, documentOutputOf } from "./not-started.ts";
import { printVersion } from "./version.ts";

/** What a command's `run` gets from dispatch.ts: its parsed argv and the process's terminal and environment. */
export interface CommandContext {
  readonly command: CommandSpec;
  readonly positionals: readonly string[];
  /** Flag name → value text ("true"/"false" for switches). */
  readonly flags: ReadonlyMap<string, string>;
  readonly terminal: Terminal;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly secrets: SecretSources;
  readonly cwd: string;
  /** The effective config from flags, env and file; throws ConfigError when it is invalid. */
  readonly loadConfig: () => LoadedConfig;
}

/** Runs a command; resolves to its exit code. */
export type CommandRun = (context: CommandContext) => Promise<number>;

/** One `skiff` command: its usage line, own flags, whether config flags apply, and what runs it. */
export interface CommandSpec {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly flags: readonly FlagSpec[];
  /** Config keys settable as flags here (filtered by each key's `commands`). */
  readonly configFlags: boolean;
  readonly subcommands?: readonly { readonly name: string; readonly summary: string }[];
  /**
   * For commands whose stdout is a document in every outcome (`ask --json`): the form the raw argv
   * asks for, so an argv that does not parse is reported in it too.
   */
  readonly documentOutput?: (argv: readonly string[]) => DocumentOutput | undefined;
  /**
   * Imports the command's code and runs it. The import is dynamic so that start-up loads only the
   * command that runs: `skiff version` never pays for the OpenAI SDK, OpenTelemetry or the server.
   */
  readonly run: CommandRun;
}

/** True when a switch such as `--json` is on. */
export function switchOn(context: Pick<CommandContext, "flags">, name: string): boolean {
  return context.flags.get(name) === "true";
}

/** `ask` and `chat`: approve calls of tools in tools.require_approval ahead of time. */
const approvalFlags: readonly FlagSpec[] = [
  { name: "approve", takesValue: true, placeholder: "TOOL,TOOL", help: "Approve calls of these tools without asking (tools.require_approval)" },
  { name: "yes", takesValue: false, help: "Approve every tool call without asking: dangerous, the model then acts unchecked" },
];

const globalFlags: readonly FlagSpec[] = [
  { name: "config", takesValue: true, placeholder: "PATH", help: "Config file (else SKIFF_CONFIG, else ./skiff.toml)" },
  { name: "verbose", takesValue: false, help: "Print stack traces and debug detail on errors" },
  { name: "help", takesValue: false, help: "Show this help" },
];

/** Every command, in the order `skiff --help` lists them. */
export const commands: readonly CommandSpec[] = [
  {
    name: "ask",
    usage: 'skiff ask [flags] "question"',
    summary: 'One run: the answer on stdout, progress on stderr. The question is read from stdin when it is "-" or absent and stdin is not a terminal.',
    configFlags: true,
    run: async (context) => (await import("../commands/ask.ts")).runAsk(context),
    documentOutput: documentOutputOf,
    flags: [
      { name: "json", takesValue: false, help: "Print the whole run result as one JSON document, whatever the outcome (skiff schema result)" },
      { name: "stream-json", takesValue: false, help: "Print one JSON event per line as the run goes, the last one with the result (skiff schema event)" },
      { name: "output-file", takesValue: true, placeholder: "PATH", help: "Also write the final answer to PATH (only when the run answered; replaced whole)" },
      { name: "trace", takesValue: false, help: "Print the run's span tree on stderr when it ends" },
      ...approvalFlags,
    ],
  },
  {
    name: "chat",
    usage: "skiff chat [flags]",
    summary: "Interactive chat that streams answers and keeps history. /reset clears it, /exit quits; Ctrl-C cancels an answer, a second Ctrl-C quits.",
    configFlags: true,
    run: async (context) => (await import("../commands/chat.ts")).runChat(context),
    flags: [
      { name: "trace", takesValue: false, help: "Print each run's span tree on stderr" },
      ...approvalFlags,
      {
        name: "session",
        takesValue: true,
        placeholder: "ID",
        help: "Keep the conversation in the session store under ID and continue it next time (store: --sessions, default sqlite ./skiff.db)",
      },
    ],
  },
  {
    name: "serve",
    usage: "skiff serve [flags]",
    summary: "HTTP service: POST /v1/runs, OpenAI-compatible /v1/chat/completions, sessions, /healthz, /readyz, /metrics. SIGTERM drains runs, then exits 0.",
    configFlags: true,
    run: async (context) => (await import("../commands/serve.ts")).runServe(context),
    flags: [],
  },
  {
    name: "sessions",
    usage: "skiff sessions export [--output FILE] | skiff sessions import [FILE|-] [--replace]",
    summary:
      "Export every session of the store (--sessions) as JSONL, one session per line, or import such a file in one transaction. Import refuses ids the store already has unless --replace.",
    configFlags: true,
    run: async (context) => (await import("../commands/sessions.ts")).runSessions(context),
    flags: [
      { name: "output", takesValue: true, placeholder: "FILE", help: "export: write to FILE (complete or not at all) instead of stdout" },
      { name: "replace", takesValue: false, help: "import: overwrite sessions whose id already exists (default: refuse, import nothing)" },
    ],
    subcommands: [
      { name: "export", summary: "Every session as JSONL: id, version, created_at, updated_at, messages" },
      { name: "import", summary: "Sessions from JSONL (FILE, or stdin): all or nothing" },
    ],
  },
  {
    name: "runs",
    usage: "skiff runs list [--status S] [--limit N] [--json] | skiff runs show ID [--json] | skiff runs cancel ID",
    summary:
      "The runs of the store (--sessions): list them newest first, show one with its result or pending approvals, or cancel one wherever it executes.",
    configFlags: true,
    run: async (context) => (await import("../commands/runs.ts")).runRuns(context),
    flags: [
      { name: "status", takesValue: true, placeholder: "S", help: "list: only runs with this status (queued, running, requires_action, completed, failed, cancelled)" },
      { name: "limit", takesValue: true, placeholder: "N", help: "list: at most N runs (default 50)" },
      { name: "json", takesValue: false, help: "Machine-readable output (list: one JSON object per line)" },
    ],
    subcommands: [
      { name: "list", summary: "Runs, newest first" },
      { name: "show", summary: "One run: status, attempt, replica, trace, output or error, pending approvals" },
      { name: "cancel", summary: "Cancel a run: at once when nobody executes it, else by its replica within half a second" },
    ],
  },
  {
    name: "systemd",
    usage: "skiff systemd [flags] > /etc/systemd/system/skiff.service",
    summary: "Print a hardened systemd unit that runs this binary's serve with the given flags and config. Secret files become LoadCredential=, read from $CREDENTIALS_DIRECTORY.",
    configFlags: true,
    run: async (context) => (await import("../commands/systemd.ts")).runSystemd(context),
    flags: [
      { name: "binary", takesValue: true, placeholder: "PATH", help: "Absolute path of skiff on the server (default: this binary)" },
      { name: "socket", takesValue: false, help: "Also print skiff.socket: systemd holds the listening socket, so a restart refuses no connection" },
    ],
  },
  {
    name: "keys",
    usage: "skiff keys new NAME [--json] | skiff keys hash < KEYFILE",
    summary:
      "API keys for skiff serve: make a random key (printed once, on stderr) and print the [[server.keys]] entry that holds only its hash, ready to append to the config; or hash a key you have (stdin).",
    configFlags: false,
    run: async (context) => (await import("../commands/keys.ts")).runKeys(context),
    flags: [{ name: "json", takesValue: false, help: "new: print {name, key, hash, toml} as one JSON object on stdout" }],
    subcommands: [
      { name: "new", summary: "A new key for client NAME and its [[server.keys]] entry" },
      { name: "hash", summary: "The sha256:<hex> hash of the key on stdin" },
    ],
  },
  {
    name: "tools",
    usage: "skiff tools list [--json] | skiff tools call NAME '{json}'",
    summary: "List the enabled tools with their JSON Schemas, or run one without a model.",
    configFlags: true,
    run: async (context) => (await import("../commands/tools.ts")).runTools(context),
    flags: [{ name: "json", takesValue: false, help: "Machine-readable output" }],
    subcommands: [
      { name: "list", summary: "Every enabled tool, where it comes from, and its JSON Schema" },
      { name: "call", summary: "Run one tool with JSON arguments, with the agent's validation and limits" },
    ],
  },
  {
    name: "config",
    usage: "skiff config check | show | schema",
    summary: "Validate the configuration, show the effective values and their sources (secrets hidden), or print its JSON Schema.",
    configFlags: true,
    run: async (context) => (await import("../commands/config.ts")).runConfig(context),
    flags: [],
    subcommands: [
      { name: "check", summary: "Validate flags, env vars and the config file, and run every start-up check of the commands (listen address, tools, programs, key files) without starting anything; exit 2 on any problem" },
      { name: "show", summary: "Effective configuration with the source of each value; secrets hidden" },
      { name: "schema", summary: "JSON Schema of the config file" },
    ],
  },
  {
    name: "schema",
    usage: "skiff schema result | event | config",
    summary: "Print the JSON Schema of a document skiff writes: the run result (ask --json, the HTTP API's run bodies), one stream event (SSE data, a line of ask --stream-json), or the config file.",
    configFlags: false,
    run: async (context) => (await import("../commands/schema.ts")).runSchema(context),
    flags: [],
    subcommands: [
      { name: "result", summary: "ask --json in every outcome; POST /v1/runs and GET /v1/runs/{id} once completed" },
      { name: "event", summary: "One event of /v1/runs streams and /v1/runs/{id}/events, and a line of ask --stream-json" },
      { name: "config", summary: "The config file (as skiff config schema)" },
    ],
  },
  {
    name: "init",
    usage: "skiff init [PATH]",
    summary: "Write a commented skiff.toml (default ./skiff.toml, or --config PATH) that `skiff config check` accepts. Never overwrites a file.",
    configFlags: false,
    run: async (context) => (await import("../commands/init.ts")).runInit(context),
    flags: [],
  },
  {
    name: "doctor",
    usage: "skiff doctor [flags]",
    summary: "Check the configuration and reach the model endpoint, the OTLP collector, and each HTTP tool and MCP server it declares. One line per check says what to fix; exit 1 if any check fails.",
    configFlags: true,
    run: async (context) => (await import("../commands/doctor.ts")).runDoctor(context),
    flags: [],
  },
  {
    name: "completion",
    usage: "skiff completion bash | zsh | fish",
    summary: "Print a shell completion script for every command and flag. Load it with: source <(skiff completion bash)",
    configFlags: false,
    run: async (context) => (await import("../commands/completion.ts")).runCompletion(context),
    flags: [],
    subcommands: [
      { name: "bash", summary: "For bash: source <(skiff completion bash)" },
      { name: "zsh", summary: "For zsh: source <(skiff completion zsh)" },
      { name: "fish", summary: "For fish: skiff completion fish > ~/.config/fish/completions/skiff.fish" },
    ],
  },
  {
    name: "version",
    usage: "skiff version [--json]",
    summary: "Version, git commit, build date, Bun version and target.",
    configFlags: false,
    // Nothing to import: main.ts answers `skiff version` itself, before dispatch.ts is loaded; this
    // covers the rest (`version --verbose`). Importing version.ts here, as main.ts does, keeps it in
    // main.ts's own chunk of the binary.
    run: async (context) => {
      printVersion(switchOn(context, "json"), context.terminal);
      return ExitCode.ok;
    },
    flags: [{ name: "json", takesValue: false, help: "Machine-readable output" }],
  },
];

/** Finds a command by name. */
export function findCommand(name: string): CommandSpec | undefined {
  return commands.find((command) => command.name === name);
}

/** Own, global and config flags a command accepts. */
export function flagsOf(command: CommandSpec): FlagSpec[] {
  const config = command.configFlags ? configFlagSpecs(command.name) : [];
  return [...command.flags, ...config, ...globalFlags];
}

function configFlagSpecs(commandName: string): FlagSpec[] {
  return configLeaves
    .filter((leaf) => leaf.flag !== undefined)
    // config and doctor look at every key, whichever command it serves.
    .filter((leaf) => commandName === "config" || commandName === "doctor" || !leaf.meta.commands || leaf.meta.commands.includes(commandName))
    .map((leaf) => ({
      name: leaf.flag!,
      takesValue: leaf.meta.kind !== "boolean",
      placeholder: leaf.meta.placeholder ?? leaf.meta.kind.toUpperCase(),
      help: `${leaf.meta.help}${describeDefault(leaf.schema)} [${leaf.key}${leaf.env ? `, ${leaf.env}` : ""}]`,
    }));
}

function describeDefault(schema: z.ZodType): string {
  try {
    const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as { default?: unknown };
    if (json.default === undefined) return "";
    if (Array.isArray(json.default) && json.default.length === 0) return "";
    return ` (default ${typeof json.default === "string" ? json.default : JSON.stringify(json.default)})`;
  } catch {
    return "";
  }
}

/** `skiff --help`. */
export function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "skiff — an AI agent in one executable",
    "",
    "Usage: skiff <command> [flags]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary.split(". ")[0]!.replace(/\.$/, "")}`),
    "",
    'Run "skiff <command> --help" for a command\'s flags. Every config key is also a flag, a SKIFF_* env var and a skiff.toml key.',
    "",
  ].join("\n");
}

/** `skiff <command> --help`. */
export function commandHelp(command: CommandSpec): string {
  const own = [...command.flags, ...globalFlags];
  const config = command.configFlags ? configFlagSpecs(command.name) : [];
  const render = (flags: readonly FlagSpec[]) => {
    const labels = flags.map((f) => `--${f.name}${f.takesValue ? ` ${f.placeholder ?? "VALUE"}` : ""}`);
    const width = Math.max(...labels.map((l) => l.length));
    return flags.map((f, i) => `  ${labels[i]!.padEnd(width)}  ${f.help}`);
  };
  return [
    `Usage: ${command.usage}`,
    "",
    command.summary,
    ...(command.subcommands ? ["", "Subcommands:", ...command.subcommands.map((s) => `  ${s.name.padEnd(8)}${s.summary}`)] : []),
    "",
    "Flags:",
    ...render(own),
    ...(config.length > 0 ? ["", "Config flags (each also a SKIFF_* env var and a skiff.toml key):", ...render(config)] : []),
    "",
  ].join("\n");
}
