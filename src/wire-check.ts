/**
 * `checkStartup`: every check a command makes on its config before it runs, without starting
 * anything, for `skiff config check`. It calls the same functions the commands do (serve's
 * address, token and session store; the tools; the model's keys; the telemetry settings), so a
 * config it passes is one they start with.
 */
import { resolve } from "node:path";
import { loadOutputSchemaFile } from "./cli/output-schema-file.ts";
import type { Config, SecretSources } from "./config/index.ts";
import { ConfigError, type Issue } from "./errors.ts";
import { keyConfigIssues } from "./server/key-checks.ts";
import { serveStartup } from "./server/serve-startup.ts";
import { mcpToolPrefix } from "./tools/mcp/tool-names.ts";
import { resolveOtelSettings } from "./telemetry/otel-settings.ts";
import { buildModel, buildTools } from "./wire.ts";

/** Where the config is checked from: the environment and directory the commands would start in. */
export interface StartupContext {
  readonly secrets: SecretSources;
  readonly cwd: string;
}

/**
 * Throws one ConfigError with every problem `serve`, `ask`, `chat` or `tools` would stop on.
 * MCP servers are not started: their programs are looked up, their `env:`/`file:` values read.
 * Not checked: whether a session store opens (that creates it) and whether servers answer
 * (`skiff doctor` reaches them).
 */
export async function checkStartup(config: Config, context: StartupContext): Promise<void> {
  const { secrets, cwd } = context;
  const issues: Issue[] = [];
  const check = async (step: () => unknown) => {
    try {
      await step();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
    }
  };
  await check(() => serveStartup(config, secrets, cwd));
  await check(async () => {
    const tools = await buildTools(config, secrets, "check");
    await tools.close();
    // Keys' tools against the tools known without starting MCP servers (any tool of theirs may exist).
    const keyIssues = keyConfigIssues(config, { names: tools.tools.map((tool) => tool.name), unlisted: config.mcp.map((entry) => mcpToolPrefix(entry.name)) });
    if (keyIssues.length > 0) throw new ConfigError(keyIssues);
  });
  await check(() => buildModel(config, secrets));
  await check(() => resolveOtelSettings(config.otel, secrets));
  const schemaFile = config.output_schema;
  if (schemaFile !== undefined) await check(() => loadOutputSchemaFile(resolve(cwd, schemaFile), config.output_schema_retries, undefined));
  if (issues.length > 0) throw new ConfigError(issues);
}
