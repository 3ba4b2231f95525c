import { describe, expect, it } from "bun:test";
import { linux, socketCalls } from "../../src/platform/libc-socket.ts";
import { openSdNotify } from "../../src/platform/sd-notify.ts";
import { watchdogSchedule } from "../../src/platform/sd-watchdog.ts";
import { ipv4Address, readInetAddress, unixAddress } from "../../src/platform/sockaddr.ts";
import { takeInheritedSocket } from "../../src/platform/socket-activation.ts";

describe("unixAddress", () => {
  it("writes a path with its terminating NUL, and an abstract name with a leading NUL instead of @", () => {
    expect([...unixAddress("/run/n")]).toEqual([1, 0, ...Buffer.from("/run/n"), 0]);
    expect([...unixAddress("@sd")]).toEqual([1, 0, 0, ...Buffer.from("sd")]);
  });

  it("refuses relative paths and names longer than sun_path", () => {
    expect(() => unixAddress("run/notify")).toThrow('"run/notify" is neither an absolute path nor an abstract name ("@…")');
    expect(() => unixAddress(`/${"x".repeat(107)}`)).toThrow("the socket name is 109 bytes; a Unix socket name has at most 108");
  });
});

describe("readInetAddress", () => {
  it("reads back IPv4 and IPv6 addresses from real sockets", () => {
    if (process.platform !== "linux") return;
    const calls = socketCalls();
    const v4 = calls.socket(linux.AF_INET, linux.SOCK_STREAM | linux.SOCK_CLOEXEC);
    const v6 = calls.socket(linux.AF_INET6, linux.SOCK_STREAM | linux.SOCK_CLOEXEC);
    try {
      calls.bind(v4, ipv4Address("127.0.0.1", 0));
      const address = readInetAddress(calls.getsockname(v4));
      expect(address).toMatchObject({ family: 4, host: "127.0.0.1" });
      expect(address?.port).toBeGreaterThan(0);
      expect(readInetAddress(calls.getsockname(v6))).toEqual({ family: 6, host: "::", port: 0 });
    } finally {
      calls.close(v4);
      calls.close(v6);
    }
  });

  it("is undefined for a Unix socket address", () => {
    expect(readInetAddress(unixAddress("/run/x"))).toBeUndefined();
  });
});

describe("watchdogSchedule", () => {
  it("pings at half of WATCHDOG_USEC, for this process only", () => {
    expect(watchdogSchedule({ WATCHDOG_USEC: "30000000" }, 42)).toEqual({ kind: "on", everyMs: 15_000, timeoutMs: 30_000 });
    expect(watchdogSchedule({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "42" }, 42)).toMatchObject({ kind: "on" });
    expect(watchdogSchedule({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "7" }, 42)).toEqual({ kind: "off" });
    expect(watchdogSchedule({}, 42)).toEqual({ kind: "off" });
  });

  it("says what is wrong with WATCHDOG_USEC", () => {
    expect(watchdogSchedule({ WATCHDOG_USEC: "30s" }, 1)).toEqual({ kind: "invalid", reason: "WATCHDOG_USEC=30s is not a positive number of microseconds" });
    expect(watchdogSchedule({ WATCHDOG_USEC: "0" }, 1)).toMatchObject({ kind: "invalid" });
  });
});

describe("openSdNotify", () => {
  it("is off without NOTIFY_SOCKET and unusable, with the reason, for what it cannot reach", () => {
    expect(openSdNotify({})).toEqual({ kind: "off" });
    expect(openSdNotify({ NOTIFY_SOCKET: "vsock:2:999" }, "linux")).toEqual({
      kind: "unusable",
      reason: "NOTIFY_SOCKET=vsock:2:999: only Unix sockets are supported, not vsock",
    });
    expect(openSdNotify({ NOTIFY_SOCKET: "/run/systemd/notify" }, "darwin")).toEqual({
      kind: "unusable",
      reason: "NOTIFY_SOCKET is set, but notifications are only sent on Linux",
    });
  });
});

describe("takeInheritedSocket", () => {
  it("takes nothing without LISTEN_FDS, and ignores variables meant for another process", () => {
    expect(takeInheritedSocket({}, 42)).toEqual({ kind: "none" });
    expect(takeInheritedSocket({ LISTEN_FDS: "1", LISTEN_PID: "7" }, 42)).toEqual({
      kind: "none",
      ignored: "LISTEN_FDS is set for process 7, not this one (42)",
    });
    expect(takeInheritedSocket({ LISTEN_FDS: "0", LISTEN_PID: "42" }, 42)).toEqual({ kind: "none" });
  });

  it("refuses more than one socket and a LISTEN_FDS that is not a number", () => {
    expect(takeInheritedSocket({ LISTEN_FDS: "2", LISTEN_PID: "42" }, 42)).toEqual({
      kind: "invalid",
      reason: "LISTEN_FDS=2: skiff serve listens on one socket; give the .socket unit a single ListenStream=",
    });
    expect(takeInheritedSocket({ LISTEN_FDS: "one", LISTEN_PID: "42" }, 42)).toMatchObject({ kind: "invalid", reason: "LISTEN_FDS=one is not a number of descriptors" });
    expect(takeInheritedSocket({ LISTEN_FDS: "1", LISTEN_PID: "42" }, 42, "darwin")).toMatchObject({ kind: "invalid" });
  });
});
