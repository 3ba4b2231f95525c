import { z } from "zod";
import { defineTool } from "../define-tool.ts";
import { ToolFailure } from "../tool.ts";
import { findCities } from "./cities.ts";

/** What createTimeTool needs from the outside world; tests pass a fixed clock. */
export interface TimeToolOptions {
  readonly now?: () => Date;
}

/** The current instant as seen in one time zone. */
export interface ZonedTime {
  /** Canonical IANA name, e.g. `Asia/Tokyo`. */
  readonly zone: string;
  /** Local date-time with offset, e.g. `2024-07-01T21:00:00+09:00`. */
  readonly iso: string;
  /** Local wall-clock time, e.g. `2024-07-01 21:00:00`. */
  readonly local: string;
  /** Offset from UTC, e.g. `+09:00`. */
  readonly utc_offset: string;
  /** English weekday name, e.g. `Monday`. */
  readonly weekday: string;
}

/** Builds the `time` tool with an injectable clock. */
export function createTimeTool(options: TimeToolOptions = {}) {
  const now = options.now ?? (() => new Date());
  return defineTool({
    name: "time",
    idempotent: true,
    description: "Current date, time, UTC offset and weekday in an IANA time zone.",
    input: z.object({
      zone: z.string().describe('IANA time zone name, e.g. "Europe/Paris", "Asia/Tokyo", "America/New_York" or "UTC"'),
    }),
    run: async ({ zone }) => zonedTime(now(), zone),
  });
}

/** The `time` tool on the system clock. */
export const timeTool = createTimeTool();

/** Describes `instant` in `zone`; throws ToolFailure for a zone Intl does not know. */
export function zonedTime(instant: Date, zone: string): ZonedTime {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      // h23, not hour12: false, which some engines render as "24" at midnight.
      hourCycle: "h23",
      weekday: "long",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  } catch (error) {
    throw new ToolFailure(unknownZoneMessage(zone), { code: "unknown_time_zone", cause: error });
  }
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const part of format.formatToParts(instant)) parts[part.type] = part.value;
  const { year = "", month = "", day = "", hour = "", minute = "", second = "", weekday = "" } = parts;

  // The offset is how far the wall clock is from UTC: read the wall clock back as if it were UTC.
  const wallClockAsUtc = Date.UTC(Number(year), Number(month) - 1, Number(day), +hour, +minute, +second);
  const offsetMinutes = Math.round((wallClockAsUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
  const utcOffset = formatOffset(offsetMinutes);
  const local = `${year}-${month}-${day} ${hour}:${minute}:${second}`;
  return {
    zone: format.resolvedOptions().timeZone,
    iso: `${local.replace(" ", "T")}${utcOffset}`,
    local,
    utc_offset: utcOffset,
    weekday,
  };
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

function unknownZoneMessage(zone: string): string {
  // Models often pass a city ("Tokyo") where a zone is wanted; point at the right name.
  const city = findCities(zone)[0];
  const hint = city === undefined ? "" : ` Did you mean "${city.zone}" (${city.city})?`;
  return (
    `Unknown time zone "${zone}".${hint} Use an IANA zone name such as ` +
    `"Europe/Paris", "Asia/Tokyo", "America/New_York" or "UTC".`
  );
}
