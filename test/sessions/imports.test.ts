import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const src = join(import.meta.dir, "../../src");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

/** src/ files whose code matches `pattern`. */
function using(pattern: RegExp): string[] {
  return files(src)
    .filter((path) => pattern.test(readFileSync(path, "utf8")))
    .map((path) => relative(src, path))
    .sort();
}

describe("database drivers stay in their adapters", () => {
  it("only the Postgres adapters (src/sessions/, src/runs/, src/usage/ postgres*.ts) use Bun.sql", () => {
    const users = using(/import\s*(type\s*)?\{[^}]*\bSQL\b[^}]*\}\s*from\s*"bun"|Bun\.(sql|SQL)\b/);
    expect(users.length).toBeGreaterThan(0);
    expect(users.filter((path) => !/^(sessions|runs|usage)\/postgres[\w-]*\.ts$/.test(path))).toEqual([]);
  });

  it("only the SQLite adapters (src/sessions/, src/runs/, src/usage/ sqlite*.ts) import bun:sqlite", () => {
    const users = using(/from\s*"bun:sqlite"/);
    expect(users.length).toBeGreaterThan(0);
    expect(users.filter((path) => !/^(sessions|runs|usage)\/sqlite[\w-]*\.ts$/.test(path))).toEqual([]);
  });
});
