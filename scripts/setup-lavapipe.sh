#!/usr/bin/env bash
# Mesa 25's lavapipe (a CPU Vulkan driver) for the WebGPU backend on machines without a GPU.
# Debian 12's own Mesa 22 lavapipe is rejected by Dawn (requestAdapter() returns null); the one in
# bookworm-backports works. This downloads `mesa-vulkan-drivers` from that suite with an apt
# configuration of its own (own sources list and state folders: the machine's sources are not
# touched), unpacks it with `dpkg -x` into build/lavapipe, and prints the ICD file to point
# VK_DRIVER_FILES at. Idempotent: a second run only prints the path. Needs `libvulkan1` (the loader).
set -euo pipefail
cd "$(dirname "$0")/.."
DEST="$PWD/build/lavapipe"
ICD="$DEST/lvp_icd.json"
if [ -f "$ICD" ]; then echo "$ICD"; exit 0; fi
APT="$DEST/apt"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/etc/preferences.d" "$APT/debs" "$DEST/root"
cat >"$APT/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main
SRC
cat >"$APT/apt.conf" <<CONF
Dir::Etc::SourceList "$APT/sources.list";
Dir::Etc::SourceParts "$APT/none";
Dir::Etc::Preferences "$APT/preferences";
Dir::Etc::PreferencesParts "$APT/etc/preferences.d";
Dir::State::Lists "$APT/lists";
Dir::Cache "$APT/cache";
Dir::State::status "/var/lib/dpkg/status";
APT::Get::List-Cleanup "false";
CONF
export APT_CONFIG="$APT/apt.conf"
apt-get -qq update >&2
cd "$APT/debs"
# Only the driver: its other dependencies (libllvm15, xcb, libdrm) are Debian 12's own.
apt-get -qq download mesa-vulkan-drivers 2>&1 | grep -v 'unsandboxed' >&2 || true
for deb in mesa-vulkan-drivers_*.deb; do dpkg -x "$deb" "$DEST/root"; done
# The package's ICD file names the library without a folder, which would load the machine's own
# (older) lavapipe if one is installed: write one with the unpacked library's absolute path.
LIB="$(find "$DEST/root" -name 'libvulkan_lvp.so' | head -n 1)"
[ -n "$LIB" ] || { echo "setup-lavapipe: libvulkan_lvp.so not found in the package" >&2; exit 1; }
printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$LIB" >"$ICD"
echo "$ICD"
