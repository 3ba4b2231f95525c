import { describe, expect, it } from "bun:test";
import { checkExposure, parseListen, urlOf } from "../../src/server/listen.ts";

describe("parseListen", () => {
  it("reads HOST:PORT, [IPv6]:PORT and :PORT, and knows loopback addresses", () => {
    expect(parseListen("127.0.0.1:8080")).toEqual({ hostname: "127.0.0.1", port: 8080, loopback: true });
    expect(parseListen("[::1]:9000")).toEqual({ hostname: "::1", port: 9000, loopback: true });
    expect(parseListen("localhost:0")).toEqual({ hostname: "localhost", port: 0, loopback: true });
    expect(parseListen("127.1.2.3:80").loopback).toBe(true);
    expect(parseListen("0.0.0.0:8080")).toEqual({ hostname: "0.0.0.0", port: 8080, loopback: false });
    expect(parseListen(":8080")).toEqual({ hostname: "0.0.0.0", port: 8080, loopback: false });
    expect(parseListen("[::]:8080").loopback).toBe(false);
    expect(parseListen("10.0.0.5:8080").loopback).toBe(false);
  });

  it("says which forms are accepted", () => {
    for (const bad of ["8080", "host", "1.2.3.4:99999", "[nope]:80", "a:b:c"]) {
      expect(() => parseListen(bad)).toThrow(/server\.listen|IPv6/);
    }
    expect(() => parseListen("8080")).toThrow(/expected HOST:PORT such as 127\.0\.0\.1:8080/);
  });
});

describe("checkExposure", () => {
  it("refuses a non-loopback address without a token, and allows the rest", () => {
    expect(() => checkExposure(parseListen("0.0.0.0:8080"), false)).toThrow(/without authentication; set server\.auth_token_file/);
    expect(() => checkExposure(parseListen("0.0.0.0:8080"), true)).not.toThrow();
    expect(() => checkExposure(parseListen("127.0.0.1:8080"), false)).not.toThrow();
  });
});

describe("urlOf", () => {
  it("brackets IPv6 addresses", () => {
    expect(urlOf("::1", 80)).toBe("http://[::1]:80");
    expect(urlOf("127.0.0.1", 8080)).toBe("http://127.0.0.1:8080");
  });
});
