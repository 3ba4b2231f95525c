import { describe, expect, it } from "bun:test";
import { redactUrlPasswords } from "../../src/util/redact-url.ts";

describe("redactUrlPasswords", () => {
  it("hides the password of the userinfo and of a password= parameter", () => {
    expect(redactUrlPasswords("postgres://skiff:hunter2@db:5432/skiff")).toBe("postgres://skiff:****@db:5432/skiff");
    expect(redactUrlPasswords("postgresql://:hunter2@db/skiff")).toBe("postgresql://:****@db/skiff");
    expect(redactUrlPasswords("postgres://db/skiff?sslmode=require&password=hunter2&x=1")).toBe("postgres://db/skiff?sslmode=require&password=****&x=1");
  });

  it("hides all of a password holding a raw @, and every URL in a text", () => {
    expect(redactUrlPasswords("postgres://u:p@ss@db/x")).toBe("postgres://u:****@db/x");
    expect(redactUrlPasswords("from http://a:b@c/d to https://e:f@g")).toBe("from http://a:****@c/d to https://e:****@g");
  });

  it("leaves text without a password unchanged", () => {
    for (const text of ["postgres://skiff@db/skiff", "sqlite:/var/lib/skiff/skiff.db", "memory", "http://127.0.0.1:8080/v1", "user:pass@host"]) {
      expect(redactUrlPasswords(text)).toBe(text);
    }
  });
});
