/**
 * What a user gets from a release: the compiled binary ignores a stray .env and bunfig.toml, and
 * install.sh downloads, verifies and installs it from a release URL (here a real HTTP server on
 * 127.0.0.1 serving dist/skiff under its release name), refusing anything that does not match.
 */
import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv, projectRoot, runSkiff, skiffBinary } from "./binary.ts";
import { startHangUpListener } from "../helpers/hang-up-listener.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";

const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-");
const servers: { stop(force?: boolean): Promise<void> }[] = [];

beforeAll(async () => {
  await skiffBinary();
}, 120_000);

afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop(true);
  removeTempDirs();
});

/** A working directory holding a .env and a bunfig.toml that would break or change skiff if read. */
function poisonedDir(): { dir: string; marker: string } {
  const dir = tempDir({ prefix: "skiff-autoload-" });
  const marker = join(dir, "preload-ran");
  writeFileSync(join(dir, ".env"), "SKIFF_MODEL=from-dotenv\nSKIFF_MAX_STEPS=not-a-number\nOPENAI_API_KEY=sk-from-dotenv\n");
  writeFileSync(join(dir, "preload.ts"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");\nconsole.log("PRELOADED");\n`);
  writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./preload.ts"]\n[define]\n"process.env.SKIFF_MODEL" = "\\"from-bunfig\\""\n');
  return { dir, marker };
}

describe("the compiled binary and files in its working directory", () => {
  it("ignores a .env and a bunfig.toml (no env values, no preload)", async () => {
    const { dir, marker } = poisonedDir();
    const shown = await runSkiff(["config", "show"], { cwd: dir });
    expect(shown.stderr).toBe("");
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('model = "gpt-4.1-mini"  # default');
    expect(shown.stdout).toContain("max_steps = 10  # default");
    expect(shown.stdout).toContain("# api key: not set");
    expect(shown.stdout).not.toContain("PRELOADED");

    const asked = await runSkiff(["ask", "--model", "demo", "what is 6*7?"], { cwd: dir });
    expect(asked.code).toBe(0);
    expect(asked.stdout).toBe("6*7 = 42.\n");
    expect(existsSync(marker)).toBe(false);
  });

  it("would be affected by them under bun itself, so the check above means something", async () => {
    const { dir, marker } = poisonedDir();
    const child = Bun.spawn([process.execPath, join(projectRoot, "src/main.ts"), "config", "show"], {
      cwd: dir,
      env: cleanEnv(),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(code).toBe(2);
    expect(stderr).toContain("max_steps (env SKIFF_MAX_STEPS)");
    expect(stdout).toContain("PRELOADED");
    expect(existsSync(marker)).toBe(true);
  });
});

/** The release asset name install.sh should pick on this machine. */
function expectedAsset(): string {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const ldd = Bun.spawnSync(["sh", "-c", "ldd --version 2>&1 || true"]).stdout.toString();
  return `skiff-${process.platform}-${arch}${/musl/i.test(ldd) ? "-musl" : ""}`;
}

/** Serves files (name → body) as a release download directory; records every path asked for. */
function startRelease(files: Record<string, Blob | string>): { url: string; requested: string[] } {
  const requested: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const name = new URL(request.url).pathname.replace(/^\/download\//, "");
      requested.push(name);
      const body = files[name];
      return body === undefined ? new Response("not found", { status: 404 }) : new Response(body);
    },
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${server.port}/download`, requested };
}

async function sha256(blob: Blob): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(await blob.arrayBuffer());
  return hasher.digest("hex");
}

/** A PATH of every program in /usr/bin and /bin except those named, to take curl (or wget) away. */
function pathWithout(...excluded: string[]): string {
  const dir = tempDir({ prefix: "skiff-path-" });
  for (const source of ["/usr/bin", "/bin"]) {
    if (!existsSync(source)) continue;
    for (const name of readdirSync(source)) {
      if (excluded.includes(name) || existsSync(join(dir, name))) continue;
      symlinkSync(join(source, name), join(dir, name));
    }
  }
  return dir;
}

async function runInstall(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn(["sh", join(projectRoot, "install.sh")], {
    cwd: tempDir({ prefix: "skiff-install-cwd-" }),
    env: { PATH: "/usr/local/bin:/usr/bin:/bin", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe("install.sh", () => {
  it("downloads the binary for this machine, verifies it against SHA256SUMS, installs it, and it runs", async () => {
    const binary = Bun.file(await skiffBinary());
    const asset = expectedAsset();
    const release = startRelease({ [asset]: binary, SHA256SUMS: `${await sha256(binary)}  ${asset}\n` });
    const home = tempDir({ prefix: "skiff-home-" });
    const installDir = join(home, "bin");
    const result = await runInstall({ SKIFF_RELEASE_URL: release.url, SKIFF_INSTALL_DIR: installDir, HOME: home });
    expect(result.stderr).toContain(`verified SHA-256 ${await sha256(binary)}`);
    expect(result.code).toBe(0);
    expect(release.requested).toEqual(["SHA256SUMS", asset]);
    expect(result.stdout).toMatch(/^skiff \d+\.\d+\.\d+ \(commit .*\)\n$/);
    const installed = Bun.spawnSync([join(installDir, "skiff"), "ask", "--model", "demo", "what is 6*7?"], { env: cleanEnv() });
    expect(installed.stdout.toString()).toBe("6*7 = 42.\n");
    expect(readdirSync(installDir)).toEqual(["skiff"]);
    expect(result.stderr).toContain(`note: ${installDir} is not on your PATH`);
  }, 60_000);

  it.skipIf(Bun.which("wget") === null)("works with wget when there is no curl, into ~/.local/bin by default", async () => {
    const binary = Bun.file(await skiffBinary());
    const asset = expectedAsset();
    const release = startRelease({ [asset]: binary, SHA256SUMS: `${await sha256(binary)} *${asset}\n` });
    const home = tempDir({ prefix: "skiff-home-" });
    const path = pathWithout("curl", "id");
    // A fake `id` so the script takes the non-root default even when the tests run as root.
    writeFileSync(join(path, "id"), "#!/bin/sh\necho 1000\n", { mode: 0o755 });
    const result = await runInstall({ SKIFF_RELEASE_URL: release.url, HOME: home, PATH: path });
    expect(result.stderr).not.toContain("curl");
    expect(result.code).toBe(0);
    expect(existsSync(join(home, ".local/bin/skiff"))).toBe(true);
  }, 60_000);

  it("refuses a binary whose SHA-256 does not match SHA256SUMS, and installs nothing", async () => {
    const binary = Bun.file(await skiffBinary());
    const asset = expectedAsset();
    const tampered = new Blob([binary, "\n#tampered"]);
    const release = startRelease({ [asset]: tampered, SHA256SUMS: `${await sha256(binary)}  ${asset}\n` });
    const installDir = join(tempDir({ prefix: "skiff-home-" }), "bin");
    mkdirSync(installDir);
    const result = await runInstall({ SKIFF_RELEASE_URL: release.url, SKIFF_INSTALL_DIR: installDir, HOME: installDir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`checksum mismatch for ${asset}: SHA256SUMS says ${await sha256(binary)}, the download is ${await sha256(tampered)}; not installing`);
    expect(readdirSync(installDir)).toEqual([]);
  }, 60_000);

  it("refuses when SHA256SUMS has no line for the binary, and names the release URL when it is unreachable", async () => {
    const binary = Bun.file(await skiffBinary());
    const asset = expectedAsset();
    const release = startRelease({ [asset]: binary, SHA256SUMS: `${await sha256(binary)}  skiff-other-target\n` });
    const installDir = join(tempDir({ prefix: "skiff-home-" }), "bin");
    const missing = await runInstall({ SKIFF_RELEASE_URL: release.url, SKIFF_INSTALL_DIR: installDir, HOME: installDir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${release.url}/SHA256SUMS has no line for ${asset}; not installing`);
    expect(existsSync(join(installDir, "skiff"))).toBe(false);

    const down = await runInstall({ SKIFF_RELEASE_URL: "http://127.0.0.1:9/nothing", SKIFF_INSTALL_DIR: installDir, HOME: installDir });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("could not download http://127.0.0.1:9/nothing/SHA256SUMS");

    const badLibc = await runInstall({ SKIFF_RELEASE_URL: release.url, SKIFF_LIBC: "uclibc", SKIFF_INSTALL_DIR: installDir, HOME: installDir });
    expect(badLibc.code).toBe(1);
    expect(badLibc.stderr).toContain("SKIFF_LIBC is 'uclibc'; it must be glibc or musl");
  }, 60_000);

  it("installs from a local release folder given as a file:// URL, without curl or wget", async () => {
    const binary = await skiffBinary();
    const asset = expectedAsset();
    // The layout ./build.sh --release writes (built by CI's release step; here from dist/skiff).
    const folder = tempDir({ prefix: "skiff-release-" });
    copyFileSync(binary, join(folder, asset));
    copyFileSync(join(projectRoot, "install.sh"), join(folder, "install.sh"));
    writeFileSync(join(folder, "SHA256SUMS"), `${await sha256(Bun.file(binary))}  ${asset}\n`);
    const installDir = join(tempDir({ prefix: "skiff-home-" }), "bin");
    const result = await runInstall({ SKIFF_RELEASE_URL: `file://${folder}`, SKIFF_INSTALL_DIR: installDir, HOME: installDir, PATH: pathWithout("curl", "wget") });
    expect(result.stderr).toContain(`verified SHA-256 ${await sha256(Bun.file(binary))}`);
    expect(result.code).toBe(0);
    expect(readdirSync(installDir)).toEqual(["skiff"]);

    const wrong = await runInstall({ SKIFF_RELEASE_URL: `file://${folder}/nothing`, SKIFF_INSTALL_DIR: installDir, HOME: installDir });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`could not read ${folder}/nothing/SHA256SUMS (check SKIFF_RELEASE_URL: it must name a folder holding the release files)`);
  }, 60_000);

  it("says the default release URL is a placeholder, and how to set SKIFF_RELEASE_URL, when it cannot be reached", async () => {
    // The default URL is on the internet: a "proxy" on 127.0.0.1 that hangs up stands in for an
    // unreachable host, so no request leaves the machine (it counts the connections it gets).
    const proxy = startHangUpListener();
    servers.push({ stop: async () => proxy.stop() });
    const proxyUrl = proxy.url;
    const installDir = join(tempDir({ prefix: "skiff-home-" }), "bin");
    const result = await runInstall({ https_proxy: proxyUrl, HTTPS_PROXY: proxyUrl, SKIFF_INSTALL_DIR: installDir, HOME: installDir });
    expect(result.code).toBe(1);
    expect(proxy.connections()).toBeGreaterThan(0);
    expect(result.stderr).toContain(
      "The default release URL, https://github.com/skiff-agent/skiff/releases/latest/download, is a placeholder until the skiff repository is public: " +
        "set SKIFF_RELEASE_URL to the folder holding the release files: an HTTP(S) URL, or file:///path/to/folder for one made by ./build.sh --release",
    );
    expect(existsSync(join(installDir, "skiff"))).toBe(false);
  }, 60_000);
});

describe("build.sh --release", () => {
  it("refuses --target and --outfile beside it before building anything", () => {
    const run = Bun.spawnSync(["./build.sh", "--release", join(tempDir(), "rel"), "--target", "linux-x64"], { cwd: projectRoot, stderr: "pipe" });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.toString()).toBe("build.sh: --all/--targets/--release write skiff-<target> files; they do not combine with --target or --outfile\n");
  });
});
