/**
 * Quoting for systemd unit files (systemd.syntax(7), systemd.service(5) "Command lines"): `%`
 * starts a specifier and `$` a variable, so both are doubled; words with spaces, quotes or
 * backslashes are double-quoted with C-style escapes.
 */
export function quoteExecArg(arg: string): string {
  const escaped = arg.replaceAll("%", "%%").replaceAll("$", "$$$$");
  if (escaped !== "" && /^[A-Za-z0-9_@+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** A path as the value of a setting such as `LoadCredential=` or `ReadWritePaths=`: specifiers escaped. */
export function escapeSettingPath(path: string): string {
  return path.replaceAll("%", "%%");
}

/** Directories a hardened unit (ProtectHome=yes, PrivateTmp=yes) cannot see. */
const hiddenRoots = ["/home/", "/root/", "/run/user/", "/tmp/", "/var/tmp/"];

/** The root that hides `path` from the service, if any. */
export function hiddenRootOf(path: string): string | undefined {
  return hiddenRoots.find((root) => path === root.slice(0, -1) || path.startsWith(root));
}
