import { dirname, isAbsolute, resolve } from "node:path";
import type { Config } from "../config/index.ts";
import { UsageError } from "../errors.ts";
import { isLoopback, parseListen } from "../server/listen.ts";
import { parseSessionsSpec } from "../sessions/index.ts";
import { redactUrl } from "../util/redact-url.ts";
import { escapeSettingPath, hiddenRootOf, quoteExecArg } from "./systemd-quote.ts";
import { renderSocketUnit, systemdTimeSpan } from "./systemd-socket.ts";

/** What the unit is generated from. */
export interface UnitInput {
  /** The command that starts skiff: the binary's absolute path (or bun + script when run from source). */
  readonly exec: readonly string[];
  /** Flags given to `skiff systemd`, forwarded to `skiff serve` (secret paths become credentials). */
  readonly flags: ReadonlyMap<string, string>;
  /** Flags that take no value, to render `--x` / `--no-x`. */
  readonly switches: ReadonlySet<string>;
  readonly config: Config;
  /** The config file that was loaded, if any; passed with an absolute path. */
  readonly configFile: string | undefined;
  readonly cwd: string;
  readonly version: string;
  /** The environment of `skiff systemd`, only to warn about settings that will not carry over. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Also print `skiff.socket` (socket activation), and make the service use it. */
  readonly socket?: boolean;
}

/** Flags that are not forwarded: handled here, or meaningless for the service. */
const notForwarded = new Set(["config", "binary", "help", "verbose", "api-key-file", "auth-token-file", "watchdog", "socket"]);

/** systemd's state directory for StateDirectory=skiff, as $STATE_DIRECTORY names it. */
const stateDir = "/var/lib/skiff";

/** Time after shutdown_timeout for aborted runs to answer, spans to flush and the store to close. */
const stopMarginSec = 15;

/**
 * Renders a hardened unit running `skiff serve` (DESIGN §7). Secret files are passed with
 * LoadCredential= and read from $CREDENTIALS_DIRECTORY, so the dynamic user never needs access to
 * them. `Type=notify`: systemd counts skiff as started once it answers requests (READY=1), and
 * restarts it when its event loop stops pinging the watchdog. With `socket`, the text is two
 * units, skiff.service then skiff.socket, each headed by a comment naming its file. Refuses what
 * would not work as printed; returns warnings for what might not.
 */
export function renderUnit(input: UnitInput): { readonly text: string; readonly warnings: readonly string[] } {
  const { config } = input;
  const warnings: string[] = [];
  const exec = input.exec[0]!;
  if (!isAbsolute(exec)) throw new UsageError(`the binary path "${exec}" is not absolute; pass --binary /usr/local/bin/skiff`);
  const hiddenBinary = hiddenRootOf(exec);
  if (hiddenBinary) {
    throw new UsageError(
      `the binary is at ${exec}, which the unit's ProtectHome=/PrivateTmp= hide from the service; install it first ` +
        `(sudo install -m 0755 ${exec} /usr/local/bin/skiff) and run /usr/local/bin/skiff systemd …, or pass --binary PATH`,
    );
  }
  const configFile = input.configFile === undefined ? undefined : resolve(input.cwd, input.configFile);
  if (configFile && hiddenRootOf(configFile)) {
    throw new UsageError(`the config file ${configFile} is under ${hiddenRootOf(configFile)}, which the service cannot see; move it to /etc/skiff/`);
  }

  const sessionsFlag = input.flags.get("sessions");
  if (sessionsFlag !== undefined && redactUrl(sessionsFlag) !== sessionsFlag) {
    throw new UsageError(
      "--sessions holds a database password, which would be written into the unit file and shown by ps; " +
        "leave it out of the URL and put PGPASSWORD=… in a root-only EnvironmentFile= (see docs/scale.md)",
    );
  }

  const listen = parseListen(config.server.listen);
  const tokenFile = config.server.auth_token_file;
  if (!isLoopback(listen.hostname) && tokenFile === undefined && config.server.keys.length === 0) {
    throw new UsageError(
      `the unit would listen on ${config.server.listen} without a bearer token, and skiff serve refuses that; ` +
        "pass --auth-token-file PATH (a root-only file, loaded with LoadCredential=), or declare [[server.keys]] in the config" +
        (input.env["SKIFF_AUTH_TOKEN"] ? " — SKIFF_AUTH_TOKEN from this shell is not copied into the unit" : ""),
    );
  }

  const args = [...input.exec, "serve"];
  if (configFile) args.push("--config", configFile);
  for (const [name, value] of input.flags) {
    if (notForwarded.has(name)) continue;
    if (input.switches.has(name)) args.push(value === "false" ? `--no-${name}` : `--${name}`);
    else args.push(`--${name}`, value);
  }
  const credentials: string[] = [];
  const credentialArgs: string[] = [];
  const addCredential = (name: string, flag: string, path: string) => {
    credentials.push(`LoadCredential=${name}:${escapeSettingPath(resolve(input.cwd, path))}`);
    credentialArgs.push(`--${flag} \${CREDENTIALS_DIRECTORY}/${name}`);
  };
  if (config.api_key_file) addCredential("api_key", "api-key-file", config.api_key_file);
  if (tokenFile) addCredential("auth_token", "auth-token-file", tokenFile);
  if (!config.api_key_file && input.env["OPENAI_API_KEY"] && config.model !== "demo") {
    warnings.push("OPENAI_API_KEY from this shell is not copied into the unit; put the key in a root-only file and pass --api-key-file PATH");
  }
  config.fallback.forEach((entry, index) => {
    if (entry.api_key_file) warnings.push(`fallback[${index}].api_key_file (${entry.api_key_file}) must be readable by the service's dynamic user`);
  });

  const readWrite: string[] = [];
  const sessions = parseSessionsSpec(config.server.sessions, "sqlite", { env: { STATE_DIRECTORY: stateDir }, cwd: "/" });
  if (sessions.kind === "sqlite" && !sessions.path.startsWith(`${stateDir}/`)) readWrite.push(dirname(sessions.path));
  if (config.tools.fs_root && config.tools.fs_write) readWrite.push(resolve(input.cwd, config.tools.fs_root));
  if (config.tools.fs_root && hiddenRootOf(resolve(input.cwd, config.tools.fs_root))) {
    warnings.push(`tools.fs_root ${config.tools.fs_root} is hidden from the service by ProtectHome=/PrivateTmp=`);
  }

  // With socket activation systemd binds the port, so skiff needs no capability for a low one.
  const privileged = !input.socket && listen.port > 0 && listen.port < 1024;
  const socketUnit = input.socket ? renderSocketUnit(config.server.listen, listen, input.version) : undefined;
  const watchdogMs = config.server.watchdog;
  const stopSec = Math.ceil(config.server.shutdown_timeout / 1000) + stopMarginSec;
  const lines = [
    `# skiff.service, generated by \`skiff systemd\` (skiff ${input.version}).`,
    ...(socketUnit
      ? ["# Install: this unit and skiff.socket below, each in its own file in /etc/systemd/system (docs/deploy.md)"]
      : ["# Install: skiff systemd … | sudo tee /etc/systemd/system/skiff.service", "#          sudo systemctl daemon-reload && sudo systemctl enable --now skiff"]),
    "# Logs:    journalctl -u skiff -f      Guide: docs/deploy.md",
    "[Unit]",
    "Description=skiff AI agent HTTP service",
    ...(socketUnit ? ["Requires=skiff.socket", "After=skiff.socket network-online.target"] : ["After=network-online.target"]),
    "Wants=network-online.target",
    "",
    "[Service]",
    "# skiff sends READY=1 once it answers requests, STATUS= lines and STOPPING=1 (sd_notify).",
    "Type=notify",
    "NotifyAccess=main",
    ...(watchdogMs > 0 ? ["# Restarted when the event loop sends no WATCHDOG=1 for this long (server.watchdog).", `WatchdogSec=${systemdTimeSpan(watchdogMs)}`] : []),
    `ExecStart=${[...args.map(quoteExecArg), ...credentialArgs].join(" ")}`,
    "# systemctl reload skiff: [[server.keys]] and the auth token are read again, nothing else (docs/keys.md).",
    "ExecReload=/bin/kill -HUP $MAINPID",
    ...credentials,
    "Restart=on-failure",
    "RestartSec=2s",
    "# SIGTERM goes to skiff only; it drains runs for server.shutdown_timeout, then aborts the rest.",
    "KillMode=mixed",
    `TimeoutStopSec=${stopSec}s`,
    "# Sessions (SQLite) live in $STATE_DIRECTORY=/var/lib/skiff.",
    "StateDirectory=skiff",
    "StateDirectoryMode=0700",
    "WorkingDirectory=/var/lib/skiff",
    "DynamicUser=yes",
    "UMask=0077",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "NoNewPrivileges=yes",
    ...readWrite.map((path) => `ReadWritePaths=${escapeSettingPath(path)}`),
    ...(privileged
      ? ["AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE"]
      : ["CapabilityBoundingSet="]),
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "SystemCallArchitectures=native",
    "# No MemoryDenyWriteExecute=: Bun's JavaScript JIT needs writable+executable memory.",
    "# Each client and each outbound model/tool request holds a file descriptor.",
    "LimitNOFILE=65536",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    ...(socketUnit ? ["Also=skiff.socket"] : []),
    "",
  ];
  return { text: socketUnit ? `${lines.join("\n")}\n${socketUnit}` : lines.join("\n"), warnings };
}
