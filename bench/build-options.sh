#!/usr/bin/env bash
# Measures bun build flag sets for the release binary (DESIGN §10 B5 start-up, B6 size): builds each
# variant with ./build.sh --bun-flags, then times `skiff version` and `skiff ask --model demo` with
# hyperfine (apt-get install hyperfine). Prints a Markdown table (docs/build.md quotes it) and writes
# bench/results/build-options.json. Usage: bench/build-options.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
command -v hyperfine >/dev/null || { echo "bench/build-options.sh: needs hyperfine (apt-get install -y hyperfine)" >&2; exit 1; }

work=.tmp/build-options
rm -rf "$work" && mkdir -p "$work" bench/results
variants=(
  "none|"
  "minify|--minify"
  "minify-ws-syntax|--minify-whitespace --minify-syntax"
  "bytecode|--bytecode --format esm"
  "minify+bytecode|--minify --bytecode --format esm"
  "ws-syntax+bytecode|--minify-whitespace --minify-syntax --bytecode --format esm"
  "ws-syntax+bytecode+sourcemap (release)|--minify-whitespace --minify-syntax --bytecode --format esm --sourcemap"
  "release, x64 baseline runtime|--minify-whitespace --minify-syntax --bytecode --format esm --sourcemap --target bun-linux-x64-baseline"
)

echo "| flags | size (bytes) | \`skiff version\` | \`skiff ask --model demo\` |"
echo "|---|---:|---:|---:|"
json="["
sep=""
i=0
for variant in "${variants[@]}"; do
  name="${variant%%|*}"
  flags="${variant#*|}"
  # Same file name for every variant: the name is embedded in the binary and would change its size.
  dir="$work/$i" && mkdir -p "$dir"
  ./build.sh --bun-flags "$flags" --outfile "$dir/skiff" >/dev/null
  size=$(wc -c < "$dir/skiff")
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$dir/times.json" \
    "$dir/skiff version" "$dir/skiff ask --model demo 'what is 6*7?'" >/dev/null 2>&1
  read -r version_ms version_sd ask_ms ask_sd < <(node -e '
    const r = require(process.argv[1]).results;
    console.log(r.flatMap((x) => [x.mean * 1000, x.stddev * 1000]).map((ms) => ms.toFixed(1)).join(" "));' "$PWD/$dir/times.json")
  echo "| ${name}: \`${flags:-(none)}\` | $size | $version_ms ± $version_sd ms | $ask_ms ± $ask_sd ms |"
  json+="${sep}{\"variant\":\"$name\",\"flags\":\"$flags\",\"bytes\":$size,\"version_ms\":$version_ms,\"ask_demo_ms\":$ask_ms,\"runs\":$runs}"
  sep=,
  i=$((i + 1))
done
echo "$json]" > bench/results/build-options.json
echo
echo "means over $runs runs each (hyperfine -N, 3 warm-up runs), $(nproc) cores, $(date -u +%Y-%m-%d)"
rm -rf "$work"
