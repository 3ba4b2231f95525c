import { describe, expect, it } from "bun:test";
import { resolveAuthToken } from "../../src/config/index.ts";

const files: Record<string, string> = { "/etc/skiff/token": "  0123456789abcdef0123\n", "/etc/skiff/short": "abc\n", "/etc/skiff/empty": "\n" };
const sources = (env: Record<string, string> = {}) => ({ env, readFile: (path: string) => files[path] });

describe("resolveAuthToken", () => {
  it("reads auth_token_file (trimmed), else SKIFF_AUTH_TOKEN, else none", () => {
    expect(resolveAuthToken("/etc/skiff/token", sources({ SKIFF_AUTH_TOKEN: "ignored-because-file-wins" }))).toBe("0123456789abcdef0123");
    expect(resolveAuthToken(undefined, sources({ SKIFF_AUTH_TOKEN: "from-env-0123456789" }))).toBe("from-env-0123456789");
    expect(resolveAuthToken(undefined, sources())).toBeUndefined();
  });

  it("refuses short, empty and missing token files without showing the token", () => {
    expect(() => resolveAuthToken("/etc/skiff/short", sources())).toThrow(/is 3 characters long; use at least 16/);
    expect(() => resolveAuthToken("/etc/skiff/short", sources())).not.toThrow(/abc/);
    expect(() => resolveAuthToken("/etc/skiff/empty", sources())).toThrow(/is empty/);
    expect(() => resolveAuthToken("/etc/skiff/nope", sources())).toThrow(/does not exist or cannot be read/);
    expect(() => resolveAuthToken(undefined, sources({ SKIFF_AUTH_TOKEN: "short" }))).toThrow(/SKIFF_AUTH_TOKEN is 5 characters long/);
  });
});
