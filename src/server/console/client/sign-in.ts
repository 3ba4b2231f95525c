/**
 * The sign-in form: a password field labelled "Token". The token is checked against the API before
 * it is kept (in sessionStorage, for this tab only) and is sent only as a bearer header.
 */
import { el, replaceChildren } from "./dom.ts";

/**
 * A form that hands the typed token to `tryToken`, which resolves to undefined when the token
 * works, else to the message to show.
 */
export function signInForm(tryToken: (token: string) => Promise<string | undefined>, note?: string): HTMLFormElement {
  const input = el("input", { attrs: { id: "token", name: "token", type: "password", autocomplete: "current-password", required: "", spellcheck: "false" } });
  const button = el("button", { attrs: { type: "submit" } }, "Sign in");
  const alert = el("p", { className: "error", attrs: { role: "alert" } }, note ?? "");
  const form = el(
    "form",
    {
      className: "sign-in",
      on: {
        submit: (event) => {
          event.preventDefault();
          const token = input.value.trim();
          if (token === "") return;
          button.disabled = true;
          void tryToken(token).then((problem) => {
            button.disabled = false;
            if (problem !== undefined) {
              replaceChildren(alert, problem);
              input.select();
            }
          });
        },
      },
    },
    el("h1", {}, "Sign in"),
    el("p", { className: "muted" }, "This skiff service asks for its token (server.auth_token_file or SKIFF_AUTH_TOKEN). It is kept in this tab only."),
    el("label", { attrs: { for: "token" } }, "Token"),
    input,
    button,
    alert,
  );
  queueMicrotask(() => input.focus());
  return form;
}
