import { afterEach, describe, expect, it } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeError } from "../../src/cli/exit-codes.ts";
import { type ConfigSources, loadConfig, type LoadResult } from "../../src/config/index.ts";
import { resolveSecretRef, type SecretSources } from "../../src/config/secrets.ts";
import { commandToolEntry } from "../../src/config/sections/tools.ts";
import { ConfigError, configIssue, formatIssuePath, type Issue, parseIssuePath } from "../../src/errors.ts";
import { builtinTools } from "../../src/tools/builtin/index.ts";
import { createCommandTool } from "../../src/tools/command-tool.ts";
import { selectTools } from "../../src/tools/select-tools.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";

const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-issue-");
afterEach(removeTempDirs);

const readFile = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : undefined);
const secrets = (env: Record<string, string> = {}): SecretSources => ({ env, readFile });

function load(options: { flags?: Record<string, string>; toml?: string; configPath?: string }): { result: LoadResult; file: string } {
  const cwd = tempDir();
  const file = join(cwd, "skiff.toml");
  if (options.toml !== undefined) writeFileSync(file, options.toml);
  const sources: ConfigSources = {
    flags: new Map(Object.entries(options.flags ?? {})),
    env: {},
    cwd,
    ...(options.configPath === undefined ? {} : { configPath: options.configPath }),
    readFile,
    parseToml: (text) => Bun.TOML.parse(text),
  };
  return { result: loadConfig(sources), file };
}

function issuesOf(result: LoadResult): Issue[] {
  if (result.ok) throw new Error("expected issues, got a valid config");
  return result.issues;
}

/** The issues of the ConfigError `build` throws. */
function thrownIssues(build: () => unknown): readonly Issue[] {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

function commandTool(entry: Record<string, unknown>, env: Record<string, string> = {}) {
  return createCommandTool(commandToolEntry.parse({ description: "test", ...entry }), {
    secrets: secrets(env),
    defaultTimeoutMs: 10_000,
    path: process.env["PATH"],
    cwd: tempDir(),
  });
}

describe("parseIssuePath", () => {
  it("splits dotted keys, bracketed names and bracketed indexes", () => {
    expect(parseIssuePath("a.b[c][0]")).toEqual(["a", "b", "c", 0]);
    expect(parseIssuePath("tools.http[search].argv[0]")).toEqual(["tools", "http", "search", "argv", 0]);
    expect(parseIssuePath("server.keys[0].tools")).toEqual(["server", "keys", 0, "tools"]);
    expect(parseIssuePath("mcp[github].env.TOKEN")).toEqual(["mcp", "github", "env", "TOKEN"]);
    expect(parseIssuePath("LISTEN_FDS")).toEqual(["LISTEN_FDS"]);
    expect(parseIssuePath("")).toEqual([]);
  });
});

describe("formatIssuePath", () => {
  it("writes back exactly the text each path skiff reports was parsed from", () => {
    const texts = [
      "tools.http[search].argv[0]",
      "tools.http[search].parameters",
      "tools.http[search].headers.Authorization",
      "tools.command[grep].argv[2]",
      "tools.command[grep].env.TOKEN",
      "tools.http[0].url",
      "tools.http[1].headers.X-Api-Key",
      "server.keys[0].tools",
      "server.keys[12].cost_per_day",
      "mcp[github]",
      "mcp[github].headers.Authorization",
      "mcp[0].start_timeout",
      "fallback[1].api_key_file",
      "otel.headers.x-honeycomb-team",
      "server.listen",
      "max_steps",
      "LISTEN_FDS",
      "config",
    ];
    for (const text of texts) expect(formatIssuePath(parseIssuePath(text))).toBe(text);
  });

  it('writes the configuration as a whole (an empty path) as "config"', () => {
    expect(formatIssuePath([])).toBe("config");
    expect(new ConfigError([configIssue([], "line 1 is not valid TOML", { code: "invalid_value", source: "skiff.toml:1" })]).message).toBe(
      "config (skiff.toml:1): line 1 is not valid TOML",
    );
  });

  it("brackets names only in the lists whose entries are named, and writes a user's own key as given", () => {
    expect(formatIssuePath(["tools", "http", 0, "url"])).toBe("tools.http[0].url");
    expect(formatIssuePath(["otel", "headers", "search"])).toBe("otel.headers.search");
    expect(formatIssuePath(["tools", "command", "grep", "env", "A.B[c]"])).toBe("tools.command[grep].env.A.B[c]");
  });
});

describe("issue codes", () => {
  it("a bad flag value: invalid_type when it is no number at all, invalid_value when out of range", () => {
    const notANumber = issuesOf(load({ flags: { "max-steps": "many" } }).result);
    expect(notANumber).toEqual([{ code: "invalid_type", path: ["max_steps"], source: "flag --max-steps", message: 'expected a whole number, got "many"' }]);
    expect(describeError(new ConfigError(notANumber), false)).toBe('skiff: config error: max_steps (flag --max-steps): expected a whole number, got "many"\n');
    expect(issuesOf(load({ flags: { "max-steps": "0" } }).result)).toMatchObject([{ code: "invalid_value", path: ["max_steps"], source: "flag --max-steps" }]);
  });

  it("an unknown key: unknown_key, with the suggestion in the message", () => {
    const { result, file } = load({ toml: 'model = "demo"\n[server]\nlisen = "127.0.0.1:1"\n' });
    const [issue] = issuesOf(result);
    expect(issue).toMatchObject({ code: "unknown_key", path: ["server", "lisen"], source: `${file}:3` });
    expect(issue!.message).toStartWith('unknown key; did you mean "listen"? Known keys here:');
  });

  it("a required key left out: missing", () => {
    const { result, file } = load({ toml: '[[tools.http]]\nname = "search"\ndescription = "d"\n' });
    expect(issuesOf(result)).toMatchObject([{ code: "missing", path: ["tools", "http", 0, "url"], source: `${file}:1` }]);
  });

  it("a missing file: not_found, for the config file, a secret file and a program; an empty secret file: missing", () => {
    const dir = tempDir();
    const absent = join(dir, "absent.toml");
    const [config] = issuesOf(load({ configPath: absent }).result);
    expect(config).toEqual({ code: "not_found", path: [], source: "flag --config", message: `the config file "${absent}" does not exist or cannot be read` });
    expect(new ConfigError([config!]).message).toBe(`config (flag --config): the config file "${absent}" does not exist or cannot be read`);

    const key = "tools.http[search].headers.Authorization";
    expect(thrownIssues(() => resolveSecretRef(`file:${join(dir, "token")}`, key, secrets()))).toMatchObject([
      { code: "not_found", path: ["tools", "http", "search", "headers", "Authorization"] },
    ]);
    writeFileSync(join(dir, "empty"), "\n");
    expect(thrownIssues(() => resolveSecretRef(`file:${join(dir, "empty")}`, key, secrets()))).toMatchObject([{ code: "missing" }]);

    const missingProgram = join(dir, "no-such-program");
    const program = thrownIssues(() => commandTool({ name: "grep", argv: [missingProgram] }));
    expect(program).toEqual([{ code: "not_found", path: ["tools", "command", "grep", "argv", 0], message: `the program "${missingProgram}" does not exist` }]);
    expect(new ConfigError(program).message).toBe(`tools.command[grep].argv[0]: the program "${missingProgram}" does not exist`);
  });

  it("an environment variable that is not set: not_found, with the variable's own name kept as one segment", () => {
    const issues = thrownIssues(() => commandTool({ name: "grep", argv: [process.execPath], env: { "A[b]": "env:SKIFF_TEST_UNSET" } }));
    expect(issues).toMatchObject([{ code: "not_found", path: ["tools", "command", "grep", "env", "A[b]"] }]);
    expect(new ConfigError(issues).message).toBe("tools.command[grep].env.A[b]: refers to the environment variable SKIFF_TEST_UNSET, which is not set");
  });

  it("duplicate names: conflict, for two tools and for two API keys", () => {
    const calc = commandTool({ name: "calc", argv: [process.execPath] });
    const tools = thrownIssues(() => selectTools({ builtins: builtinTools, enable: ["calc"], disable: [], declared: [calc] }));
    expect(tools).toEqual([{ code: "conflict", path: ["tools"], message: 'two tools are named "calc"; tool names must be unique' }]);

    const hash = `sha256:${"a".repeat(64)}`;
    const { result } = load({ toml: `[[server.keys]]\nname = "a"\nhash = "${hash}"\n[[server.keys]]\nname = "a"\nhash = "sha256:${"b".repeat(64)}"\n` });
    expect(issuesOf(result)).toMatchObject([{ code: "conflict", path: ["server", "keys", 1, "name"] }]);
  });
});
