/**
 * What an `[[mcp]]` server is started with (a stdio server's argv, cwd and environment; an HTTP
 * server's headers), and why it could not be started, found without starting it. Imports no MCP
 * SDK: `skiff config check` uses it without paying for the SDK, and the connection uses it before
 * each start, so both say the same words.
 */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { z } from "zod";
import { resolveSecretRef, type SecretSources } from "../../config/secrets.ts";
import type { mcpServerEntry } from "../../config/sections/tools.ts";
import { ConfigError, configIssue, type Issue } from "../../errors.ts";
import { findProgram } from "../find-program.ts";
import type { GroupSpawnOptions } from "../process-group.ts";

type McpEntry = z.output<typeof mcpServerEntry>;

/** What a stdio server's spawn needs from skiff. */
export interface StdioContext {
  readonly secrets: SecretSources;
  /** skiff's environment: only HOME, LOGNAME, PATH, SHELL, TERM and USER are passed on. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** skiff's working directory, the default `cwd` of stdio servers. */
  readonly cwd: string;
}

// The variables the MCP SDK's own stdio transport passes on (after sudo's list): what `npx`
// and most servers need to run, and no credentials.
const inheritedVariables = ["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"];

/** The argv, cwd and environment of a stdio server; its `env:`/`file:` values are resolved now. */
export function stdioSpawnOptions(entry: McpEntry, context: StdioContext): GroupSpawnOptions {
  const env: Record<string, string> = {};
  for (const name of inheritedVariables) {
    const value = context.env[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, ref] of Object.entries(entry.env)) env[name] = resolveSecretRef(ref, ["mcp", entry.name, "env", name], context.secrets);
  return { argv: entry.command ?? [], cwd: entry.cwd ?? context.cwd, env };
}

/**
 * Why the spawn would fail, or undefined: a working directory that does not exist, or a program
 * that is not where the spawn looks (the child's PATH, or a path relative to its cwd). With no
 * PATH at all the spawn falls back to a search path of its own, so a bare name is left to it.
 */
export function stdioStartProblem(spawn: GroupSpawnOptions): string | undefined {
  const cwd = resolve(spawn.cwd ?? ".");
  if (!existsSync(cwd) || !statSync(cwd).isDirectory()) return `the directory "${cwd}" does not exist; set cwd to an existing directory`;
  const program = spawn.argv[0] ?? "";
  if (!program.includes("/") && spawn.env["PATH"] === undefined) return undefined;
  const found = findProgram(program, spawn.env["PATH"], cwd);
  return found.ok ? undefined : found.problem;
}

/** The message of a stdio server that could not be started. */
export function startFailedMessage(server: string, why: string): string {
  return `MCP server "${server}" could not be started: ${why}`;
}

/** The headers of an HTTP server; `env:`/`file:` values are resolved now. */
export function resolveHeaders(entry: McpEntry, secrets: SecretSources): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, ref] of Object.entries(entry.headers)) headers[name] = resolveSecretRef(ref, ["mcp", entry.name, "headers", name], secrets);
  return headers;
}

/**
 * What would stop each server's start, as the issues a start reports, without starting any:
 * unresolvable `env:`/`file:` values, and for stdio servers a missing cwd or program.
 */
export function mcpStartIssues(entries: readonly McpEntry[], context: StdioContext): Issue[] {
  return entries.flatMap((entry): Issue[] => {
    try {
      if (entry.url !== undefined) {
        resolveHeaders(entry, context.secrets);
        return [];
      }
      const problem = stdioStartProblem(stdioSpawnOptions(entry, context));
      return problem === undefined ? [] : [configIssue(`mcp[${entry.name}]`, startFailedMessage(entry.name, problem), { code: "not_found" })];
    } catch (error) {
      if (error instanceof ConfigError) return [...error.issues];
      throw error;
    }
  });
}
