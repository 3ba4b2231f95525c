/** Well-known city names and the IANA time zone each one uses. Matching ignores accents, so "Sao Paulo" finds "São Paulo". */
export const cityZones: Readonly<Record<string, string>> = {
  Tokyo: "Asia/Tokyo",
  Paris: "Europe/Paris",
  London: "Europe/London",
  "New York": "America/New_York",
  "Los Angeles": "America/Los_Angeles",
  "San Francisco": "America/Los_Angeles",
  Berlin: "Europe/Berlin",
  Sydney: "Australia/Sydney",
  Moscow: "Europe/Moscow",
  Beijing: "Asia/Shanghai",
  Shanghai: "Asia/Shanghai",
  Singapore: "Asia/Singapore",
  Mumbai: "Asia/Kolkata",
  Delhi: "Asia/Kolkata",
  Dubai: "Asia/Dubai",
  "São Paulo": "America/Sao_Paulo",
  "Mexico City": "America/Mexico_City",
  Toronto: "America/Toronto",
  Chicago: "America/Chicago",
  Cairo: "Africa/Cairo",
  Johannesburg: "Africa/Johannesburg",
  Seoul: "Asia/Seoul",
  "Hong Kong": "Asia/Hong_Kong",
  Madrid: "Europe/Madrid",
  Rome: "Europe/Rome",
  Amsterdam: "Europe/Amsterdam",
  Stockholm: "Europe/Stockholm",
  Istanbul: "Europe/Istanbul",
  Bangkok: "Asia/Bangkok",
  Jakarta: "Asia/Jakarta",
  Lagos: "Africa/Lagos",
  Nairobi: "Africa/Nairobi",
  "Buenos Aires": "America/Argentina/Buenos_Aires",
  Auckland: "Pacific/Auckland",
  Honolulu: "Pacific/Honolulu",
  UTC: "UTC",
};

/** Lower case without accents, so "SÃO PAULO", "São Paulo" and "Sao Paulo" compare equal. */
function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

const cityByFoldedName = new Map(Object.keys(cityZones).map((city) => [fold(city), city]));

// Longest names first so a longer name wins where two could match at the same place.
const cityPattern = new RegExp(
  // \b only knows ASCII letters, so word edges are spelled out with Unicode classes.
  `(?<![\\p{L}\\p{N}])(?:${[...cityByFoldedName.keys()]
    .sort((a, b) => b.length - a.length)
    .map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/ /g, "\\s+"))
    .join("|")})(?![\\p{L}\\p{N}])`,
  "gu",
);

/** The known cities named in `text` with their zones, in order of first mention, each once. */
export function findCities(text: string): { city: string; zone: string }[] {
  const found: { city: string; zone: string }[] = [];
  const seen = new Set<string>();
  for (const match of fold(text).matchAll(cityPattern)) {
    const city = cityByFoldedName.get(match[0].replace(/\s+/g, " "));
    const zone = city === undefined ? undefined : cityZones[city];
    if (city === undefined || zone === undefined || seen.has(city)) continue;
    seen.add(city);
    found.push({ city, zone });
  }
  return found;
}
