import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { commands } from "../../src/cli/commands.ts";
import { parseImports, readSourceTree, type SourceFile, tokenize } from "./imports.ts";

// The rules of docs/architecture.md ("Dependencies point inward"), read from the import statements
// of src/ (static, re-exports and dynamic import("…"); type-only imports count as dependencies).
const files = readSourceTree(join(import.meta.dir, "../../src"));
const byPath = new Map(files.map((file) => [file.path, file]));

/** The files that import a package matching `pattern` (`openai`, `@opentelemetry/api`, …), as "file → specifier". */
function importersOf(pattern: RegExp): string[] {
  return files.flatMap((file) => file.imports.filter((ref) => ref.target === undefined && pattern.test(ref.specifier)).map((ref) => `${file.path} → ${ref.specifier}`));
}

/** "file → import" for every import of `file` that `allowed` rejects. */
function violations(selected: readonly SourceFile[], allowed: (target: string | undefined, specifier: string) => boolean): string[] {
  return selected.flatMap((file) => file.imports.filter((ref) => !allowed(ref.target, ref.specifier)).map((ref) => `${file.path} → ${ref.target ?? ref.specifier}`));
}

/** True when the code (not its comments or strings) reads `object.member` for one of `members`. */
function usesMember(source: string, object: string, members: readonly string[]): boolean {
  const tokens = tokenize(source);
  return tokens.some((token, i) => token.type === "word" && token.text === object && tokens[i + 1]?.text === "." && members.includes(tokens[i + 2]?.text ?? ""));
}

/** The ports: interfaces and data types the loop is written against, each implemented by adapters elsewhere. */
const ports = new Set([
  "model/model.ts",
  "model/messages.ts",
  "model/tool-spec.ts",
  "model/model-response.ts",
  "tools/tool.ts",
  "telemetry/tracer.ts",
  "sessions/store.ts",
]);
const isPortOrBase = (target: string | undefined) => target !== undefined && (ports.has(target) || target.startsWith("util/") || target === "errors.ts");

/** Files loaded when `start` is, following static imports that are not type-only. */
function staticClosure(start: string): { readonly files: Set<string>; readonly packages: Set<string> } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const ref of byPath.get(path)?.imports ?? []) {
      if (ref.typeOnly || ref.kind !== "static") continue;
      if (ref.target === undefined) packages.add(ref.specifier);
      else visit(ref.target);
    }
  };
  visit(start);
  return { files: seen, packages };
}

/** Groups of files that import each other in a circle (Tarjan's strongly connected components). */
function importCycles(edges: (file: SourceFile) => readonly string[]): string[][] {
  const graph = new Map(files.map((file) => [file.path, edges(file).filter((target) => byPath.has(target))]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) connect(node);
  return cycles;
}

describe("parseImports", () => {
  it("finds static, re-exported, dynamic and required imports, and tells type-only ones apart", () => {
    const source = [
      'import { type A, type B } from "./types.ts";',
      'import D, { sql, SQL as Pg } from "bun";',
      'export type { Q } from "./q.ts";',
      'export * as ns from "./ns.ts";',
      'import "./side-effect.ts";',
      "export const answer = 42;",
      "const pattern = /import(\"not-a-module\")/;",
      'const text = `a ${`b ${await import("./in-template.ts")}`} c`;',
      '// import "./commented.ts";',
      '/* import("./also-commented.ts") */',
      'const quoted = "import \\"./quoted.ts\\"";',
      "const dir = import.meta.dir;",
      'const fs = require("node:fs");',
      'const x = loader.require("not-this");',
    ].join("\n");
    expect(parseImports(source)).toEqual([
      { specifier: "./types.ts", kind: "static", typeOnly: true, names: ["A", "B"] },
      { specifier: "bun", kind: "static", typeOnly: false, names: ["D", "sql", "SQL"] },
      { specifier: "./q.ts", kind: "static", typeOnly: true, names: ["Q"] },
      { specifier: "./ns.ts", kind: "static", typeOnly: false, names: [] },
      { specifier: "./side-effect.ts", kind: "static", typeOnly: false, names: [] },
      { specifier: "./in-template.ts", kind: "dynamic", typeOnly: false, names: [] },
      { specifier: "node:fs", kind: "require", typeOnly: false, names: [] },
    ]);
  });

  it("finds in every src/ file exactly the imports Bun's own transpiler loads", () => {
    const transpiler = new Bun.Transpiler({ loader: "ts" });
    const mismatches = files.flatMap((file) => {
      const ours = file.imports.filter((ref) => !ref.typeOnly).map((ref) => `${ref.kind} ${ref.specifier}`);
      const kinds: Record<string, string> = { "dynamic-import": "dynamic", "require-call": "require" };
      const bun = transpiler.scanImports(file.source).map((ref) => `${kinds[ref.kind] ?? "static"} ${ref.path}`);
      const key = (list: string[]) => [...new Set(list)].sort();
      return JSON.stringify(key(ours)) === JSON.stringify(key(bun)) ? [] : [{ file: file.path, ours: key(ours), bun: key(bun) }];
    });
    expect(files.length).toBeGreaterThan(50);
    expect(mismatches).toEqual([]);
  });
});

describe("layering", () => {
  it("src/agent/ imports only the ports, src/util/ and errors.ts, and no package", () => {
    const agent = files.filter((file) => file.path.startsWith("agent/"));
    expect(agent.length).toBeGreaterThan(0);
    expect(violations(agent, (target) => target?.startsWith("agent/") === true || isPortOrBase(target))).toEqual([]);
  });

  it("the ports import only each other, src/util/ and errors.ts, and no package", () => {
    const portFiles = files.filter((file) => ports.has(file.path));
    expect(portFiles.map((file) => file.path).sort()).toEqual([...ports].sort());
    expect(violations(portFiles, isPortOrBase)).toEqual([]);
  });

  it("no two ports import each other, even for types", () => {
    const cycles = importCycles((file) => (ports.has(file.path) ? file.imports.flatMap((ref) => (ref.target && ports.has(ref.target) ? [ref.target] : [])) : []));
    expect(cycles).toEqual([]);
  });

  it("no modules of src/ load each other in a circle", () => {
    // Static imports that are not type-only: what decides the order modules are evaluated in.
    expect(importCycles((file) => file.imports.flatMap((ref) => (ref.target && ref.kind === "static" && !ref.typeOnly ? [ref.target] : [])))).toEqual([]);
  });

  it("only src/model/openai*.ts import the openai SDK", () => {
    const users = importersOf(/^openai(\/|$)/);
    expect(users.length).toBeGreaterThan(0);
    expect(users.filter((use) => !/^model\/openai[\w-]*\.ts /.test(use))).toEqual([]);
  });

  it("only src/telemetry/ imports @opentelemetry/*", () => {
    const users = importersOf(/^@opentelemetry\//);
    expect(users.length).toBeGreaterThan(0);
    expect(users.filter((use) => !use.startsWith("telemetry/"))).toEqual([]);
  });

  it("only src/tools/mcp/ imports the MCP SDK", () => {
    const users = importersOf(/^@modelcontextprotocol\//);
    expect(users.length).toBeGreaterThan(0);
    expect(users.filter((use) => !use.startsWith("tools/mcp/"))).toEqual([]);
  });

  it("only the Postgres adapters (src/sessions/postgres*.ts, and any other postgres*.ts store) use Bun.sql", () => {
    // `sql` or `SQL` imported from "bun", or read as Bun.sql / Bun.SQL.
    const users = files
      .filter(
        (file) =>
          file.imports.some((ref) => ref.specifier === "bun" && ref.names.some((name) => name === "sql" || name === "SQL")) ||
          usesMember(file.source, "Bun", ["sql", "SQL"]),
      )
      .map((file) => file.path);
    expect(users.length).toBeGreaterThan(0);
    expect(users.filter((path) => !/(^|\/)postgres[\w-]*\.ts$/.test(path))).toEqual([]);
    expect(users.some((path) => path.startsWith("sessions/postgres"))).toBe(true);
  });

  it("wire*.ts, where adapters are built, are loaded only by composition code (src/commands/, wire*.ts)", () => {
    const loaders = files.flatMap((file) =>
      file.imports.filter((ref) => !ref.typeOnly && ref.target !== undefined && /^wire[\w-]*\.ts$/.test(ref.target)).map((ref) => `${file.path} → ${ref.target}`),
    );
    expect(loaders.length).toBeGreaterThan(0);
    expect(loaders.filter((use) => !/^(commands\/|wire[\w-]*\.ts )/.test(use))).toEqual([]);
  });
});

describe("start-up", () => {
  it("`skiff version` loads main.ts, cli/version.ts and the build info, nothing else", () => {
    const { files: loaded, packages } = staticClosure("main.ts");
    expect([...loaded].sort()).toEqual(["../package.json", "build-info.ts", "cli/version.ts", "main.ts"]);
    expect([...packages]).toEqual([]);
  });

  it("dispatch.ts loads no SDK, adapter, server or command code before a command runs", () => {
    const { files: loaded, packages } = staticClosure("dispatch.ts");
    expect([...packages].filter((name) => name !== "zod" && !name.startsWith("node:"))).toEqual([]);
    expect([...loaded].filter((path) => /^(commands|server|sessions|platform|runs)\/|^wire|^model\/(?!messages|model|tool-spec)|^telemetry\/(?!tracer)/.test(path))).toEqual([]);
  });

  it("each command's run is src/commands/<name>.ts, imported by the table only when the command runs", () => {
    const table = byPath.get("cli/commands.ts")!;
    const dynamic = table.imports.filter((ref) => ref.kind === "dynamic").map((ref) => ref.target);
    // `version` runs from code already loaded: main.ts answers it before dispatch.ts is.
    const lazy = commands.filter((command) => command.name !== "version").map((command) => `commands/${command.name}.ts`);
    expect(dynamic.sort()).toEqual(lazy.sort());
    for (const path of lazy) expect(byPath.has(path)).toBe(true);
    // Nothing outside src/commands/ loads them statically, or the import would not be lazy.
    const eager = files.flatMap((file) =>
      file.imports
        .filter((ref) => ref.kind === "static" && !ref.typeOnly && ref.target?.startsWith("commands/") && !file.path.startsWith("commands/"))
        .map((ref) => `${file.path} → ${ref.target}`),
    );
    expect(eager).toEqual([]);
  });
});
