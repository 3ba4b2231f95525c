/**
 * The one redaction of URLs for output: `skiff doctor`, `config show`, logs, error messages and
 * spans all show URLs through `redactUrl`, so a credential in a URL is hidden the same way
 * wherever it would appear. It works on text, not on parsed URLs: a fetch error quoting a URL, or a
 * URL too broken to parse, is covered as well.
 */

// The userinfo of a URL. It ends at the LAST "@" before the path: a raw "@" in a password (which
// should be percent-encoded, but people paste what they have) must not leave its tail visible.
// Quotes end it too, so a message quoting two URLs is not read as one.
const userinfo = /(\b[a-z][a-z0-9+.-]*:\/\/)([^\s/?#"'<>`]*)@/gi;
// A parameter in a query or fragment (`#access_token=` of OAuth). The value stops at whitespace and
// at quotes, so the quote around a URL in a message survives.
const parameter = /([?&#;])([^=&#;\s"'<>`?]+)=([^&#;\s"'<>`]*)/g;

// Names whose values are secrets; also as the end of a longer name (`api_key`, `apikey`,
// `access_token`, `X-Amz-Signature`, `client_secret`, `sslpassword`).
const secretName = /(key|token|secret|password|passwd|pwd|sig|signature|auth|authorization|credential|credentials|jwt)$/;

/** The mark put where a secret was. */
export const redactedMark = "****";

/**
 * `text` with every credential in the URLs it holds replaced by `****`: the password of a
 * userinfo (all of it in a web URL without a password: there it is a token), and the value of
 * every query or fragment parameter whose name looks secret (`key`, `token`, `secret`,
 * `password`, `sig`, `signature`, `auth` and the like, in any case, also as the end of a longer
 * name such as `api_key`). Everything else, other parameters included, is kept; text without such
 * a URL comes back unchanged.
 *
 * @example redactUrl("http://u:pw@h/x?token=abc&q=1") // "http://u:****@h/x?token=****&q=1"
 */
export function redactUrl(text: string | URL): string {
  const source = typeof text === "string" ? text : text.href;
  return source
    .replace(userinfo, (_whole, scheme: string, info: string) => `${scheme}${redactUserinfo(scheme, info)}@`)
    .replace(parameter, (whole, separator: string, name: string, value: string) =>
      value !== "" && isSecretName(name) ? `${separator}${name}=${redactedMark}` : whole,
    );
}

/**
 * A password goes and its user stays (it tells which account; database errors name it anyway).
 * A user alone stays too, except in web URLs: there a lone userinfo is how tokens travel
 * (`https://TOKEN@github.com/…`), so all of it goes.
 */
function redactUserinfo(scheme: string, info: string): string {
  const colon = info.indexOf(":");
  const user = colon < 0 ? info : info.slice(0, colon);
  if (user.includes("@")) return redactedMark;
  if (colon >= 0) return `${user}:${redactedMark}`;
  return /^(https?|wss?):\/\/$/i.test(scheme) ? redactedMark : info;
}

/** True when a parameter of this name carries a credential (`api_key`, `X-Amz-Signature`, `token[]`). */
export function isSecretName(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    // A stray "%": judge the name as written.
  }
  return secretName.test(decoded.toLowerCase().replace(/\[\]$/, "").trim());
}
