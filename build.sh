#!/usr/bin/env bash
# Builds the self-contained skiff executable: ./build.sh [--target bun-linux-arm64] [--outfile PATH]
# Output: dist/skiff (or dist/skiff-<target> with --target). Needs only `npm ci` beforehand.
set -euo pipefail
cd "$(dirname "$0")"

bun=node_modules/.bin/bun
if [ ! -x "$bun" ]; then
  echo "build.sh: $bun is missing; run 'npm ci' first" >&2
  exit 1
fi

target=""
outfile=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="${2:?--target needs a value such as bun-linux-arm64}"; shift 2 ;;
    --target=*) target="${1#--target=}"; shift ;;
    --outfile) outfile="${2:?--outfile needs a path}"; shift 2 ;;
    --outfile=*) outfile="${1#--outfile=}"; shift ;;
    -h|--help) sed -n '2,3p' "$0" | sed 's/^# //'; exit 0 ;;
    *) echo "build.sh: unknown argument '$1' (try --target bun-linux-arm64)" >&2; exit 2 ;;
  esac
done

if [ -z "$outfile" ]; then
  if [ -n "$target" ]; then outfile="dist/skiff-${target#bun-}"; else outfile="dist/skiff"; fi
fi
mkdir -p "$(dirname "$outfile")"

# Commit and date come from git so the same commit builds the same version string.
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="${commit}-dirty"; fi
build_date=$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)

args=(
  build src/main.ts
  --compile
  --minify
  # A stray .env or bunfig.toml next to a deployed binary must not change it.
  --no-compile-autoload-dotenv
  --no-compile-autoload-bunfig
  --define "__SKIFF_COMMIT__=\"$commit\""
  --define "__SKIFF_BUILD_DATE__=\"$build_date\""
  --outfile "$outfile"
)
if [ -n "$target" ]; then
  args+=(--target "$target" --define "__SKIFF_TARGET__=\"${target#bun-}\"")
fi

"$bun" "${args[@]}"
echo "built $outfile ($(wc -c < "$outfile") bytes)"
