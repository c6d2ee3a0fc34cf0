#!/usr/bin/env bash
# Writes the zynqdet recipe's crate list from Cargo.lock: the petalinux layer's
# recipes-apps/zynqdet/zynqdet-crates.inc, one crate:// entry and one sha256sum per crate
# that Cargo.lock takes from the registry (workspace members come with the source tree).
# Run it after every change to Cargo.lock; tests/tests/yocto_crates.rs fails until then.
#
# Usage: scripts/yocto-crates.sh [--check]   (--check: exit 1 if the file is out of date)
set -euo pipefail
cd "$(dirname "$0")/.."
inc=petalinux/meta-zynqdet/recipes-apps/zynqdet/zynqdet-crates.inc

generate() {
    echo "# Generated from Cargo.lock by scripts/yocto-crates.sh: do not edit by hand."
    echo "# The crates that bitbake's crate fetcher downloads for the cargo class."
    echo
    awk '
        function flush() {
            if (name != "" && source ~ /^registry\+/) {
                if (checksum == "") {
                    printf "Cargo.lock: %s %s has no checksum\n", name, version > "/dev/stderr"
                    bad = 1
                }
                n++; names[n] = name; versions[n] = version; sums[n] = checksum
            }
            name = version = source = checksum = ""
        }
        /^\[\[package\]\]/ { flush(); next }
        /^name = /     { name = $3; gsub(/"/, "", name) }
        /^version = /  { version = $3; gsub(/"/, "", version) }
        /^source = /   { source = $3; gsub(/"/, "", source) }
        /^checksum = / { checksum = $3; gsub(/"/, "", checksum) }
        END {
            flush()
            if (bad) exit 1
            print "SRC_URI += \" \\"
            for (i = 1; i <= n; i++) printf "    crate://crates.io/%s/%s \\\n", names[i], versions[i]
            print "\""
            print ""
            for (i = 1; i <= n; i++)
                printf "SRC_URI[%s-%s.sha256sum] = \"%s\"\n", names[i], versions[i], sums[i]
        }
    ' Cargo.lock
}

if [ "${1:-}" = --check ]; then
    if ! diff -u "$inc" <(generate) >/dev/null; then
        echo "$inc: out of date with Cargo.lock: run scripts/yocto-crates.sh" >&2
        exit 1
    fi
    echo "$inc: matches Cargo.lock"
    exit 0
fi
generate >"$inc.tmp"
mv "$inc.tmp" "$inc"
echo "$inc: $(grep -c 'crate://' "$inc") crates"
