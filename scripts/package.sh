#!/usr/bin/env bash
# `make package`: two Debian packages under target/package/.
# - cocm-server_VERSION_ARCH.deb: the `cocm` binary, the browser UI (/usr/share/cocm/ui), and
#   systemd units: `cocm serve` as its own user with the registry under /var/lib/cocm, and a
#   daily `cocm backup` timer. Assembled with dpkg-deb.
# - the desktop app's .deb, from Tauri's bundler.
set -euo pipefail
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
out=target/package
mkdir -p "$out"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -D -m 0755 target/release/cocm "$root/usr/bin/cocm"
mkdir -p "$root/usr/share/cocm/ui"
cp -r ui/dist/. "$root/usr/share/cocm/ui/"
for unit in cocm.service cocm-backup.service cocm-backup.timer cocm-check-ins.service cocm-check-ins.timer; do
  install -D -m 0644 "packaging/server/$unit" "$root/lib/systemd/system/$unit"
done
install -D -m 0644 packaging/server/default "$root/etc/default/cocm"
install -d "$root/DEBIAN"
install -m 0755 packaging/server/postinst packaging/server/prerm "$root/DEBIAN/"
echo "/etc/default/cocm" >"$root/DEBIAN/conffiles"
cat >"$root/DEBIAN/control" <<CONTROL
Package: cocm-server
Version: $version
Architecture: $arch
Maintainer: CoCM Registry <registry@cocm.invalid>
Section: misc
Priority: optional
Depends: adduser, systemd
Installed-Size: $(du -sk "$root/usr" | cut -f1)
Description: CoCM Registry practice server
 One collaborative-care registry for the whole team: caseload, PHQ-9 and GAD-7,
 the consult queue and billing minutes, served over HTTPS to browsers, the
 desktop app and the cocm CLI.
CONTROL
dpkg-deb --root-owner-group --build "$root" "$out/cocm-server_${version}_${arch}.deb" >/dev/null
echo "built $out/cocm-server_${version}_${arch}.deb"

# The desktop app: Tauri's bundler (its npm CLI, fetched for this build only: it is not one of
# the test suite's packages).
(cd src-tauri && npx --yes @tauri-apps/cli@2.12.5 build --bundles deb --config '{"bundle":{"active":true}}')
cp target/release/bundle/deb/*.deb "$out/cocm-desktop_${version}_${arch}.deb"
ls -1 "$out"/*.deb
