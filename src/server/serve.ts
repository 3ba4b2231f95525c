import { adoptListeningSocket } from "../platform/adopt-listener.ts";
import { type BacklogOutcome, raiseListenBacklog } from "../platform/listen-backlog.ts";
import type { InheritedSocket } from "../platform/socket-activation.ts";
import type { App } from "./app.ts";
import { urlOf } from "./listen.ts";

/** A listening server. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** The accept queue: raised from Bun's 512 to the system's maximum where that works. */
  readonly backlog: BacklogOutcome;
  /** True when serving on a socket systemd passed (its queue is the .socket unit's Backlog=). */
  readonly inherited: boolean;
  /** Stops accepting connections; resolves when the requests in progress have been answered. */
  stopAccepting(): Promise<void>;
  /** Closes every connection at once. */
  closeAll(): Promise<void>;
}

/** Where and how to listen. */
export interface ServeOptions {
  readonly hostname: string;
  readonly port: number;
  /** Seconds a kept-alive connection may sit idle (event streams send a heartbeat well within it). */
  readonly idleTimeoutSec: number;
  /** Bun's own body cap, a backstop above server.max_body (the app enforces max_body itself). */
  readonly maxRequestBodySize: number;
  /** A listening socket systemd passed: served instead of binding hostname:port. */
  readonly inherited?: InheritedSocket;
}

/** Starts Bun's HTTP server on `app`: the only Bun.serve in skiff. */
export function serve(app: App, options: ServeOptions): RunningServer {
  const { inherited } = options;
  const server = Bun.serve({
    // With an inherited socket, Bun binds a throwaway loopback port that the socket then replaces.
    hostname: inherited ? (inherited.address.family === 6 ? "::1" : "127.0.0.1") : options.hostname,
    port: inherited ? 0 : options.port,
    idleTimeout: options.idleTimeoutSec,
    maxRequestBodySize: options.maxRequestBodySize,
    // A run can work for minutes without a byte on the wire: no idle timeout while the handler
    // works, then the normal one again for the kept-alive connection.
    async fetch(req, srv) {
      srv.timeout(req, 0);
      try {
        return await app.fetch(req);
      } finally {
        srv.timeout(req, options.idleTimeoutSec);
      }
    },
  });
  if (inherited) {
    try {
      adoptListeningSocket(inherited.fd, server.port ?? 0);
    } catch (error) {
      void server.stop(true);
      throw new Error(`cannot serve on the socket systemd passed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  const port = inherited?.address.port ?? server.port ?? options.port;
  return {
    url: urlOf(inherited?.address.host ?? options.hostname, port),
    port,
    // A burst of clients beyond Bun's 512 pending connections would otherwise wait 1 s or more each.
    // An inherited socket keeps the queue its .socket unit asked for.
    backlog: inherited ? { unchanged: "the socket is systemd's: its Backlog= applies" } : raiseListenBacklog(port),
    inherited: inherited !== undefined,
    stopAccepting: () => server.stop(false),
    closeAll: () => server.stop(true),
  };
}
