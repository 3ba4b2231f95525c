import { describe, expect, it } from "bun:test";
import { renderUnit, type UnitInput } from "../../src/cli/systemd.ts";
import { quoteExecArg } from "../../src/cli/systemd-quote.ts";
import { loadConfig } from "../../src/config/index.ts";

function input(flags: Record<string, string>, overrides: Partial<UnitInput> = {}, fileText?: string): UnitInput {
  const loaded = loadConfig({
    flags: new Map(Object.entries(flags)),
    env: {},
    cwd: "/srv",
    ...(fileText === undefined ? {} : { configPath: "/etc/skiff/config.toml" }),
    readFile: (path) => (path === "/etc/skiff/config.toml" ? fileText : undefined),
    parseToml: (text) => Bun.TOML.parse(text),
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  return {
    exec: ["/usr/local/bin/skiff"],
    flags: new Map(Object.entries(flags)),
    switches: new Set(["verbose", "trace-content"]),
    config: loaded.value.config,
    configFile: loaded.value.file,
    cwd: "/srv",
    version: "1.2.3",
    env: {},
    ...overrides,
  };
}

describe("renderUnit", () => {
  it("prints a hardened unit whose ExecStart runs this binary's serve with the given flags", () => {
    const { text, warnings } = renderUnit(
      input(
        { config: "/etc/skiff/config.toml", "max-steps": "5", "trace-content": "false", verbose: "true" },
        {},
        'model = "gpt-4.1-mini"\napi_key_file = "/etc/skiff/openai.key"\n[server]\nlisten = "0.0.0.0:8080"\nauth_token_file = "token"\nshutdown_timeout = "20s"\n',
      ),
    );
    expect(warnings).toEqual([]);
    const lines = text.split("\n");
    expect(lines).toContain(
      "ExecStart=/usr/local/bin/skiff serve --config /etc/skiff/config.toml --max-steps 5 --no-trace-content " +
        "--api-key-file ${CREDENTIALS_DIRECTORY}/api_key --auth-token-file ${CREDENTIALS_DIRECTORY}/auth_token",
    );
    expect(lines).toContain("LoadCredential=api_key:/etc/skiff/openai.key");
    // A relative secret path is resolved where `skiff systemd` ran.
    expect(lines).toContain("LoadCredential=auth_token:/srv/token");
    for (const directive of [
      "DynamicUser=yes",
      "StateDirectory=skiff",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "NoNewPrivileges=yes",
      "PrivateTmp=yes",
      "Restart=on-failure",
      "KillMode=mixed",
      "TimeoutStopSec=35s",
      "CapabilityBoundingSet=",
      "WantedBy=multi-user.target",
    ]) {
      expect(lines).toContain(directive);
    }
    expect(text).not.toContain("MemoryDenyWriteExecute=yes");
  });

  it("refuses what would not work as printed", () => {
    expect(() => renderUnit(input({}, { exec: ["/home/ann/skiff"] }))).toThrow(/ProtectHome=\/PrivateTmp= hide .*\(sudo install -m 0755 \/home\/ann\/skiff \/usr\/local\/bin\/skiff/);
    expect(() => renderUnit(input({}, { exec: ["skiff"] }))).toThrow(/not absolute/);
    expect(() => renderUnit(input({ listen: "0.0.0.0:8080" }))).toThrow(/without a bearer token.*--auth-token-file PATH/);
    expect(() => renderUnit(input({ listen: "0.0.0.0:8080" }, { env: { SKIFF_AUTH_TOKEN: "x".repeat(20) } }))).toThrow(/SKIFF_AUTH_TOKEN from this shell is not copied/);
    expect(() => renderUnit(input({}, { configFile: "/root/skiff.toml" }))).toThrow(/the service cannot see/);
  });

  it("refuses a --sessions URL with a password, which the unit file and ps would show, and never repeats it", () => {
    const withPassword = () => renderUnit(input({ sessions: "postgres://skiff:hunter2@db/skiff" }));
    expect(withPassword).toThrow(/--sessions holds a database password.*PGPASSWORD=… in a root-only EnvironmentFile=/);
    expect(withPassword).not.toThrow(/hunter2/);
    const unit = renderUnit(input({ sessions: "postgres://skiff@db/skiff" })).text;
    expect(unit).toContain("ExecStart=/usr/local/bin/skiff serve --sessions postgres://skiff@db/skiff");
    expect(unit).not.toContain("ReadWritePaths=");
  });

  it("grants only what the settings need: a low port, a database outside the state directory", () => {
    const low = renderUnit(input({ listen: "127.0.0.1:80", sessions: "sqlite:/srv/data/s.db" })).text.split("\n");
    expect(low).toContain("AmbientCapabilities=CAP_NET_BIND_SERVICE");
    expect(low).toContain("CapabilityBoundingSet=CAP_NET_BIND_SERVICE");
    expect(low).toContain("ReadWritePaths=/srv/data");
    expect(low).toContain("ExecStart=/usr/local/bin/skiff serve --listen 127.0.0.1:80 --sessions sqlite:/srv/data/s.db");
    const inState = renderUnit(input({ sessions: "sqlite:sessions.db" })).text;
    expect(inState).not.toContain("ReadWritePaths=");
  });

  it("is Type=notify with the watchdog of server.watchdog, which is not forwarded to serve", () => {
    const lines = renderUnit(input({})).text.split("\n");
    for (const directive of ["Type=notify", "NotifyAccess=main", "WatchdogSec=30s", "After=network-online.target"]) expect(lines).toContain(directive);
    expect(lines).not.toContain("Type=exec");
    expect(renderUnit(input({ watchdog: "1500ms" })).text.split("\n")).toContain("WatchdogSec=1500ms");
    const off = renderUnit(input({ watchdog: "0" })).text;
    expect(off).not.toContain("WatchdogSec=");
    expect(off).toContain("ExecStart=/usr/local/bin/skiff serve\n");
  });

  it("with socket, prints skiff.service that requires skiff.socket, then skiff.socket for server.listen", () => {
    const { text } = renderUnit(input({ listen: "[::1]:443" }, { socket: true }));
    const [service, socket] = text.split("\n# skiff.socket, generated by");
    const serviceLines = service!.split("\n");
    for (const directive of ["Requires=skiff.socket", "After=skiff.socket network-online.target", "Also=skiff.socket", "CapabilityBoundingSet="]) {
      expect(serviceLines).toContain(directive);
    }
    // systemd binds port 443, so skiff needs no capability for it.
    expect(service).not.toContain("CAP_NET_BIND_SERVICE");
    expect(service).toContain('ExecStart=/usr/local/bin/skiff serve --listen "[::1]:443"\n');
    expect(socket!.split("\n")).toEqual(expect.arrayContaining(["[Socket]", "ListenStream=[::1]:443", "Backlog=65535", "WantedBy=sockets.target"]));
  });

  it("refuses a socket unit systemd could not bind as written", () => {
    expect(() => renderUnit(input({ listen: "localhost:8080" }, { socket: true }))).toThrow(
      '--socket: ListenStream= takes an IP address, and server.listen is "localhost:8080"; use 127.0.0.1:8080 or [::1]:8080',
    );
    expect(() => renderUnit(input({ listen: "127.0.0.1:0" }, { socket: true }))).toThrow('--socket: the socket unit needs a fixed port, and server.listen is "127.0.0.1:0"');
  });

  it("warns about an API key from the shell that the unit will not have", () => {
    expect(renderUnit(input({}, { env: { OPENAI_API_KEY: "sk-secret" } })).warnings).toEqual([
      "OPENAI_API_KEY from this shell is not copied into the unit; put the key in a root-only file and pass --api-key-file PATH",
    ]);
    const unit = renderUnit(input({}, { env: { OPENAI_API_KEY: "sk-secret" } })).text;
    expect(unit).not.toContain("sk-secret");
  });
});

describe("quoteExecArg", () => {
  it("escapes specifiers and variables and quotes words with spaces", () => {
    expect(quoteExecArg("/etc/skiff/config.toml")).toBe("/etc/skiff/config.toml");
    expect(quoteExecArg("You are 100% $HOME")).toBe('"You are 100%% $$HOME"');
    expect(quoteExecArg('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
    expect(quoteExecArg("")).toBe('""');
  });
});
