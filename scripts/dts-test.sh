#!/usr/bin/env bash
# The layer's device-tree source against real ZynqMP board trees: zynqdet-pl.dtso (the PL
# overlay) and zynqdet-dma.dtsi (the reserved DMA region) compile, apply with fdtoverlay to the
# ZCU104 rev C, Ultra96 rev 1 and ZCU102 (the emulator's board) trees of Debian's arm64 kernel
# package, and the result has the nodes zynqdet looks for.
#
#   scripts/dts-test.sh                 the test; "SKIPPED: <reason>" when dtc or the trees are
#                                       absent (scripts/boot-test.sh downloads the trees)
#   scripts/dts-test.sh --build IN OUT  applies the layer's overlays to the tree IN, writes OUT
#
# Trees are looked for in $ZYNQDET_DTB_DIR, target/boot-test/kernel-*/ (the boot test's
# download), then an installed arm64 kernel's /usr/lib/linux-image-*/xilinx.
set -euo pipefail
cd "$(dirname "$0")/.."
layer=petalinux/meta-zynqdet
pl_dtso=$layer/recipes-bsp/zynqdet-pl/files/zynqdet-pl.dtso
dma_dtsi=$layer/recipes-bsp/device-tree/files/zynqdet-dma.dtsi
# Every ZynqMP tree has the GIC here (zynqmp.dtsi); the overlay refers to it by its label.
gic_path=/axi/interrupt-controller@f9010000

# apply IN OUT: the layer's overlays on IN.
apply() {
    local in=$1 out=$2 tmp
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    dtc -q -@ -I dts -O dtb -o "$tmp/pl.dtbo" "$pl_dtso"
    # The .dtsi goes into the board's base tree on PetaLinux; as an overlay of the root here.
    printf '/dts-v1/;\n/plugin/;\n/include/ "%s"\n' "$(basename "$dma_dtsi")" >"$tmp/dma.dtso"
    dtc -q -i "$(dirname "$dma_dtsi")" -I dts -O dtb -o "$tmp/dma.dtbo" "$tmp/dma.dtso"
    cp "$in" "$tmp/base.dtb"
    # Distribution trees are built without -@ (no __symbols__); PetaLinux's have them. Give
    # the base the one label the overlay uses, as a -@ build would.
    if ! fdtget "$tmp/base.dtb" /__symbols__ gic >/dev/null 2>&1; then
        fdtget -l "$tmp/base.dtb" "${gic_path%/*}" | grep -qx "${gic_path##*/}" || {
            echo "$in: no GIC at $gic_path" >&2
            return 1
        }
        fdtput -c "$tmp/base.dtb" /__symbols__ 2>/dev/null || true
        fdtput -t s "$tmp/base.dtb" /__symbols__ gic "$gic_path"
    fi
    fdtoverlay -i "$tmp/base.dtb" -o "$out" "$tmp/pl.dtbo" "$tmp/dma.dtbo"
}

if [ "${1:-}" = --build ]; then
    [ $# -eq 3 ] || {
        echo "usage: $0 --build IN.dtb OUT.dtb" >&2
        exit 2
    }
    apply "$2" "$3"
    exit 0
fi

for tool in dtc fdtoverlay fdtget fdtput; do
    command -v $tool >/dev/null || {
        echo "SKIPPED: $tool not installed (Debian package device-tree-compiler)"
        exit 0
    }
done
dir=${ZYNQDET_DTB_DIR:-}
if [ -z "$dir" ]; then
    dir=$(ls -d target/boot-test/kernel-*/root/usr/lib/linux-image-*/xilinx /usr/lib/linux-image-*/xilinx \
        2>/dev/null | head -n 1 || true)
fi
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    echo "SKIPPED: no ZynqMP device trees (run scripts/boot-test.sh, install linux-image-arm64:arm64, or set ZYNQDET_DTB_DIR)"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() { # dtb node property expected
    local got
    got=$(fdtget -t x "$1" "$2" "$3" 2>&1 || true)
    [ "$3" = compatible ] || [ "$3" = firmware-name ] && got=$(fdtget "$1" "$2" "$3" 2>&1 || true)
    if [ "$got" != "$4" ]; then
        echo "  $2 $3: $got, expected $4"
        return 1
    fi
}
for board in zynqmp-zcu104-revC avnet-ultra96-rev1 zynqmp-zcu102-rev1.0; do
    in=$dir/$board.dtb
    if [ ! -e "$in" ]; then
        echo "FAIL $board: $in missing"
        failed=$((failed + 1))
        continue
    fi
    out=$tmp/$board.dtb
    ok=yes
    apply "$in" "$out" || ok=no
    if [ $ok = yes ]; then
        gic=$(fdtget -t x "$out" "$gic_path" phandle)
        engine=/axi/BlackBoxJam@a0000000
        check "$out" $engine compatible generic-uio || ok=no
        check "$out" $engine reg "0 a0000000 0 10000" || ok=no
        check "$out" $engine interrupts "0 59 4" || ok=no # SPI 89: pl_ps_irq0
        check "$out" $engine interrupt-parent "$gic" || ok=no
        check "$out" /zynqdet-dma@70000000 compatible generic-uio || ok=no
        check "$out" /zynqdet-dma@70000000 reg "0 70000000 0 1000000" || ok=no
        check "$out" /reserved-memory/zynqdet-dma-region@70000000 reg "0 70000000 0 1000000" || ok=no
        fdtget "$out" /reserved-memory/zynqdet-dma-region@70000000 no-map >/dev/null 2>&1 ||
            { echo "  the reserved region is not no-map"; ok=no; }
        check "$out" /zynqdet-udmabuf compatible ikwzm,u-dma-buf || ok=no
        check "$out" /fpga-full firmware-name zynqdet.bit.bin || ok=no
        # The board's own nodes are still there.
        fdtget "$out" /axi/serial@ff000000 compatible >/dev/null || ok=no
    fi
    if [ $ok = yes ]; then
        echo "ok   $board: compiles, applies, engine + DMA nodes in place"
        passed=$((passed + 1))
    else
        echo "FAIL $board"
        failed=$((failed + 1))
    fi
done
echo "dts: $passed passed, $failed failed"
[ $failed -eq 0 ]
