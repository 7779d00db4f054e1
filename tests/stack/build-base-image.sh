#!/usr/bin/env bash
# Builds helpdesk-base: a Debian bookworm rootfs made by debootstrap (no registry
# needed) with PostgreSQL and Redis installed, imported with `docker import`.
# Rebuilt only when the package list changes. Prints the image reference.
source "$(dirname "$0")/lib.sh"

packages="$STACK_DIR/images/base/packages.txt"
tag="helpdesk-base:$(content_hash "$packages")"
if image_exists "$tag"; then echo "$tag"; exit 0; fi

[ "$(id -u)" = 0 ] || die "debootstrap needs root"
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >/dev/null ||
    die "could not install debootstrap (apt-get install debootstrap)"
fi

# The mirror apt is already configured with: never hard-coded in the repo.
mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
[ -n "$mirror" ] || mirror="$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d}"

rootfs="$(mktemp -d /var/tmp/helpdesk-rootfs.XXXXXX)"
trap 'umount "$rootfs/proc" 2>/dev/null || true; rm -rf "$rootfs"' EXIT
say "debootstrap bookworm into $rootfs (a few minutes)"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
  die "debootstrap failed; last lines of $rootfs.log:
$(tail -n 20 "$rootfs.log")"
# The packages are installed by apt inside the rootfs (debootstrap's own
# --include cannot order the configuration of node-* packages), with no
# service started (policy-rc.d) and /proc mounted for their scripts.
say "installing $(grep -cv '^#' "$packages") packages into the rootfs"
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod +x "$rootfs/usr/sbin/policy-rc.d"
mount -t proc proc "$rootfs/proc"
# shellcheck disable=SC2046
{ chroot "$rootfs" apt-get update -qq &&
  DEBIAN_FRONTEND=noninteractive chroot "$rootfs" apt-get install -y -qq --no-install-recommends \
    $(grep -v '^#' "$packages"); } >>"$rootfs.log" 2>&1 ||
  die "installing the packages failed; last lines of $rootfs.log:
$(tail -n 20 "$rootfs.log")"
umount "$rootfs/proc"
rm -f "$rootfs.log" "$rootfs/usr/sbin/policy-rc.d"
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
  "$rootfs"/var/lib/postgresql/15/main
say "importing $tag"
tar -C "$rootfs" -c . | docker import - "$tag" >/dev/null
echo "$tag"
