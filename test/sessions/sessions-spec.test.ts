import { describe, expect, it } from "bun:test";
import { parseSessionsSpec } from "../../src/sessions/index.ts";

const local = { env: {}, cwd: "/srv/app" };
const systemd = { env: { STATE_DIRECTORY: "/var/lib/skiff:/var/lib/other" }, cwd: "/" };

describe("parseSessionsSpec", () => {
  it("defaults serve to SQLite under $STATE_DIRECTORY, else the working directory", () => {
    expect(parseSessionsSpec(undefined, "sqlite", systemd)).toEqual({ kind: "sqlite", path: "/var/lib/skiff/skiff.db" });
    expect(parseSessionsSpec(undefined, "sqlite", local)).toEqual({ kind: "sqlite", path: "/srv/app/skiff.db" });
    expect(parseSessionsSpec(undefined, "memory", local)).toEqual({ kind: "memory" });
  });

  it("resolves relative sqlite paths like the default and keeps absolute ones", () => {
    expect(parseSessionsSpec("sqlite:data/s.db", "sqlite", systemd)).toEqual({ kind: "sqlite", path: "/var/lib/skiff/data/s.db" });
    expect(parseSessionsSpec("sqlite:/tmp/s.db", "sqlite", systemd)).toEqual({ kind: "sqlite", path: "/tmp/s.db" });
    expect(parseSessionsSpec("memory", "sqlite", local)).toEqual({ kind: "memory" });
  });

  it("names the key and the accepted forms for anything else", () => {
    expect(() => parseSessionsSpec("redis://x", "sqlite", local)).toThrow(/server\.sessions.*"memory", "sqlite:PATH" or "postgres:\/\/…" \(got "redis:\/\/x"\)/s);
    expect(() => parseSessionsSpec("sqlite:", "sqlite", local)).toThrow(/needs a file path/);
  });

  it("takes postgres:// and postgresql:// URLs, and never repeats their password in an error", () => {
    expect(parseSessionsSpec("postgres://skiff:pw@db:5432/skiff", "sqlite", local)).toEqual({ kind: "postgres", url: "postgres://skiff:pw@db:5432/skiff" });
    expect(parseSessionsSpec("postgresql://db/skiff", "sqlite", local)).toEqual({ kind: "postgres", url: "postgresql://db/skiff" });
    expect(parseSessionsSpec("postgres:///skiff?host=/run/postgresql", "sqlite", local).kind).toBe("postgres");
    const noHost = () => parseSessionsSpec("postgres://skiff:hunter2@/skiff", "sqlite", local);
    expect(noHost).toThrow(/server\.sessions: is not a valid URL; expected postgres:\/\/USER\[:PASSWORD\]@HOST\[:PORT\]\/DATABASE .*\(got "postgres:\/\/skiff:\*\*\*\*@\/skiff"\)/);
    expect(noHost).not.toThrow(/hunter2/);
    expect(() => parseSessionsSpec("postgres:///skiff", "sqlite", local)).toThrow(/names no host/);
  });
});
