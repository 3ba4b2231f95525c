import { type BacklogOutcome, raiseListenBacklog } from "../platform/listen-backlog.ts";
import type { App } from "./app.ts";
import { urlOf } from "./listen.ts";

/** A listening server. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** The accept queue: raised from Bun's 512 to the system's maximum where that works. */
  readonly backlog: BacklogOutcome;
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
}

/** Starts Bun's HTTP server on `app`: the only Bun.serve in skiff. */
export function serve(app: App, options: ServeOptions): RunningServer {
  const server = Bun.serve({
    hostname: options.hostname,
    port: options.port,
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
  const port = server.port ?? options.port;
  return {
    url: urlOf(options.hostname, port),
    port,
    // A burst of clients beyond Bun's 512 pending connections would otherwise wait 1 s or more each.
    backlog: raiseListenBacklog(port),
    stopAccepting: () => server.stop(false),
    closeAll: () => server.stop(true),
  };
}
