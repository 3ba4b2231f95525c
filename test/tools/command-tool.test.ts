import { afterEach, beforeEach, describe, expect, it } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandToolEntry } from "../../src/config/sections/tools.ts";
import { ConfigError } from "../../src/errors.ts";
import { createCommandTool } from "../../src/tools/command-tool.ts";
import { ToolFailure, ToolInputError } from "../../src/tools/tool.ts";
import { isAlive, waitFor } from "../helpers/processes.ts";

const bun = process.execPath;
const printArgv = join(import.meta.dir, "../fixtures/print-argv.ts");
let dir: string;

beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "skiff-cmd-")));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function tool(entry: Record<string, unknown>, env: Record<string, string | undefined> = {}) {
  return createCommandTool(commandToolEntry.parse({ description: "test", ...entry }), {
    secrets: { env, readFile: (path) => (existsSync(path) ? readFileSync(path, "utf8") : undefined) },
    defaultTimeoutMs: 10_000,
    path: process.env["PATH"],
    cwd: dir,
  });
}

const context = () => ({ signal: new AbortController().signal, callId: "c1" });

interface Printed {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

const schema = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) => ({
  type: "object",
  properties,
  required,
});

describe("createCommandTool", () => {
  it("passes hostile values as literal argv elements, never through a shell", async () => {
    const marker = join(dir, "pwned");
    const echo = tool({
      name: "echo_args",
      argv: [bun, printArgv, "@", "--", "{a}", "{b}", "{c}", "{d}"],
      parameters: schema({ a: { type: "string" }, b: { type: "string" }, c: { type: "string" }, d: { type: "string" } }),
    });
    const args = { a: "; rm -rf /", b: `$(touch ${marker})`, c: "two words\nand a newline", d: "`id` && echo *" };
    const printed = JSON.parse((await echo.execute(args, context())) as string) as Printed;
    expect(printed.argv).toEqual(["--", args.a, args.b, args.c, args.d]);
    expect(existsSync(marker)).toBe(false);
  });

  it("substitutes inside an element without splitting it, and expands arrays to one element each", async () => {
    const echo = tool({
      name: "partial",
      argv: [bun, printArgv, "@", "--max-count={n}", "--name={who}!", "{files}"],
      parameters: schema({ n: { type: "integer" }, who: { type: "string" }, files: { type: "array", items: { type: "string" } } }),
    });
    const printed = JSON.parse((await echo.execute({ n: 3, who: "a b; c", files: ["x y", "z"] }, context())) as string) as Printed;
    expect(printed.argv).toEqual(["--max-count=3", "--name=a b; c!", "x y", "z"]);
  });

  it("drops the element of a missing optional argument and uses a schema default", async () => {
    const echo = tool({
      name: "optional",
      argv: [bun, printArgv, "@", "{mode}", "--limit={limit}", "{extra}"],
      parameters: schema({ mode: { type: "string", default: "fast" }, limit: { type: "integer" }, extra: { type: "string" } }, []),
    });
    const printed = JSON.parse((await echo.execute({}, context())) as string) as Printed;
    expect(printed.argv).toEqual(["fast"]);
  });

  it('refuses a value that would be read as an option unless argv has "--" before it', async () => {
    const guarded = tool({ name: "guarded", argv: [bun, printArgv, "@", "{pattern}"], parameters: schema({ pattern: { type: "string" } }) });
    await expect(guarded.execute({ pattern: "--pre=sh" }, context())).rejects.toThrow(ToolInputError);
    const dashed = tool({ name: "dashed", argv: [bun, printArgv, "@", "--", "{pattern}"], parameters: schema({ pattern: { type: "string" } }) });
    const printed = JSON.parse((await dashed.execute({ pattern: "--pre=sh" }, context())) as string) as Printed;
    expect(printed.argv).toEqual(["--", "--pre=sh"]);
  });

  it("validates arguments against parameters with paths", async () => {
    const echo = tool({ name: "typed", argv: [bun, printArgv, "@", "{n}"], parameters: schema({ n: { type: "integer" } }) });
    const error = await echo.execute({ n: "three" }, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolInputError);
    expect((error as Error).message).toContain("n:");
  });

  it("gives the program only PATH and the listed env, with env: and file: values resolved", async () => {
    writeFileSync(join(dir, "token"), "from-file\n");
    process.env["SKIFF_TEST_SECRET"] = "must-not-leak";
    try {
      const echo = tool(
        {
          name: "envy",
          argv: [bun, printArgv, "@"],
          env: { PLAIN: "literal", FROM_ENV: "env:SOURCE_VAR", FROM_FILE: `file:${join(dir, "token")}` },
        },
        { SOURCE_VAR: "from-env" },
      );
      const printed = JSON.parse((await echo.execute({}, context())) as string) as Printed;
      expect(printed.env["PLAIN"]).toBe("literal");
      expect(printed.env["FROM_ENV"]).toBe("from-env");
      expect(printed.env["FROM_FILE"]).toBe("from-file");
      expect(printed.env["PATH"]).toBe(process.env["PATH"]!);
      expect(printed.env["SKIFF_TEST_SECRET"]).toBeUndefined();
      expect(printed.env["HOME"]).toBeUndefined();
      expect(printed.cwd).toBe(dir);
    } finally {
      delete process.env["SKIFF_TEST_SECRET"];
    }
  });

  it("reports a non-zero exit with the end of stderr", async () => {
    const failing = tool({ name: "failing", argv: ["sh", "-c", "echo starting; echo 'disk on fire' >&2; exit 7"] });
    const error = await failing.execute({}, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolFailure);
    expect((error as Error).message).toBe('command "sh" exited with code 7: disk on fire');
  });

  it("kills the whole process group on timeout, grandchildren included", async () => {
    const pidFile = join(dir, "grandchild.pid");
    const slow = tool({
      name: "slow",
      argv: ["sh", "-c", `sleep 30 & echo $! > ${pidFile}; wait`],
      timeout: "300ms",
    });
    // Settling at all proves the timeout: the grandchild's `sleep 30` holds the pipe open for 30 s.
    const error = await slow.execute({}, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolFailure);
    expect((error as Error).message).toContain("did not finish within 300ms");
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    await waitFor(() => !isAlive(grandchild), 3000, `grandchild ${grandchild} to die`);
  });

  it("kills the group when the caller aborts, and rejects with the caller's reason", async () => {
    const pidFile = join(dir, "child.pid");
    const slow = tool({ name: "slow2", argv: ["sh", "-c", `sleep 30 & echo $! > ${pidFile}; wait`] });
    const controller = new AbortController();
    const running = slow.execute({}, { signal: controller.signal, callId: "c" }).catch((e: unknown) => e);
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "", 3000, "pid file");
    controller.abort(new Error("run cancelled"));
    expect(((await running) as Error).message).toBe("run cancelled");
    await waitFor(() => !isAlive(Number(readFileSync(pidFile, "utf8"))), 3000, "child to die");
  });

  it("keeps the head of a large stdout and says it was cut", async () => {
    const loud = tool({ name: "loud", argv: ["sh", "-c", "yes hello | head -c 100000"], max_output: "1KiB" });
    const output = (await loud.execute({}, context())) as string;
    expect(output.startsWith("hello\nhello\n")).toBe(true);
    expect(output).toContain("[stdout truncated: kept 1 KiB of 97.7 KiB (max_output)]");
  });

  it("finds config mistakes at start-up", () => {
    expect(() => tool({ name: "a", argv: ["no-such-program-xyz"] })).toThrow(ConfigError);
    expect(() => tool({ name: "b", argv: ["sh", "{nope}"] })).toThrow(/\{nope\} is not a property of parameters/);
    expect(() => tool({ name: "c", argv: ["{prog}"], parameters: schema({ prog: { type: "string" } }) })).toThrow(/must be written out/);
    expect(() => tool({ name: "d", argv: ["sh"], cwd: join(dir, "missing") })).toThrow(/does not exist/);
    expect(() => tool({ name: "e", argv: ["sh"], env: { X: "env:UNSET_VAR_XYZ" } })).toThrow(/UNSET_VAR_XYZ, which is not set/);
    expect(() => tool({ name: "f", argv: ["sh"], parameters: { type: "object", properties: { x: { type: "strng" } } } })).toThrow(
      /tools\.command\[f\]\.parameters: is not a JSON Schema skiff can use/,
    );
  });
});
