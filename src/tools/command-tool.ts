import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { z } from "zod";
import { resolveSecretRef, type SecretSources } from "../config/secrets.ts";
import type { commandToolEntry } from "../config/sections/tools.ts";
import { ConfigError, configIssue, parseIssuePath } from "../errors.ts";
import type { JsonSchema } from "../model/model.ts";
import { formatDuration, formatSize } from "../util/duration.ts";
import { type ArgvTemplate, expandArgv, parseArgvTemplate } from "./argv-template.ts";
import { findProgram } from "./find-program.ts";
import { compileParameters } from "./json-schema.ts";
import { createSemaphore } from "../util/semaphore.ts";
import { withTimeout } from "./outbound.ts";
import { runCommand } from "./process-group.ts";
import { type Tool, ToolFailure } from "./tool.ts";

/** One `[[tools.command]]` entry, validated. */
export type CommandToolEntry = z.output<typeof commandToolEntry>;

/** What a command tool needs from the outside. */
export interface CommandToolOptions {
  /** Resolves `env:` / `file:` values of the entry's `env`. */
  readonly secrets: SecretSources;
  /** `tool_timeout`, used when the entry sets no `timeout`. */
  readonly defaultTimeoutMs: number;
  /** skiff's PATH, handed to the child so it can find the programs it runs. */
  readonly path: string | undefined;
  /** Where relative `cwd` and program paths are taken from (skiff's working directory). */
  readonly cwd: string;
}

/**
 * Processes of one command tool at once when the entry sets no `max_concurrent`: a process costs
 * far more than a request, and a model that fans out 200 calls should not fork 200 programs.
 */
const defaultMaxProcesses = 16;
const errorTailChars = 1000;

/**
 * Turns a `[[tools.command]]` entry into a Tool. The program runs without a shell, in its own
 * process group, with an environment made only of PATH and the entry's `env`; its stdout is the
 * result, a non-zero exit is a tool error carrying the end of stderr.
 */
export function createCommandTool(entry: CommandToolEntry, options: CommandToolOptions): Tool {
  const path = `tools.command[${entry.name}]`;
  const parameters = compileParameters(entry.parameters, `${path}.parameters`);
  const template = parseArgvTemplate(entry.argv, declaredProperties(parameters.schema), `${path}.argv`);
  const cwd = resolveCwd(entry.cwd, options.cwd, `${path}.cwd`);
  const env = buildEnv(entry.env, options, `${path}.env`);
  const program = locateProgram(template, env["PATH"], cwd, `${path}.argv`);
  const timeoutMs = entry.timeout ?? options.defaultTimeoutMs;
  const processes = createSemaphore(entry.max_concurrent ?? defaultMaxProcesses);
  const programName = entry.argv[0]!;

  return {
    name: entry.name,
    description: entry.description,
    parameters: parameters.schema,
    type: "function",
    source: "command",
    parallel: entry.parallel,
    ...(entry.timeout === undefined ? {} : { timeoutMs: entry.timeout }),
    async execute(args, context) {
      const valid = parameters.validate(args);
      const argv = [program, ...expandArgv(template, valid, parameters.schema).slice(1)];
      const deadline = withTimeout(context.signal, timeoutMs);
      let outcome;
      try {
        outcome = await processes.run(() => runCommand({ argv, cwd, env }, deadline.signal, entry.max_output), deadline.signal);
      } catch (error) {
        if (context.signal.aborted) throw context.signal.reason;
        if (deadline.timedOut()) {
          throw new ToolFailure(
            `command "${programName}" did not finish within ${formatDuration(timeoutMs)} (timeout of tool "${entry.name}") and was killed with its child processes`,
            { code: "command_timeout", cause: error },
          );
        }
        throw new ToolFailure(`command "${programName}" could not be started: ${error instanceof Error ? error.message : String(error)}`, {
          code: "command_spawn_failed",
          cause: error,
        });
      } finally {
        deadline.dispose();
      }
      if (outcome.exitCode !== 0) {
        const how = outcome.exitCode === null ? `was killed by ${outcome.signalCode ?? "a signal"}` : `exited with code ${outcome.exitCode}`;
        const said = tail(outcome.stderr) || tail(outcome.stdout);
        throw new ToolFailure(`command "${programName}" ${how}${said ? `: ${said}` : " and printed nothing"}`, { code: "command_failed" });
      }
      if (outcome.stdoutTruncatedFrom !== undefined) {
        return `${outcome.stdout}\n…[stdout truncated: kept ${formatSize(entry.max_output)} of ${formatSize(outcome.stdoutTruncatedFrom)} (max_output)]`;
      }
      return outcome.stdout;
    },
  };
}

function declaredProperties(schema: JsonSchema): ReadonlySet<string> {
  const properties = schema["properties"];
  return new Set(typeof properties === "object" && properties !== null ? Object.keys(properties) : []);
}

function resolveCwd(cwd: string | undefined, base: string, path: string): string {
  const dir = resolve(base, cwd ?? ".");
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError([configIssue(path, `the directory "${dir}" does not exist; set cwd to an existing directory`, { code: "not_found" })]);
  }
  return dir;
}

/**
 * The child's environment: PATH (skiff's, so programs are found as in a shell, unless the entry
 * sets its own) plus the entry's `env`, whose values may be `env:NAME` or `file:PATH`. Nothing
 * else of skiff's environment (API keys, tokens) reaches the program.
 */
function buildEnv(entryEnv: Readonly<Record<string, string>>, options: CommandToolOptions, path: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (options.path !== undefined) env["PATH"] = options.path;
  // The variable's name as one segment: it is the user's own and may hold "." or "[".
  for (const [name, ref] of Object.entries(entryEnv)) env[name] = resolveSecretRef(ref, [...parseIssuePath(path), name], options.secrets);
  return env;
}

/** The program as an absolute path, found now so a typo fails at start-up, not on the first call. */
function locateProgram(template: ArgvTemplate, pathVariable: string | undefined, cwd: string, path: string): string {
  const found = findProgram(template.program, pathVariable, cwd);
  if (!found.ok) throw new ConfigError([configIssue(`${path}[0]`, found.problem, { code: "not_found" })]);
  return found.file;
}

function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > errorTailChars ? `…${trimmed.slice(-errorTailChars)}` : trimmed;
}
