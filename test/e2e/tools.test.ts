import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAlive } from "../helpers/processes.ts";
import { cleanEnv, runSkiff, skiffBinary } from "./binary.ts";

const bun = process.execPath;
const printArgv = join(import.meta.dir, "../fixtures/print-argv.ts");
const fakeMcp = join(import.meta.dir, "../fakes/mcp-server.ts");

let dir: string;
let configPath: string;
let sidecar: ReturnType<typeof Bun.serve>;
const sidecarSaw: { body: unknown; authorization: string | null }[] = [];

beforeAll(async () => {
  await skiffBinary();
  dir = mkdtempSync(join(tmpdir(), "skiff-e2e-tools-"));
  sidecar = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const body: unknown = await request.json();
      sidecarSaw.push({ body, authorization: request.headers.get("authorization") });
      return Response.json({ reranked: (body as { docs: string[] }).docs.toReversed() });
    },
  });
  configPath = join(dir, "skiff.toml");
  writeFileSync(
    configPath,
    `
[[tools.http]]
name = "rerank"
description = "Reorders documents by relevance"
url = "http://127.0.0.1:${sidecar.port}/rerank"
headers = { authorization = "env:SIDECAR_TOKEN" }
parameters = { type = "object", properties = { docs = { type = "array", items = { type = "string" } } }, required = ["docs"] }

[[tools.command]]
name = "print_args"
description = "Shows the argv it was given"
argv = [${JSON.stringify(bun)}, ${JSON.stringify(printArgv)}, "@", "--", "{word}"]
parameters = { type = "object", properties = { word = { type = "string" } }, required = ["word"] }

[[mcp]]
name = "fake"
command = [${JSON.stringify(bun)}, ${JSON.stringify(fakeMcp)}]
`,
  );
}, 180_000);

afterAll(async () => {
  await sidecar.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const env = () => cleanEnv({ SIDECAR_TOKEN: "Bearer e2e-token" });
const skiff = (...args: string[]) => runSkiff([...args, "--config", configPath], { env: env() });

interface Listed {
  name: string;
  source: string;
  type: string;
  parameters: Record<string, unknown>;
}

describe("skiff tools (compiled binary)", () => {
  it("lists http, command and MCP tools with their sources and schemas", async () => {
    const result = await skiff("tools", "list", "--json");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const listed = JSON.parse(result.stdout) as Listed[];
    const byName = new Map(listed.map((tool) => [tool.name, tool]));
    expect(byName.get("rerank")).toMatchObject({ source: "http", type: "extension", parameters: { required: ["docs"] } });
    expect(byName.get("print_args")).toMatchObject({ source: "command", type: "function" });
    expect(byName.get("fake__echo")).toMatchObject({ source: "mcp:fake", parameters: { properties: { text: { type: "string" } } } });
    expect(byName.has("fake__dotted_name_2")).toBe(true);

    const text = await skiff("tools", "list");
    expect(text.stdout).toContain("rerank  [http]");
    expect(text.stdout).toContain("fake__echo  [mcp:fake]");
  });

  it("calls an HTTP tool with its header secret", async () => {
    const result = await skiff("tools", "call", "rerank", '{"docs":["a","b","c"]}');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ reranked: ["c", "b", "a"] });
    expect(sidecarSaw.at(-1)).toEqual({ body: { docs: ["a", "b", "c"] }, authorization: "Bearer e2e-token" });
  });

  it("calls a command tool with a hostile argument as one literal argv element", async () => {
    const result = await skiff("tools", "call", "print_args", JSON.stringify({ word: "$(reboot); rm -rf / #" }));
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { argv: string[] }).argv).toEqual(["--", "$(reboot); rm -rf / #"]);
  });

  it("calls an MCP tool and stops the server when it exits", async () => {
    const result = await skiff("tools", "call", "fake__echo", '{"text":"from the binary"}');
    expect(result.code).toBe(0);
    const echoed = JSON.parse(result.stdout) as { echo: string; pid: number };
    expect(echoed.echo).toBe("from the binary");
    expect(isAlive(echoed.pid)).toBe(false);
  });

  it("validates arguments as the agent does and exits 1 with the problem", async () => {
    const result = await skiff("tools", "call", "rerank", '{"docs":"not a list"}');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('invalid arguments for tool "rerank": docs:');
  });

  it("reports an MCP tool failure as a failed call", async () => {
    const result = await skiff("tools", "call", "fake__fails", "{}");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the widget is broken");
  });

  it("refuses a config whose tool cannot work, naming it, with exit code 2", async () => {
    const broken = join(dir, "broken.toml");
    writeFileSync(
      broken,
      `[[tools.http]]\nname = "bad"\ndescription = "x"\nurl = "http://127.0.0.1:1/"\nparameters = { type = "object", properties = { a = { type = "strng" } } }\n`,
    );
    const result = await runSkiff(["tools", "list", "--config", broken], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("tools.http[bad].parameters: is not a JSON Schema skiff can use");
  });
});
