#!/usr/bin/env bash
# Builds the Debian package from a build tree, validates it, unpacks it into a temporary root with
# `dpkg -x` (no chroot and no root needed: the programs' libraries come from the system, which is
# what the package's Depends say) and runs both programs from there. ctest runs it as
# `package.deb`; by hand: bash packaging/test-package.sh build
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
source_dir=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "test-package: $*" >&2; exit 1; }

cd "$build"
cpack -G DEB --config CPackConfig.cmake -B "$build/package" >"$build/package-cpack.log" 2>&1 ||
  { cat "$build/package-cpack.log" >&2; fail "cpack failed"; }
deb=$(ls -t "$build"/package/syncbn-studio_*.deb | head -n 1)
[[ -f $deb ]] || fail "no .deb in $build/package"
depends=$(dpkg-deb --field "$deb" Depends)
echo "package: $(basename "$deb"), $(du -h "$deb" | cut -f1)"
echo "Depends: $depends"
# dpkg-shlibdeps lists what the binaries load; a -dev package there means a build dependency
# leaked into the runtime ones.
[[ -n $depends ]] || fail "Depends is empty: dpkg-shlibdeps did not run"
if grep -qE -- '-dev( |,|$)' <<<"$depends"; then fail "a -dev package in Depends: $depends"; fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg -x "$deb" "$root"
for file in usr/bin/syncbn-studio usr/bin/syncbn-engine \
  usr/share/applications/syncbn-studio.desktop \
  usr/share/icons/hicolor/32x32/apps/syncbn-studio.png \
  usr/share/icons/hicolor/64x64/apps/syncbn-studio.png \
  usr/share/icons/hicolor/256x256/apps/syncbn-studio.png \
  usr/share/icons/hicolor/scalable/apps/syncbn-studio.svg \
  usr/share/metainfo/io.github.syncbn_studio.metainfo.xml \
  usr/share/man/man1/syncbn-studio.1.gz usr/share/man/man1/syncbn-engine.1.gz \
  usr/share/bash-completion/completions/syncbn-engine; do
  [[ -e $root/$file ]] || fail "missing /$file"
done

desktop-file-validate "$root/usr/share/applications/syncbn-studio.desktop" ||
  fail "desktop-file-validate"
appstreamcli validate --no-net "$root/usr/share/metainfo/io.github.syncbn_studio.metainfo.xml" ||
  fail "appstreamcli validate"
zcat "$root/usr/share/man/man1/syncbn-engine.1.gz" | grep -qF 'check\-data' ||
  fail "the engine's man page does not list its commands"

# The installed programs, from the unpacked root, with no display.
version=$(env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM "$root/usr/bin/syncbn-studio" --version)
[[ $version == "syncbn-studio "* ]] || fail "syncbn-studio --version printed: $version"
"$root/usr/bin/syncbn-engine" --version | grep -q "^syncbn-engine " || fail "syncbn-engine --version"
"$root/usr/bin/syncbn-engine" train --help | grep -q -- "--progress-socket" ||
  fail "syncbn-engine train --help"
# The compiled-in model: no file beside the binary is needed.
"$root/usr/bin/syncbn-engine" model-info yolov8n.yaml | grep -q "YOLOv8n summary" ||
  fail "syncbn-engine model-info yolov8n.yaml"

# Started the way a desktop starts it: the entry's Exec line, the program found on PATH. Under
# Xvfb when it is installed (the real X11 platform plugin), else offscreen; it must still be
# running after 5 s (timeout's 124), not have exited with an error.
exec_line=$(sed -n 's/^Exec=//p' "$root/usr/share/applications/syncbn-studio.desktop" | sed 's/ %[fFuU]//')
if command -v xvfb-run >/dev/null; then
  status=0
  PATH="$root/usr/bin:$PATH" QT_QPA_PLATFORM=xcb timeout 5 xvfb-run -a $exec_line || status=$?
else
  status=0
  PATH="$root/usr/bin:$PATH" QT_QPA_PLATFORM=offscreen timeout 5 $exec_line || status=$?
fi
[[ $status == 124 ]] || fail "syncbn-studio from its desktop entry exited with $status within 5 s"

# Every subcommand of --help is completed.
bash -n "$root/usr/share/bash-completion/completions/syncbn-engine" || fail "completion syntax"
for command in $("$root/usr/bin/syncbn-engine" --help | awk '/^Subcommands:/ {on = 1; next}
                                                           on && /^  [a-z]/ {print $1}'); do
  grep -qw -- "$command" "$root/usr/share/bash-completion/completions/syncbn-engine" ||
    fail "the completion does not offer '$command'"
done
echo "test-package: ok ($source_dir)"
