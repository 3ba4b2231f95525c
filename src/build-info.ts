import packageJson from "../package.json" with { type: "json" };

// Replaced by `bun build --define` in build.sh; absent when running from source.
declare const __SKIFF_COMMIT__: string | undefined;
declare const __SKIFF_BUILD_DATE__: string | undefined;
declare const __SKIFF_TARGET__: string | undefined;

/** What `skiff version` reports: fixed at build time where the build knows it. */
export const buildInfo = {
  version: packageJson.version,
  commit: typeof __SKIFF_COMMIT__ === "string" ? __SKIFF_COMMIT__ : "dev",
  buildDate: typeof __SKIFF_BUILD_DATE__ === "string" ? __SKIFF_BUILD_DATE__ : "unbuilt",
  bunVersion: typeof Bun === "undefined" ? "none" : Bun.version,
  target: typeof __SKIFF_TARGET__ === "string" ? __SKIFF_TARGET__ : `${process.platform}-${process.arch}`,
} as const;
