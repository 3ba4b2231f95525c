import { describe, expect, it } from "bun:test";
import { isSecretName, redactUrl } from "../../src/util/redact-url.ts";

describe("redactUrl", () => {
  it("hides the password of the userinfo and of a password= parameter", () => {
    expect(redactUrl("postgres://skiff:hunter2@db:5432/skiff")).toBe("postgres://skiff:****@db:5432/skiff");
    expect(redactUrl("postgresql://:hunter2@db/skiff")).toBe("postgresql://:****@db/skiff");
    expect(redactUrl("postgres://db/skiff?sslmode=require&password=hunter2&x=1")).toBe("postgres://db/skiff?sslmode=require&password=****&x=1");
  });

  it("hides all of a password holding a raw @, and every URL in a text", () => {
    expect(redactUrl("postgres://u:p@ss@db/x")).toBe("postgres://u:****@db/x");
    expect(redactUrl("from http://a:b@c/d to https://e:f@g")).toBe("from http://a:****@c/d to https://e:****@g");
  });

  it("hides a web URL's userinfo without a password (a token), but keeps a database user", () => {
    expect(redactUrl("https://ghp_0123456789abcdef@github.com/o/r.git")).toBe("https://****@github.com/o/r.git");
    expect(redactUrl("wss://tok@h/socket")).toBe("wss://****@h/socket");
    expect(redactUrl("postgres://skiff@db/skiff")).toBe("postgres://skiff@db/skiff");
  });

  it("hides the value of every parameter whose name is a listed word, in any case", () => {
    for (const name of ["key", "token", "secret", "password", "sig", "signature", "auth", "KEY", "Token", "SECRET", "PassWord", "Sig", "Signature", "AUTH"]) {
      expect(redactUrl(`http://h/p?${name}=S3CRET&q=visible`)).toBe(`http://h/p?${name}=****&q=visible`);
    }
  });

  it("hides the value of parameters that end in a listed word", () => {
    for (const name of ["api_key", "apikey", "api-key", "access_token", "X-Amz-Signature", "X-Amz-Security-Token", "client_secret", "sslpassword", "oauth", "x_auth"]) {
      expect(redactUrl(`https://h/p?a=1&${name}=S3CRET#frag`)).toBe(`https://h/p?a=1&${name}=****#frag`);
    }
  });

  it("redacts the issue's example: userinfo, token and api_key go, q stays", () => {
    const shown = redactUrl("http://user:PASSWORD@127.0.0.1:1/x?token=SECRET&api_key=K2&q=visible");
    expect(shown).toBe("http://user:****@127.0.0.1:1/x?token=****&api_key=****&q=visible");
  });

  it("keeps parameters that are not secret, empty values, and percent-encoded names judged decoded", () => {
    expect(redactUrl("http://h/?q=1&page=2&monkeys=3&token=")).toBe("http://h/?q=1&page=2&monkeys=3&token=");
    expect(redactUrl("http://h/?api%5Fkey=S3CRET&bad%=x")).toBe("http://h/?api%5Fkey=****&bad%=x");
    expect(redactUrl("http://h/?token[]=a&token[]=b")).toBe("http://h/?token[]=****&token[]=****");
  });

  it("hides secrets in a fragment (OAuth's #access_token=)", () => {
    expect(redactUrl("https://app/cb#access_token=S3CRET&state=ok")).toBe("https://app/cb#access_token=****&state=ok");
  });

  it("hides secrets of a URL that does not parse", () => {
    for (const text of ["http://[bad/?token=S3CRET", "ht tp://h/?api_key=S3CRET", "http://u:S3CRET@[bad", "?signature=S3CRET"]) {
      expect(URL.canParse(text)).toBe(false);
      expect(redactUrl(text)).not.toContain("S3CRET");
    }
  });

  it("keeps the quotes around a URL in a message and hides secrets of every URL in it", () => {
    expect(redactUrl('got "http://h/x?token=S3CRET", then fetch failed: http://a:S3CRET@b/?sig=S3CRET')).toBe(
      'got "http://h/x?token=****", then fetch failed: http://a:****@b/?sig=****',
    );
    expect(redactUrl('["http://h","x@y"]')).toBe('["http://h","x@y"]');
  });

  it("takes a URL object", () => {
    expect(redactUrl(new URL("https://u:p@h/?key=S3CRET"))).toBe("https://u:****@h/?key=****");
  });

  it("leaves text without a credential unchanged", () => {
    for (const text of ["sqlite:/var/lib/skiff/skiff.db", "memory", "http://127.0.0.1:8080/v1", "user:pass@host", "http://[::1]:8080/p@x", "a=b&c=d"]) {
      expect(redactUrl(text)).toBe(text);
    }
  });
});

describe("isSecretName", () => {
  it("says which parameter names carry credentials", () => {
    expect(["key", "API_KEY", "accessToken", "x-amz-signature", "sig", "password", "secret", "auth"].every(isSecretName)).toBe(true);
    expect(["q", "page", "sslmode", "signed", "author", "keys", "tokens"].some(isSecretName)).toBe(false);
  });
});
