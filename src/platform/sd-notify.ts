/**
 * systemd's service notifications (sd_notify(3)): newline-separated `KEY=VALUE` states
 * ("READY=1", "STATUS=…", "WATCHDOG=1", "STOPPING=1") sent as one datagram to the Unix socket that
 * NOTIFY_SOCKET names, an absolute path or "@name" in the abstract namespace.
 *
 * Bun has no Unix datagram socket (Bun.udpSocket and node:dgram speak UDP only), so this is
 * socket(2) and sendto(2) through bun:ffi, like go-systemd's `daemon.SdNotify`. One socket is kept
 * for the process's life. Sends never block (MSG_DONTWAIT): a supervisor that is not reading must
 * not stall the event loop, and a notification it would not read is worth nothing anyway.
 */
import { linux, socketCalls } from "./libc-socket.ts";
import { unixAddress } from "./sockaddr.ts";

/** The environment variable systemd sets for Type=notify services. */
export const notifySocketVariable = "NOTIFY_SOCKET";

/** A channel to the service manager. */
export interface SdNotifier {
  /** Where notifications go, as NOTIFY_SOCKET names it. */
  readonly socket: string;
  /** Sends one notification, e.g. "READY=1\nSTATUS=serving"; throws SocketCallError when it cannot. */
  send(state: string): void;
  close(): void;
}

/** Whether notifications can be sent: not asked for, ready, or asked for but impossible (and why). */
export type SdNotifyOutcome =
  | { readonly kind: "off" }
  | { readonly kind: "on"; readonly notifier: SdNotifier }
  | { readonly kind: "unusable"; readonly reason: string };

/** Opens the notification socket NOTIFY_SOCKET names, if it names one. */
export function openSdNotify(env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform = process.platform): SdNotifyOutcome {
  const name = env[notifySocketVariable];
  if (name === undefined || name === "") return { kind: "off" };
  if (platform !== "linux") return { kind: "unusable", reason: `${notifySocketVariable} is set, but notifications are only sent on Linux` };
  if (name.startsWith("vsock:")) return { kind: "unusable", reason: `${notifySocketVariable}=${name}: only Unix sockets are supported, not vsock` };
  let address: Uint8Array;
  try {
    address = unixAddress(name);
  } catch (error) {
    return { kind: "unusable", reason: `${notifySocketVariable}: ${error instanceof Error ? error.message : String(error)}` };
  }
  let fd: number;
  try {
    fd = socketCalls().socket(linux.AF_UNIX, linux.SOCK_DGRAM | linux.SOCK_CLOEXEC);
  } catch (error) {
    return { kind: "unusable", reason: `cannot open a socket for ${notifySocketVariable}: ${error instanceof Error ? error.message : String(error)}` };
  }
  let open = true;
  return {
    kind: "on",
    notifier: {
      socket: name,
      send(state) {
        if (!open) return;
        socketCalls().sendto(fd, Buffer.from(state), linux.MSG_DONTWAIT | linux.MSG_NOSIGNAL, address);
      },
      close() {
        if (!open) return;
        open = false;
        socketCalls().close(fd);
      },
    },
  };
}
