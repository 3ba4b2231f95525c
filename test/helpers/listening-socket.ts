/**
 * A listening TCP socket on 127.0.0.1 held by the test process itself, as systemd holds a
 * .socket unit's: its descriptor can be handed to child processes one after another (Bun.spawn's
 * stdio slot 3), and connections queue in it while no child accepts. Linux only.
 */
import { linux, socketCalls } from "../../src/platform/libc-socket.ts";
import { ipv4Address, readInetAddress } from "../../src/platform/sockaddr.ts";

/** A listening socket: its descriptor in this process, its port, and close. */
export interface HeldSocket {
  readonly fd: number;
  readonly port: number;
  close(): void;
}

/** Binds 127.0.0.1 on a free port and listens with a deep queue (close-on-exec here; a child gets a copy). */
export function holdListeningSocket(): HeldSocket {
  const calls = socketCalls();
  const fd = calls.socket(linux.AF_INET, linux.SOCK_STREAM | linux.SOCK_CLOEXEC);
  try {
    calls.setsockoptInt(fd, linux.SOL_SOCKET, linux.SO_REUSEADDR, 1);
    calls.bind(fd, ipv4Address("127.0.0.1", 0));
    calls.listen(fd, 4096);
    const port = readInetAddress(calls.getsockname(fd))?.port ?? 0;
    let open = true;
    return {
      fd,
      port,
      close() {
        if (open) calls.close(fd);
        open = false;
      },
    };
  } catch (error) {
    calls.close(fd);
    throw error;
  }
}
