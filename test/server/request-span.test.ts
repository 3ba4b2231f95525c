import { describe, expect, it } from "bun:test";
import { hostOf, openRequestSpan } from "../../src/server/request-span.ts";
import { noopTracer, type RequestSpanInfo, type Tracer } from "../../src/telemetry/tracer.ts";

/** A tracer that records what each request span was opened with and how it ended. */
function recordingTracer() {
  const opened: RequestSpanInfo[] = [];
  const ended: number[] = [];
  const tracer: Tracer = {
    startRun: noopTracer.startRun,
    startRequest(info) {
      opened.push(info);
      return { traceparent: "00-0af7651916cd43dd8448eb211c80319c-00000000000000aa-01", end: (status) => void ended.push(status) };
    },
  };
  return { tracer, opened, ended };
}

describe("openRequestSpan", () => {
  it("opens nothing when the tracer records no requests (telemetry off)", () => {
    const req = new Request("http://x/v1/runs", { method: "POST", headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } });
    expect(openRequestSpan(noopTracer, req, "/v1/runs", "/v1/runs")).toBeUndefined();
    expect(req.headers.get("traceparent")).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  });

  it("tells the tracer the request and the caller's traceparent, and hands the route its own span's traceparent", () => {
    const { tracer, opened } = recordingTracer();
    const req = new Request("https://agents.example:8443/v1/runs", {
      method: "POST",
      headers: { host: "agents.example:8443", "user-agent": "client/2", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    });
    const span = openRequestSpan(tracer, req, "/v1/runs", "/v1/runs");
    expect(opened).toEqual([
      {
        method: "POST",
        route: "/v1/runs",
        path: "/v1/runs",
        scheme: "https",
        serverAddress: "agents.example",
        serverPort: 8443,
        userAgent: "client/2",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      },
    ]);
    // The route reads the run's parent from this header: the run becomes the request span's child.
    expect(req.headers.get("traceparent")).toBe(span!.traceparent!);
  });

  it("ignores a malformed traceparent, so the request starts a trace of its own", () => {
    const { tracer, opened } = recordingTracer();
    openRequestSpan(tracer, new Request("http://x/v1/runs", { method: "POST", headers: { traceparent: "garbage" } }), "/v1/runs", "/v1/runs");
    expect(opened[0]!.traceparent).toBeUndefined();
  });
});

describe("hostOf", () => {
  it("reads names, IPv4 and bracketed IPv6, with and without a port", () => {
    expect(hostOf("example.com")).toEqual({ address: "example.com", port: undefined });
    expect(hostOf("127.0.0.1:8080")).toEqual({ address: "127.0.0.1", port: 8080 });
    expect(hostOf("[::1]:9000")).toEqual({ address: "::1", port: 9000 });
    expect(hostOf("[2001:db8::1]")).toEqual({ address: "2001:db8::1", port: undefined });
  });

  it("gives nothing for a missing or unreadable header, and no port past 65535", () => {
    expect(hostOf(null)).toBeUndefined();
    expect(hostOf("  ")).toBeUndefined();
    expect(hostOf("a:b:c")).toBeUndefined();
    expect(hostOf("example.com:99999")).toEqual({ address: "example.com", port: undefined });
  });
});
