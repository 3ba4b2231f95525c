import { describe, expect, it } from "bun:test";
import { cityZones, findCities } from "../../src/tools/builtin/cities.ts";

describe("findCities", () => {
  it("finds the cities of the demo question in order of mention", () => {
    expect(findCities("What time is it in Tokyo and in Paris, and what is 17*23?")).toEqual([
      { city: "Tokyo", zone: "Asia/Tokyo" },
      { city: "Paris", zone: "Europe/Paris" },
    ]);
  });

  it("matches case-insensitively and lists each city once", () => {
    expect(findCities("paris, LONDON, then Paris again")).toEqual([
      { city: "Paris", zone: "Europe/Paris" },
      { city: "London", zone: "Europe/London" },
    ]);
  });

  it("matches whole words only", () => {
    expect(findCities("Parisian romeo in Londonderry")).toEqual([]);
  });

  it("matches multi-word names across any whitespace and with or without accents", () => {
    expect(findCities("New  York, Sao Paulo, SÃO PAULO, mexico\ncity")).toEqual([
      { city: "New York", zone: "America/New_York" },
      { city: "São Paulo", zone: "America/Sao_Paulo" },
      { city: "Mexico City", zone: "America/Mexico_City" },
    ]);
  });

  it("knows a zone for every city in the map", () => {
    for (const [city, zone] of Object.entries(cityZones)) {
      expect(() => new Intl.DateTimeFormat("en-US", { timeZone: zone })).not.toThrow();
      expect(findCities(`in ${city}.`)).toEqual([{ city, zone }]);
    }
  });
});
