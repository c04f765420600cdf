#!/usr/bin/env bash
# Installs the menu entry and icons for the current user (Linux, freedesktop desktops).
# Run after `pip install cnnstudio`, from the repository or an unpacked source archive.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
icons="$here/../resources/icons"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
for size in 16 24 32 48 64 128 256 512; do
  install -Dm644 "$icons/cnnstudio-$size.png" "$data/icons/hicolor/${size}x${size}/apps/cnnstudio.png"
done
install -Dm644 "$icons/cnnstudio.svg" "$data/icons/hicolor/scalable/apps/cnnstudio.svg"
install -Dm644 "$here/cnnstudio.desktop" "$data/applications/cnnstudio.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
echo "CNN Studio is in your applications menu."
