/**
 * `skiff config check` runs every start-up check the commands run, so exit 0 means `serve` starts
 * (issue 20, item 1). Each config below is one `serve` refuses; `config check` must refuse it too,
 * with the same words, and each is run through `serve` once to prove the two agree.
 */
import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { cleanEnv, noRuntimePath, runSkiff, skiffBinary } from "./binary.ts";

const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-config-check-");

beforeAll(async () => {
  await skiffBinary();
}, 120_000);

afterEach(removeTempDirs);

/** A config that is valid but for `body`: the demo model (no key) and a loopback port, no store on disk. */
function configDir(body: string, server = 'listen = "127.0.0.1:0"\nsessions = "memory"'): string {
  const dir = tempDir();
  writeFileSync(join(dir, "skiff.toml"), `model = "demo"\n${body}\n[server]\n${server}\n`);
  return dir;
}

const notOnPath = (program: string) => `the program "${program}" is not on PATH (${noRuntimePath()}); install it or give its absolute path`;

interface RefusedConfig {
  readonly name: string;
  readonly body?: string;
  readonly server?: string;
  /** The one line both commands print. */
  readonly error: string;
}

const httpTool = (parameters: string) => `[[tools.http]]\nname = "h"\ndescription = "d"\nurl = "http://127.0.0.1:9/x"\nparameters = ${parameters}`;

const refused: RefusedConfig[] = [
  {
    name: "tools.enable naming no built-in",
    body: '[tools]\nenable = ["nope"]',
    error:
      'tools.enable: no built-in tool named "nope"; built-ins are calc, time, http_fetch, fs_read, fs_list, fs_write (declared and MCP tools are on without being enabled)',
  },
  {
    name: "a listen address that is not one",
    server: 'listen = "not an address"\nsessions = "memory"',
    error: 'server.listen: expected HOST:PORT such as 127.0.0.1:8080, [::1]:8080 or 0.0.0.0:8080 (":8080" for every interface), got "not an address"',
  },
  {
    name: "a listen port of 99999",
    server: 'listen = "127.0.0.1:99999"\nsessions = "memory"',
    error: 'server.listen: expected HOST:PORT such as 127.0.0.1:8080, [::1]:8080 or 0.0.0.0:8080 (":8080" for every interface), got "127.0.0.1:99999"',
  },
  {
    name: "a session store skiff does not know",
    server: 'listen = "127.0.0.1:0"\nsessions = "mysql://x"',
    error: 'server.sessions: expected "memory", "sqlite:PATH" or "postgres://…" (got "mysql://x")',
  },
  {
    name: "fs_write without fs_root",
    body: '[tools]\nenable = ["fs_write"]\nfs_write = true',
    error: "tools.fs_root: fs_write is enabled but fs_root is not set; set it to the directory fs_write may use",
  },
  {
    name: "an HTTP tool schema with an unknown type",
    body: httpTool('{ type = "object", properties = { a = { type = "strang" } } }'),
    error: "tools.http[h].parameters: is not a JSON Schema skiff can use: Unsupported type: strang",
  },
  {
    name: "an HTTP tool schema with a bad pattern",
    body: httpTool('{ type = "object", properties = { a = { type = "string", pattern = "([" } } }'),
    error: "tools.http[h].parameters: is not a JSON Schema skiff can use: Invalid regular expression: missing terminating ] for character class",
  },
  {
    name: "a command tool whose program is not on PATH",
    body: '[[tools.command]]\nname = "c"\ndescription = "d"\nargv = ["no-such-prog"]',
    error: `tools.command[c].argv[0]: ${notOnPath("no-such-prog")}`,
  },
  {
    name: "a {placeholder} as argv[0]",
    body: '[[tools.command]]\nname = "c"\ndescription = "d"\nargv = ["{prog}", "x"]\nparameters = { type = "object", properties = { prog = { type = "string" } } }',
    error: "tools.command[c].argv[0]: the program must be written out, not a {placeholder}",
  },
  {
    name: "an MCP server whose program does not exist",
    body: '[[mcp]]\nname = "missing"\ncommand = ["no-such-mcp-server"]',
    error: `mcp[missing]: MCP server "missing" could not be started: ${notOnPath("no-such-mcp-server")}`,
  },
  {
    name: "two tools with the same name",
    body: '[[tools.command]]\nname = "time"\ndescription = "d"\nargv = ["echo"]\n[tools]\nenable = ["time"]',
    error: 'tools: two tools are named "time"; tool names must be unique',
  },
];

describe("skiff config check", () => {
  it.each(refused.map((config) => [config.name, config] as const))("refuses %s with exit 2 and the words serve uses", async (_, config) => {
    const cwd = configDir(config.body ?? "", config.server);
    const check = await runSkiff(["config", "check"], { cwd });
    expect({ code: check.code, stdout: check.stdout, stderr: check.stderr }).toEqual({ code: 2, stdout: "", stderr: `skiff: config error: ${config.error}\n` });
    const serve = await runSkiff(["serve"], { cwd, timeoutMs: 15_000 });
    expect(serve.code).toBe(2);
    // serve may warn first (its outbound request cap); its last line is the same refusal.
    expect(serve.stderr.endsWith(check.stderr)).toBe(true);
  });

  it("reports every problem at once", async () => {
    const cwd = configDir('[tools]\nenable = ["nope"]', 'listen = "not an address"\nsessions = "mysql://x"');
    const check = await runSkiff(["config", "check"], { cwd });
    expect(check.code).toBe(2);
    expect(check.stderr.split("\n").filter(Boolean).map((line) => line.split(":").slice(0, 3).join(":"))).toEqual([
      "skiff: config error: server.listen",
      "skiff: config error: tools.enable",
    ]);
  });

  it("passes a config the commands start with, without starting its MCP server", async () => {
    const cwd = tempDir();
    const marker = join(cwd, "mcp-started");
    writeFileSync(
      join(cwd, "skiff.toml"),
      [
        'model = "demo"',
        "[[tools.command]]",
        'name = "say"',
        'description = "d"',
        'argv = ["echo", "{text}"]',
        'parameters = { type = "object", properties = { text = { type = "string" } }, required = ["text"] }',
        "[[mcp]]",
        'name = "files"',
        `command = ["sh", "-c", "echo started > ${marker}; exec cat"]`,
        "[tools]",
        // A tool of the unstarted server: known only once it lists its tools.
        'disable = ["files__write"]',
        "[server]",
        'listen = "127.0.0.1:0"',
        'sessions = "memory"',
      ].join("\n"),
    );
    const check = await runSkiff(["config", "check"], { cwd, env: cleanEnv() });
    expect({ code: check.code, stderr: check.stderr }).toEqual({ code: 0, stderr: "" });
    expect(check.stdout).toBe(`config ok (file ${join(cwd, "skiff.toml")})\n`);
    expect(existsSync(marker)).toBe(false);
  });

  it("names the line of a TOML syntax error, and never repeats the line's text", async () => {
    const cwd = tempDir();
    const file = join(cwd, "skiff.toml");
    writeFileSync(file, 'model = "demo"\n\n[[tools.http]]\nname = "h"\nheaders = { authorization = "Bearer sk-secret-in-toml" \n');
    const check = await runSkiff(["config", "check"], { cwd });
    expect({ code: check.code, stdout: check.stdout }).toEqual({ code: 2, stdout: "" });
    expect(check.stderr).toStartWith(`skiff: config error: config (${file}:5): line 5 is not valid TOML: `);
    expect(check.stderr).not.toContain("sk-secret-in-toml");
  });
});
