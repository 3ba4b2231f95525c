/**
 * The console's entry point: checks whether the API needs a token (and asks for one when it does),
 * then shows the page the URL's hash names: #/runs, #/runs/{id}, #/chat, #/tools, #/usage. Each
 * page gets a signal that aborts when the user leaves it, which stops its streams and timers.
 */
import { Api, ApiError } from "./api.ts";
import { chatPage } from "./chat-page.ts";
import { el, replaceChildren } from "./dom.ts";
import { errorBox, type PageContext } from "./page.ts";
import { runPage } from "./run-page.ts";
import { runsPage } from "./runs-page.ts";
import { signInForm } from "./sign-in.ts";
import { toolsPage } from "./tools-page.ts";
import { usagePage } from "./usage-page.ts";

const tokenKey = "skiff.console.token";

const main = byId("main");
const nav = byId("nav");
const usageLink = byId("usage-link");
const signOut = byId("sign-out");

let token = sessionStorage.getItem(tokenKey) ?? undefined;
let signedIn = false;
let page: AbortController | undefined;

const api = new Api({
  // The API is next to /ui/ (also behind a proxy that serves skiff under a prefix).
  base: new URL("../", location.href).href,
  token: () => token,
  onUnauthorized: () => {
    if (signedIn) showSignIn("The token is no longer accepted; sign in again.");
  },
});

/** Shows the app when the API answers (with the stored token or none), else the sign-in form. */
async function start(): Promise<void> {
  try {
    await api.get("v1/tools");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showSignIn(token === undefined ? undefined : "The stored token is no longer accepted; sign in again.");
    else replaceChildren(main, errorBox(error, "Reaching the skiff API"));
    return;
  }
  enter();
}

async function tryToken(candidate: string): Promise<string | undefined> {
  token = candidate;
  try {
    await api.get("v1/tools");
  } catch (error) {
    token = undefined;
    return error instanceof ApiError && error.status === 401 ? "That token was not accepted." : errorBox(error, "Signing in").textContent ?? "Signing in failed";
  }
  sessionStorage.setItem(tokenKey, candidate);
  enter();
  return undefined;
}

function showSignIn(note?: string): void {
  signedIn = false;
  token = undefined;
  sessionStorage.removeItem(tokenKey);
  page?.abort();
  nav.hidden = true;
  signOut.hidden = true;
  replaceChildren(main, signInForm(tryToken, note));
}

function enter(): void {
  signedIn = true;
  nav.hidden = false;
  signOut.hidden = token === undefined;
  // Usage exists where the server has API keys: the link shows only when the endpoint answers.
  api.get("v1/usage").then(
    () => (usageLink.hidden = false),
    () => (usageLink.hidden = true),
  );
  route();
}

function route(): void {
  if (!signedIn) return;
  page?.abort();
  page = new AbortController();
  const ctx: PageContext = { api, main, signal: page.signal };
  const [name = "", ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  for (const link of nav.querySelectorAll("a")) {
    if (link.dataset["page"] === (name || "runs")) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const shown = (() => {
    switch (name) {
      case "":
      case "runs":
        return rest.length > 0 ? runPage(ctx, decodeURIComponent(rest.join("/"))) : runsPage(ctx);
      case "chat":
        return chatPage(ctx);
      case "tools":
        return toolsPage(ctx);
      case "usage":
        return usagePage(ctx);
      default:
        replaceChildren(main, el("h1", {}, "Not found"), el("p", {}, "No such page. ", el("a", { attrs: { href: "#/runs" } }, "Runs")));
        return undefined;
    }
  })();
  Promise.resolve(shown).catch((error: unknown) => {
    if (!ctx.signal.aborted) replaceChildren(main, errorBox(error, "Showing the page"));
  });
}

function byId(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`console.html lacks #${id}`);
  return found;
}

signOut.addEventListener("click", () => showSignIn());
window.addEventListener("hashchange", route);
void start();
