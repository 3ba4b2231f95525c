/** Durations and sizes as people write them in config: "250ms", "30s", "2m", "1h", "30d", "1MiB". */

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The longest duration a config key accepts (unless it says otherwise): 24 days. Timers cannot wait
 * longer than 2^31-1 ms (24.8 days); setTimeout turns a longer delay into 1 ms, so "25d" would fire
 * at once. Whole days keep the limit easy to name in an error.
 */
export const maxDurationMs = 24 * 86_400_000;

/** Parses "30s" into 30000 (ms). Returns undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  let total = 0;
  let rest = text.trim();
  if (rest === "") return undefined;
  if (rest === "0") return 0;
  // Compound forms like "1m30s" are read piece by piece.
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/.exec(rest);
    if (!match) return undefined;
    total += Number(match[1]) * durationUnits[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return Math.round(total);
}

/** Formats ms compactly for messages: 250ms, 1.5s, 2m, 1h30m, 30d. */
export function formatDuration(ms: number): string {
  // Whole days only: "36h" reads better than "1d12h".
  if (ms >= 86_400_000 && ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1))}s`;
  if (ms < 3_600_000) {
    const minutes = Math.floor(ms / 60_000);
    const seconds = Math.round((ms % 60_000) / 1000);
    return seconds ? `${minutes}m${seconds}s` : `${minutes}m`;
  }
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.round((ms % 3_600_000) / 60_000);
  return minutes ? `${hours}h${minutes}m` : `${hours}h`;
}

const sizeUnits: Record<string, number> = {
  "": 1, b: 1, kb: 1000, mb: 1_000_000, gb: 1_000_000_000, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};

/** Parses "64KiB" / "1MiB" / "1000" into bytes. Returns undefined when the text is not a size. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = sizeUnits[match[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit);
}

/** Formats bytes for messages: 512 B, 64 KiB, 1.5 MiB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${Number((bytes / 1024 ** 2).toFixed(1))} MiB`;
}
