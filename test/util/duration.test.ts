import { describe, expect, it } from "bun:test";
import { loadConfig } from "../../src/config/index.ts";
import { formatDuration, parseDuration } from "../../src/util/duration.ts";

describe("parseDuration / formatDuration", () => {
  it("read and write days, as retention periods are written", () => {
    expect(parseDuration("30d")).toBe(30 * 86_400_000);
    expect(parseDuration("1d12h")).toBe(36 * 3_600_000);
    expect(formatDuration(30 * 86_400_000)).toBe("30d");
    expect(formatDuration(36 * 3_600_000)).toBe("36h");
    expect(parseDuration("30days")).toBeUndefined();
  });
});

describe("server.session_ttl", () => {
  const load = (flags: Record<string, string>, env: Record<string, string> = {}) =>
    loadConfig({ flags: new Map(Object.entries(flags)), env, cwd: "/", readFile: () => undefined, parseToml: (text) => Bun.TOML.parse(text) });

  it("is off unless set, and takes a duration from a flag or SKIFF_SERVER_SESSION_TTL", () => {
    const unset = load({});
    expect(unset.ok && unset.value.config.server.session_ttl).toBeUndefined();
    const flag = load({ "session-ttl": "30d" });
    expect(flag.ok && flag.value.config.server.session_ttl).toBe(30 * 86_400_000);
    const env = load({}, { SKIFF_SERVER_SESSION_TTL: "12h" });
    expect(env.ok && env.value.config.server.session_ttl).toBe(12 * 3_600_000);
  });

  it("names the key and the accepted form for a bad value", () => {
    const bad = load({ "session-ttl": "a month" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.issues[0]).toMatchObject({ code: "invalid_value", path: ["server", "session_ttl"], source: "flag --session-ttl" });
      expect(bad.issues[0]!.message).toContain('expected a duration like "250ms", "30s", "2m", "1h" or "1d", got "a month"');
    }
  });
});
