/**
 * Hides passwords in URLs so a connection string can be logged, shown by `config show` or put in
 * an error message. Both places a URL can carry one are covered: the userinfo
 * (`postgres://user:secret@host`) and a `password=` query parameter (libpq accepts it).
 */

// The userinfo ends at the LAST "@" before the path: a raw "@" in a password (which should be
// percent-encoded, but people paste what they have) must not leave its tail visible.
const userinfoPassword = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)[^\s/?#]*@/gi;
const queryPassword = /([?&]password=)[^&#\s]*/gi;

/** `text` with every URL password replaced by `****`; text without one comes back unchanged. */
export function redactUrlPasswords(text: string): string {
  return text.replace(userinfoPassword, "$1****@").replace(queryPassword, "$1****");
}
