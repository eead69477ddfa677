#!/usr/bin/env bash
# Installs what scribe needs on a fresh Debian 12 machine; does nothing for what is already there.
#   tools/deps.sh           everything
#   tools/deps.sh kissfft   only the KissFFT sources (from Debian's source package, pinned)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

APT_PACKAGES=(
  build-essential clang libclang-rt-14-dev valgrind
  emscripten
  python3-torch libopenblas0-pthread python3-numpy python3-mir-eval python3-mido python3-soundfile python3-scipy
  fluidsynth fluid-soundfont-gm timgm6mb-soundfont fluid-soundfont-gs musescore-general-soundfont csound-soundfont
  timidity freepats stk avldrums.lv2-soundfont
  openttd-openmsx mma
  chromium
)
KISSFFT_VERSION="131.1.0-4.1~deb12u1"
KISSFFT_ORIG_SHA256="76c1aac87ddb7258f34b08a13f0eebf9e53afa299857568346aa5c82bcafaf1a"

apt_updated=0
apt_update() {
  if [ $apt_updated = 0 ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
}

install_apt() {
  command -v node >/dev/null && command -v npm >/dev/null || APT_PACKAGES+=(nodejs npm)
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    apt_update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
  fi
}

# KissFFT's C sources come from Debian's source package, never copied into the repository.
install_kissfft() {
  [ -f .deps/kissfft/kiss_fftr.c ] && return 0
  mkdir -p .deps/src
  local orig=.deps/src/kissfft_131.1.0.orig.tar.gz
  if [ ! -f "$orig" ]; then
    if ! ls /etc/apt/sources.list.d/*.sources 2>/dev/null | xargs -r grep -l '^Types:.*deb-src' | grep -q .; then
      echo "deps: enabling Debian source packages (deb-src) to fetch KissFFT"
      $SUDO tee /etc/apt/sources.list.d/scribe-debian-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      apt_updated=0
    fi
    apt_update
    (cd .deps/src && apt-get source --download-only "kissfft=$KISSFFT_VERSION" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  fi
  echo "$KISSFFT_ORIG_SHA256  $orig" | sha256sum -c --quiet -
  rm -rf .deps/kissfft && mkdir -p .deps/kissfft
  tar xzf "$orig" -C .deps/kissfft --strip-components=1
}

install_npm() {
  [ -f package-lock.json ] || return 0
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "deps: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

case "${1:-all}" in
  kissfft) install_kissfft ;;
  all) install_apt; install_kissfft; install_npm ;;
  *) echo "usage: tools/deps.sh [all|kissfft]" >&2; exit 2 ;;
esac
