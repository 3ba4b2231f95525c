/**
 * A TCP listener on 127.0.0.1 that counts the connections it gets and hangs up each one at once.
 * Set as HTTPS_PROXY it stands in for a host on the internet: a request that would leave the
 * machine comes here instead, fails, and is counted, so a test can say whether one was made.
 */

/** A running listener: where it listens, how many connections it has had, and stop. */
export interface HangUpListener {
  /** `http://127.0.0.1:PORT`, ready to use as a proxy URL. */
  readonly url: string;
  /** Connections accepted so far. */
  connections(): number;
  /** Stops listening and drops any connection still open. */
  stop(): void;
}

/** Listens on a free port of 127.0.0.1; each connection is counted and closed as soon as it opens. */
export function startHangUpListener(): HangUpListener {
  let count = 0;
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        count++;
        socket.end();
      },
      data() {},
    },
  });
  return {
    url: `http://127.0.0.1:${listener.port}`,
    connections: () => count,
    stop: () => listener.stop(true),
  };
}
