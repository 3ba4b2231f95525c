#!/bin/sh
# Installs skiff: picks the binary for this OS, CPU and C library, downloads it and SHA256SUMS from
# the release, checks its SHA-256 and installs it. Refuses on any checksum mismatch.
#
#   curl -fsSL https://github.com/skiff-agent/skiff/releases/latest/download/install.sh | sh
#
# Settings (environment variables):
#   SKIFF_RELEASE_URL  where skiff-<os>-<arch> and SHA256SUMS are; default: the latest release,
#                      e.g. https://github.com/skiff-agent/skiff/releases/download/v0.1.0 for one version,
#                      or file:///path/to/folder for a folder made by ./build.sh --release
#   SKIFF_INSTALL_DIR  where to put `skiff`; default /usr/local/bin as root, else ~/.local/bin
#   SKIFF_LIBC         glibc or musl, to override detection on Linux
# Needs: sh, uname, curl or wget, and sha256sum, shasum or openssl.
set -eu

# The project's release page. (A placeholder until the repository is public: set SKIFF_RELEASE_URL.)
default_release_url="https://github.com/skiff-agent/skiff/releases/latest/download"
release_url="${SKIFF_RELEASE_URL:-$default_release_url}"
release_url="${release_url%/}"

say() { printf 'skiff install: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

detect_os() {
  case "$(uname -s)" in
    Linux) echo linux ;;
    Darwin) echo darwin ;;
    MINGW* | MSYS* | CYGWIN*) echo windows ;;
    *) die "no skiff binary for the OS '$(uname -s)'; there are builds for Linux, macOS and Windows (x64, arm64)" ;;
  esac
}

detect_arch() {
  machine="$(uname -m)"
  # An x64 shell under Rosetta on an Apple Silicon Mac reports x86_64; the native build is faster.
  if [ "$1" = darwin ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then machine=arm64; fi
  case "$machine" in
    x86_64 | amd64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "no skiff binary for the CPU '$machine'; there are builds for x86_64 (x64) and aarch64 (arm64)" ;;
  esac
}

# glibc or musl. Looks at what the system's own programs use, not at whether a musl loader
# happens to be installed (Debian can have both).
detect_libc() {
  case "${SKIFF_LIBC:-}" in
    glibc | musl) echo "$SKIFF_LIBC"; return ;;
    "") ;;
    *) die "SKIFF_LIBC is '$SKIFF_LIBC'; it must be glibc or musl" ;;
  esac
  ldd_version="$(ldd --version 2>&1 || true)"
  case "$ldd_version" in
    *musl*) echo musl; return ;;
    *GLIBC* | *"GNU libc"* | *glibc*) echo glibc; return ;;
  esac
  if grep -q 'ld-musl-' /bin/sh 2>/dev/null; then echo musl; else echo glibc; fi
}

# Why a download failed, and what to do: the default URL does not work until the project is public.
download_failed() { # URL TOOL
  if [ -z "${SKIFF_RELEASE_URL:-}" ]; then
    die "could not download $1 ($2 failed). The default release URL, $default_release_url, is a placeholder until the skiff repository is public: set SKIFF_RELEASE_URL to the folder holding the release files: an HTTP(S) URL, or file:///path/to/folder for one made by ./build.sh --release (docs/install.md)"
  fi
  die "could not download $1 ($2 failed; check SKIFF_RELEASE_URL and your network)"
}

download() { # URL FILE
  case "$1" in
    # A local release folder (./build.sh --release), with or without curl or wget.
    file://*) cp "${1#file://}" "$2" 2>/dev/null || die "could not read ${1#file://} (check SKIFF_RELEASE_URL: it must name a folder holding the release files)"; return ;;
  esac
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 -o "$2" "$1" || download_failed "$1" curl
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1" || download_failed "$1" wget
  else
    die "needs curl or wget to download; install one of them"
  fi
}

sha256_of() { # FILE
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 "$1" | sed 's/^.*= *//'
  else
    die "needs sha256sum, shasum or openssl to verify the download; install one of them"
  fi
}

os="$(detect_os)"
arch="$(detect_arch "$os")"
asset="skiff-$os-$arch"
name=skiff
if [ "$os" = linux ] && [ "$(detect_libc)" = musl ]; then asset="$asset-musl"; fi
if [ "$os" = windows ]; then asset="$asset.exe"; name=skiff.exe; fi

if [ -n "${SKIFF_INSTALL_DIR:-}" ]; then
  dir="$SKIFF_INSTALL_DIR"
elif [ "$(id -u)" = 0 ]; then
  dir=/usr/local/bin
else
  [ -n "${HOME:-}" ] || die "HOME is not set; set SKIFF_INSTALL_DIR to the directory to install into"
  dir="$HOME/.local/bin"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/skiff-install.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

say "downloading $asset from $release_url"
download "$release_url/SHA256SUMS" "$tmp/SHA256SUMS"
download "$release_url/$asset" "$tmp/$asset"

# A line is "<sha256>  <file>" (or "<sha256> *<file>" in binary mode).
expected="$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/SHA256SUMS")"
[ -n "$expected" ] || die "$release_url/SHA256SUMS has no line for $asset; not installing"
actual="$(sha256_of "$tmp/$asset")"
if [ "$actual" != "$expected" ]; then
  die "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual; not installing (a broken or tampered download)"
fi
say "verified SHA-256 $actual"

mkdir -p "$dir" 2>/dev/null || die "cannot create $dir; run as root or set SKIFF_INSTALL_DIR to a directory you can write"
[ -w "$dir" ] || die "cannot write to $dir; run as root or set SKIFF_INSTALL_DIR to a directory you can write"
# Copy next to the target, then rename: a running skiff is never overwritten in place.
cp "$tmp/$asset" "$dir/.$name.new.$$"
chmod 755 "$dir/.$name.new.$$"
mv -f "$dir/.$name.new.$$" "$dir/$name"
say "installed $dir/$name"

if ! "$dir/$name" version; then
  hint=""
  case "$asset" in *-musl) hint=" On Alpine and other musl systems skiff needs the C++ runtime: apk add libstdc++" ;; esac
  die "$dir/$name was installed but does not run.$hint"
fi
case ":${PATH:-}:" in
  *":$dir:"*) ;;
  *) say "note: $dir is not on your PATH; add it, e.g. export PATH=\"$dir:\$PATH\"" ;;
esac
