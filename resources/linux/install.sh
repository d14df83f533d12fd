#!/bin/sh
# Install the Shipscan bundle for one user (default) or system-wide, with its menu entry and icons.
#
#   ./install.sh                      # into ~/.local (no root needed)
#   sudo ./install.sh --prefix /usr/local
#   ./install.sh --uninstall [--prefix DIR]
#
# Run it from the unpacked bundle (the folder holding the `shipscan` executable and `_internal/`). It copies
# the bundle to PREFIX/lib/shipscan, links PREFIX/bin/shipscan, and installs the .desktop file and the icons
# under PREFIX/share (the freedesktop locations menus read). Exit 0 on success; any failure names the step.
set -eu

PREFIX="${HOME}/.local"
ACTION=install
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="${2:?--prefix needs a directory}"; shift 2 ;;
    --prefix=*) PREFIX="${1#--prefix=}"; shift ;;
    --uninstall) ACTION=uninstall; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

HERE="$(cd "$(dirname "$0")" && pwd)"
LIB="$PREFIX/lib/shipscan"
BIN="$PREFIX/bin"
SHARE="$PREFIX/share"
RES="$HERE/_internal/resources"
SIZES="16 24 32 48 64 128 256 512"

refresh_caches() {
  # Menus pick up new entries by themselves on most desktops; these only speed it up, so failures are fine.
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$SHARE/applications" || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" || true
}

if [ "$ACTION" = uninstall ]; then
  rm -rf "$LIB"
  rm -f "$BIN/shipscan" "$SHARE/applications/shipscan.desktop"
  for size in $SIZES; do rm -f "$SHARE/icons/hicolor/${size}x${size}/apps/shipscan.png"; done
  refresh_caches
  echo "Shipscan removed from $PREFIX (your database, settings and logs are kept)."
  exit 0
fi

[ -x "$HERE/shipscan" ] || { echo "install.sh: no executable 'shipscan' next to this script: run it from the unpacked bundle" >&2; exit 1; }
[ -f "$RES/linux/shipscan.desktop" ] || { echo "install.sh: the bundle lacks _internal/resources/linux/shipscan.desktop" >&2; exit 1; }

mkdir -p "$PREFIX/lib" "$BIN" "$SHARE/applications"
if [ "$HERE" != "$LIB" ]; then
  rm -rf "$LIB.new"
  cp -a "$HERE" "$LIB.new"          # copy first, then swap: a failed copy leaves the old install working
  rm -rf "$LIB"
  mv "$LIB.new" "$LIB"
fi
ln -sf "$LIB/shipscan" "$BIN/shipscan"
# Absolute Exec lines: a desktop session's PATH often lacks ~/.local/bin.
sed -e "s|^Exec=shipscan|Exec=\"$LIB/shipscan\"|" "$RES/linux/shipscan.desktop" > "$SHARE/applications/shipscan.desktop"
for size in $SIZES; do
  mkdir -p "$SHARE/icons/hicolor/${size}x${size}/apps"
  cp "$RES/icons/shipscan-$size.png" "$SHARE/icons/hicolor/${size}x${size}/apps/shipscan.png"
done
refresh_caches
"$LIB/shipscan" --version >/dev/null || { echo "install.sh: the installed shipscan does not start" >&2; exit 1; }
echo "Shipscan installed in $LIB; run 'shipscan' (link in $BIN) or pick Shipscan from the applications menu."
case ":$PATH:" in *":$BIN:"*) ;; *) echo "Note: $BIN is not on your PATH." ;; esac
