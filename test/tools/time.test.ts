import { describe, expect, it } from "bun:test";
import { createTimeTool, zonedTime } from "../../src/tools/builtin/time.ts";
import { ToolFailure, ToolInputError } from "../../src/tools/tool.ts";

const context = { signal: new AbortController().signal, callId: "call_1" };
const summer = new Date("2024-07-01T12:00:00Z");
const winter = new Date("2024-01-15T12:00:00Z");

describe("createTimeTool", () => {
  it("gives the local time in Asia/Tokyo for the injected instant", async () => {
    const tool = createTimeTool({ now: () => summer });
    expect(await tool.execute({ zone: "Asia/Tokyo" }, context)).toEqual({
      zone: "Asia/Tokyo",
      iso: "2024-07-01T21:00:00+09:00",
      local: "2024-07-01 21:00:00",
      utc_offset: "+09:00",
      weekday: "Monday",
    });
  });

  it("follows daylight saving time in Europe/Paris", async () => {
    const inSummer = await createTimeTool({ now: () => summer }).execute({ zone: "Europe/Paris" }, context);
    const inWinter = await createTimeTool({ now: () => winter }).execute({ zone: "Europe/Paris" }, context);
    expect(inSummer).toMatchObject({ iso: "2024-07-01T14:00:00+02:00", utc_offset: "+02:00" });
    expect(inWinter).toMatchObject({ iso: "2024-01-15T13:00:00+01:00", utc_offset: "+01:00" });
  });

  it("rejects an unknown zone with ToolFailure naming it and giving examples", async () => {
    const call = createTimeTool({ now: () => summer }).execute({ zone: "Mars/Olympus" }, context);
    await expect(call).rejects.toBeInstanceOf(ToolFailure);
    await expect(call).rejects.toThrow(
      'Unknown time zone "Mars/Olympus". Use an IANA zone name such as "Europe/Paris", "Asia/Tokyo", "America/New_York" or "UTC".',
    );
  });

  it("suggests the zone when given a city name", async () => {
    const call = createTimeTool({ now: () => summer }).execute({ zone: "Tokyo" }, context);
    await expect(call).rejects.toThrow('Unknown time zone "Tokyo". Did you mean "Asia/Tokyo" (Tokyo)?');
  });

  it("throws ToolInputError naming the path when zone is missing", async () => {
    await expect(createTimeTool().execute({}, context)).rejects.toBeInstanceOf(ToolInputError);
    await expect(createTimeTool().execute({}, context)).rejects.toThrow("zone: Invalid input");
  });
});

describe("zonedTime", () => {
  it("handles negative and half-hour offsets", () => {
    expect(zonedTime(winter, "America/New_York")).toMatchObject({ local: "2024-01-15 07:00:00", utc_offset: "-05:00" });
    expect(zonedTime(winter, "Asia/Kolkata")).toMatchObject({ local: "2024-01-15 17:30:00", utc_offset: "+05:30" });
  });

  it("reports UTC with a zero offset and midnight as 00", () => {
    expect(zonedTime(new Date("2024-03-10T00:00:00.900Z"), "UTC")).toEqual({
      zone: "UTC",
      iso: "2024-03-10T00:00:00+00:00",
      local: "2024-03-10 00:00:00",
      utc_offset: "+00:00",
      weekday: "Sunday",
    });
  });

  it("returns the canonical spelling of the zone", () => {
    expect(zonedTime(summer, "europe/paris").zone).toBe("Europe/Paris");
  });
});
