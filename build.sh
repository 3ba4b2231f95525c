#!/usr/bin/env bash
# Builds the self-contained skiff executable. Needs only `npm ci` beforehand.
#   ./build.sh                                  dist/skiff, for this machine
#   ./build.sh --target linux-arm64 [--outfile PATH]   one cross-compiled target
#   ./build.sh --all                            every release target in dist/, plus dist/SHA256SUMS
#   ./build.sh --targets linux-x64,linux-arm64  some release targets, plus dist/SHA256SUMS
#   ./build.sh --release [DIR]                  a release folder (default dist/release): every target
#                                               (or --targets), SHA256SUMS and install.sh; try it with
#                                               SKIFF_RELEASE_URL=file://$PWD/DIR sh DIR/install.sh
# Targets: linux-x64 linux-x64-musl linux-arm64 linux-arm64-musl darwin-x64 darwin-arm64 windows-x64
# (a "bun-" prefix is accepted too). Why each bun flag is used: docs/build.md.
set -euo pipefail
cd "$(dirname "$0")"

bun=node_modules/.bin/bun
if [ ! -x "$bun" ]; then
  echo "build.sh: $bun is missing; run 'npm ci' first" >&2
  exit 1
fi

release_targets="linux-x64 linux-x64-musl linux-arm64 linux-arm64-musl darwin-x64 darwin-arm64 windows-x64"

target=""
outfile=""
targets=""
release=""
# Chosen by measurement (docs/build.md): bytecode halves start-up; identifiers are not mangled
# because error class names end up in error messages and in the error.type span attribute; start-up
# code stays in the interpreter (JIT thresholds × 256) until a command calls startupDone()
# (src/platform/jit-policy.ts).
bun_flags="--minify-whitespace --minify-syntax --bytecode --format esm --sourcemap --splitting --compile-jit-policy 256"
# Profile-guided layout of the bytecode (build/record-order.ts records these): the functions that
# serve and ask load sit together at the front, so a start reads less of the file.
bytecode_order=""
for profile in build/serve.order build/ask.order; do
  [ -f "$profile" ] && bytecode_order="${bytecode_order:+$bytecode_order,}$profile"
done
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="${2:?--target needs a value such as linux-arm64}"; shift 2 ;;
    --target=*) target="${1#--target=}"; shift ;;
    --outfile) outfile="${2:?--outfile needs a path}"; shift 2 ;;
    --outfile=*) outfile="${1#--outfile=}"; shift ;;
    --all) targets="$release_targets"; shift ;;
    --targets) targets="${2:?--targets needs a list such as linux-x64,linux-arm64}"; targets="${targets//,/ }"; shift 2 ;;
    --targets=*) targets="${1#--targets=}"; targets="${targets//,/ }"; shift ;;
    # The folder is optional: `--release` alone, or followed by another flag, means dist/release.
    --release) if [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then release="$2"; shift 2; else release=dist/release; shift; fi ;;
    --release=*) release="${1#--release=}"; shift ;;
    # For measuring other flag sets (bench/build-options.sh); releases use the default above.
    --bun-flags) bun_flags="${2?--bun-flags needs a value}"; shift 2 ;;
    # For recording new profiles (build/record-order.ts), and for measuring without them.
    --no-bytecode-order) bytecode_order=""; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument '$1' (try --all, --target linux-arm64 or --help)" >&2; exit 2 ;;
  esac
done
if { [ -n "$targets" ] || [ -n "$release" ]; } && { [ -n "$target" ] || [ -n "$outfile" ]; }; then
  echo "build.sh: --all/--targets/--release write skiff-<target> files; they do not combine with --target or --outfile" >&2
  exit 2
fi
# A release is every target unless --targets picks some.
if [ -n "$release" ] && [ -z "$targets" ]; then targets="$release_targets"; fi

# Commit and date come from git, not the clock, so the same commit builds the same bytes.
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="${commit}-dirty"; fi
build_date=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || true)
if [ -z "$build_date" ]; then build_date=$(TZ=UTC date -u +%Y-%m-%dT%H:%M:%SZ); fi

# Maps a release target to Bun's --target. x64 builds use Bun's "baseline" runtime, which needs no
# AVX2: the same start-up here (docs/build.md), and it runs on old CPUs and on VMs that hide AVX2,
# where the default runtime dies with "Illegal instruction".
bun_target_of() {
  case "$1" in
    linux-x64) echo bun-linux-x64-baseline ;;
    linux-x64-musl) echo bun-linux-x64-musl-baseline ;;
    darwin-x64) echo bun-darwin-x64-baseline ;;
    windows-x64) echo bun-windows-x64-baseline ;;
    linux-arm64|linux-arm64-musl|darwin-arm64) echo "bun-$1" ;;
    *) return 1 ;;
  esac
}

# build_one TARGET OUTFILE: TARGET is a release target, or empty for this machine.
build_one() {
  local name="$1" out="$2" args staging
  mkdir -p "$(dirname "$out")"
  staging=$(mktemp -d "${TMPDIR:-/tmp}/skiff-build.XXXXXX")
  # shellcheck disable=SC2206 # bun_flags is a list of words on purpose
  args=(build src/main.ts --compile $bun_flags
    # A stray .env or bunfig.toml next to a deployed binary must not change it.
    --no-compile-autoload-dotenv
    --no-compile-autoload-bunfig
    --define "__SKIFF_COMMIT__=\"$commit\""
    --define "__SKIFF_BUILD_DATE__=\"$build_date\""
    --outfile "$staging/$(basename "$out")")
  case " $bun_flags " in *" --bytecode "*) [ -n "$bytecode_order" ] && args+=("--bytecode-order=$bytecode_order") ;; esac
  if [ -n "$name" ]; then
    local bun_target
    if ! bun_target=$(bun_target_of "$name"); then
      echo "build.sh: unknown target '$name'; targets are: $release_targets" >&2
      exit 2
    fi
    # Bun fetches other targets' runtimes from the npm registry (@oven/bun-<os>-<arch>) at its own
    # version, which package.json pins; docs/build.md says how to build offline.
    args+=(--target "$bun_target" --define "__SKIFF_TARGET__=\"$name\"")
  fi
  "$bun" "${args[@]}" >/dev/null
  # --sourcemap embeds the maps in the executable (stack traces name src/ files) and also writes
  # them beside it, one per chunk with --splitting, which nothing needs: the build happens in a
  # staging folder and only the executable leaves it.
  mv -f "$staging/$(basename "$out")" "$out"
  rm -rf "$staging"
  echo "built $out ($(wc -c < "$out") bytes)"
}

if [ -z "$targets" ]; then
  name="${target#bun-}"
  if [ -z "$outfile" ]; then
    if [ -n "$name" ]; then outfile="dist/skiff-$name"; else outfile="dist/skiff"; fi
    case "$name" in windows-*) outfile="$outfile.exe" ;; esac
  fi
  build_one "$name" "$outfile"
  exit 0
fi

outdir="${release:-dist}"
outdir="${outdir%/}"
files=()
for name in $targets; do
  name="${name#bun-}"
  file="skiff-$name"
  case "$name" in windows-*) file="$file.exe" ;; esac
  build_one "$name" "$outdir/$file"
  files+=("$file")
done
# A release folder is what install.sh downloads from: the binaries, SHA256SUMS and the script.
if [ -n "$release" ]; then
  cp install.sh "$outdir/install.sh"
  files+=(install.sh)
fi
# Checksums of exactly the files written now, in the format `sha256sum -c` and install.sh read.
(cd "$outdir" && sha256sum "${files[@]}" > SHA256SUMS)
echo "wrote $outdir/SHA256SUMS (${#files[@]} files)"
if [ -n "$release" ]; then
  echo "release folder $outdir; to try it: SKIFF_RELEASE_URL=file://$(cd "$outdir" && pwd) sh $outdir/install.sh"
fi
