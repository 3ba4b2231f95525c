/** Clock arithmetic of key limits: UTC days and clock minutes, and how long until each turns. */

const minuteMs = 60_000;
const dayMs = 86_400_000;

/** The UTC day of epoch ms `now`, as `YYYY-MM-DD`. */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** The UTC day `days` before the day of `now`. */
export function utcDayBefore(now: number, days: number): string {
  return utcDay(now - days * dayMs);
}

/** Minutes since the epoch: the window `requests_per_minute` counts in. */
export function clockMinute(now: number): number {
  return Math.floor(now / minuteMs);
}

/** Whole seconds (at least 1) until the next clock minute: a Retry-After. */
export function secondsToNextMinute(now: number): number {
  return Math.max(1, Math.ceil(((clockMinute(now) + 1) * minuteMs - now) / 1000));
}

/** Whole seconds (at least 1) until the next UTC midnight: a Retry-After. */
export function secondsToNextUtcDay(now: number): number {
  return Math.max(1, Math.ceil(((Math.floor(now / dayMs) + 1) * dayMs - now) / 1000));
}

/** True for a real `YYYY-MM-DD` date. */
export function isUtcDay(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && utcDay(Date.parse(`${text}T00:00:00Z`) || 0) === text;
}
