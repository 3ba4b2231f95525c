import { describe, expect, it } from "bun:test";
import { isLocalHost } from "../../src/util/local-host.ts";

describe("isLocalHost", () => {
  it("takes this machine, private networks and private names for local", () => {
    const local = [
      "127.0.0.1", "127.5.6.7", "localhost", "LOCALHOST", "[::1]", "::1", "10.1.2.3", "172.16.0.1", "172.31.255.255",
      "192.168.1.20", "169.254.1.1", "100.64.0.1", "[fd12:3456::1]", "fe80::1", "::ffff:192.168.0.1",
      "ollama", "gpu-box.local", "models.internal", "nas.lan", "llm.home.arpa", "app.localhost", "localhost.",
    ];
    expect(local.filter((host) => !isLocalHost(host))).toEqual([]);
  });

  it("takes public addresses and names for public", () => {
    const publicHosts = ["api.openai.com", "openrouter.ai", "8.8.8.8", "172.32.0.1", "192.169.0.1", "100.128.0.1", "[2606:4700::1111]", "example.localhost.com"];
    expect(publicHosts.filter((host) => isLocalHost(host))).toEqual([]);
  });
});
