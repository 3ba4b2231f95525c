#!/usr/bin/env bash
# Builds DIR/libstdc++.so.6 for musl from Debian's libstdc++.a, so CI can run skiff's musl build on
# Debian (Bun's musl runtime links libstdc++.so.6; Alpine has it, Debian only for glibc).
# Needs: musl-tools (musl-gcc) and g++ (libstdc++.a). Usage: .ci/musl-libstdcxx.sh DIR
set -euo pipefail
dir="${1:?usage: .ci/musl-libstdcxx.sh DIR}"
archive=$(g++ -print-file-name=libstdc++.a)
[ -f "$archive" ] || { echo "musl-libstdcxx: no libstdc++.a (apt-get install g++)" >&2; exit 1; }
mkdir -p "$dir"
musl-gcc -O2 -fPIC -shared -static-libgcc -Wl,-soname,libstdc++.so.6 -Wl,-Bsymbolic \
  -o "$dir/libstdc++.so.6" \
  -Wl,--whole-archive "$archive" -Wl,--no-whole-archive \
  "$(dirname "$0")/musl-libstdcxx.c"
echo "$dir/libstdc++.so.6"
