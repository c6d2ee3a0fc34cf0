#!/usr/bin/env bash
# Boot test of the PetaLinux layer's parts on an emulated ZynqMP board, built only from Debian
# packages: Debian's arm64 kernel and the board's device tree that ships with it, the layer's
# device-tree overlays applied to it, uio_pdrv_genirq built for that kernel, and an initramfs
# with busybox, the aarch64 zynqdet and the layer's start-up script. QEMU's xlnx-zcu102 boots
# it; the serial console must show every marker (QEMU's exit code proves nothing).
#
# Usage: scripts/boot-test.sh zcu104|ultra96
#
# The emulator has no PL: the engine's registers read zero. zynqdet must find the engine by
# name, map it, find it not idle, reset it and fall back to the CPU with one warning, and still
# give the reference detections on dog.jpg; a short clip cut from ../shared's video, replayed
# through the start-up script, must give the host's JSON lines.
#
# Downloads, the unpacked kernel and the built module stay in target/boot-test/ for the next run.
# ZYNQDET_SHARED: the shared data (default ../shared beside the checkout); ZYNQDET_HOST_BIN:
# the host zynqdet to compare with (default: target/debug/zynqdet, built if needed).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

board=${1:-}
case $board in
zcu104)
    dtb_name=zynqmp-zcu104-revC
    # UART0 is the console (ttyPS0).
    serial=(-serial "file:LOG" -serial null)
    ;;
ultra96)
    dtb_name=avnet-ultra96-rev1
    # The console is UART1, which the Ultra96 tree calls serial0 (ttyPS0).
    serial=(-serial null -serial "file:LOG")
    ;;
*)
    echo "usage: $0 zcu104|ultra96" >&2
    exit 2
    ;;
esac

export DEBIAN_FRONTEND=noninteractive
# device-tree-compiler: dtc, fdtoverlay, fdtput; qemu-system-arm: qemu-system-aarch64;
# gcc-aarch64-linux-gnu + make: the module; cpio: the initramfs; ffmpeg: cutting the clip.
apt_packages=(device-tree-compiler qemu-system-arm gcc-aarch64-linux-gnu make cpio ffmpeg python3)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
need_update=no
dpkg --print-foreign-architectures | grep -qx arm64 || {
    dpkg --add-architecture arm64
    need_update=yes
}
if [ ${#missing[@]} -gt 0 ] || [ $need_update = yes ]; then
    # Other jobs on the machine may hold the apt lock: wait for it rather than fail.
    apt-get -o DPkg::Lock::Timeout=600 update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi

# The current Debian arm64 kernel, through its meta-package.
ver=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
    sed -n 's/^ *Depends: linux-image-\(.*\)-arm64:arm64$/\1/p' | head -n 1)
if [ -z "$ver" ]; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    ver=$(apt-cache depends linux-image-arm64:arm64 |
        sed -n 's/^ *Depends: linux-image-\(.*\)-arm64:arm64$/\1/p' | head -n 1)
fi
[ -n "$ver" ] || {
    echo "boot-test: cannot tell the version of Debian's arm64 kernel (linux-image-arm64:arm64)" >&2
    exit 1
}
major=$(echo "$ver" | cut -d. -f1,2) # 6.1.0-57 -> 6.1
kname=$ver-arm64

work=$repo/target/boot-test
debs=$work/debs
kdir=$work/kernel-$kname
mkdir -p "$debs" "$kdir"

# Downloads, kept between runs (apt-get download names the files itself: find them by glob).
fetch() { # package[:arch] file-glob
    if ! compgen -G "$debs/$2" >/dev/null; then
        (cd "$debs" && apt-get download -qq "$1" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
    fi
    compgen -G "$debs/$2" >/dev/null || {
        echo "boot-test: apt-get download $1 gave no $2" >&2
        exit 1
    }
}
fetch "linux-image-$kname:arm64" "linux-image-${kname}_*_arm64.deb"
fetch "linux-headers-$kname:arm64" "linux-headers-${kname}_*_arm64.deb"
fetch "linux-headers-$ver-common" "linux-headers-$ver-common_*_all.deb"
# The host's kbuild tools (fixdep, modpost) run on this machine: its own architecture.
fetch "linux-kbuild-$major" "linux-kbuild-${major}_*_$(dpkg --print-architecture).deb"
fetch "linux-source-$major" "linux-source-${major}_*_all.deb"
fetch "busybox-static:arm64" "busybox-static_*_arm64.deb"
fetch "libc6:arm64" "libc6_*_arm64.deb"
fetch "libgcc-s1:arm64" "libgcc-s1_*_arm64.deb"

# The kernel, its modules and device trees, the headers.
root=$kdir/root
if [ ! -e "$kdir/unpacked" ]; then
    rm -rf "$root"
    for d in "$debs"/linux-image-"${kname}"_*_arm64.deb "$debs"/linux-headers-"${kname}"_*_arm64.deb \
        "$debs"/linux-headers-"$ver"-common_*_all.deb \
        "$debs"/linux-kbuild-"${major}"_*_"$(dpkg --print-architecture)".deb; do
        dpkg-deb -x "$d" "$root"
    done
    # The headers' Makefile includes the common part by its installed, absolute path.
    sed -i "s#^include /usr/src/#include $root/usr/src/#" "$root/usr/src/linux-headers-$kname/Makefile"
    touch "$kdir/unpacked"
fi

# The kernel source's Kconfig files and uio_pdrv_genirq.c, from Debian's linux-source.
src=$kdir/src
if [ ! -e "$src/done" ]; then
    rm -rf "$src"
    mkdir -p "$src"
    dpkg-deb --fsys-tarfile "$debs"/linux-source-"${major}"_*_all.deb |
        tar -xO "./usr/src/linux-source-$major.tar.xz" |
        tar -xJ -C "$src" --strip-components=1 --wildcards "linux-source-$major/*Kconfig*" \
            "linux-source-$major/drivers/uio/uio_pdrv_genirq.c"
    touch "$src/done"
fi

# Every option of the layer's kernel fragment is one that Linux has (a misspelt option is
# silently dropped by the kernel's configuration). OF_CONFIGFS exists only in Xilinx's kernel.
unknown=()
for opt in $(sed -n 's/^CONFIG_\([A-Z0-9_]*\)=.*/\1/p' "$repo/petalinux/meta-zynqdet/recipes-kernel/linux/files/zynqdet.cfg"); do
    [ "$opt" = OF_CONFIGFS ] && continue
    grep -rqE "^[[:space:]]*(menu)?config $opt\$" --include='Kconfig*' "$src" || unknown+=("$opt")
done
if [ ${#unknown[@]} -gt 0 ]; then
    echo "boot-test: zynqdet.cfg: not options of Linux $major: ${unknown[*]}" >&2
    exit 1
fi
echo "boot-test: zynqdet.cfg: every option is one of Linux $major's"

# uio_pdrv_genirq: Debian builds UIO (=m) but not this driver. Build it out of tree from the
# Debian kernel source, against the headers of the kernel that boots.
mod=$kdir/uio_pdrv_genirq
if [ ! -e "$mod/uio_pdrv_genirq.ko" ]; then
    rm -rf "$mod"
    mkdir -p "$mod"
    cp "$src/drivers/uio/uio_pdrv_genirq.c" "$mod/"
    echo 'obj-m := uio_pdrv_genirq.o' >"$mod/Kbuild"
    make -s -C "$root/usr/src/linux-headers-$kname" M="$mod" ARCH=arm64 \
        CROSS_COMPILE=aarch64-linux-gnu- modules 2>&1 | grep -v 'Skipping BTF generation' || true
    [ -e "$mod/uio_pdrv_genirq.ko" ] || {
        echo "boot-test: building uio_pdrv_genirq.ko failed" >&2
        exit 1
    }
fi

out=$work/$board
rm -rf "$out"
mkdir -p "$out"

# The device tree: Debian's board tree, the layer's overlays as a board would get them
# (zynqdet-pl at run time by fpga-manager, zynqdet-dma at build time; both before boot here,
# Debian's kernel having no OF_OVERLAY), then the emulator's own changes.
layer=$repo/petalinux/meta-zynqdet
base=$root/usr/lib/linux-image-$kname/xilinx/$dtb_name.dtb
[ -e "$base" ] || {
    echo "boot-test: $base: not in linux-image-$kname" >&2
    exit 1
}
scripts/dts-test.sh --build "$base" "$out/board.dtb"
dtc -q -I dts -O dtb -o "$out/qemu.dtbo" scripts/boot-test/qemu-zynqmp.dtso
fdtoverlay -i "$out/board.dtb" -o "$out/qemu.dtb" "$out/qemu.dtbo"
for uart in /axi/serial@ff000000 /axi/serial@ff010000; do
    for prop in power-domains pinctrl-names pinctrl-0 resets reset-names assigned-clocks \
        assigned-clock-rates assigned-clock-parents; do
        fdtput -d "$out/qemu.dtb" "$uart" "$prop" 2>/dev/null || true
    done
done

# The aarch64 zynqdet (target/aarch64, shared with .ci/aarch64.sh) and its libraries.
bin=$(scripts/build-aarch64.sh)
ird=$out/initramfs
mkdir -p "$ird"/{bin,dev,proc,sys,tmp,lib/modules,usr/bin,etc/boot-test,etc/init.d,share}
dpkg-deb --fsys-tarfile "$debs"/busybox-static_*_arm64.deb | tar -xO ./bin/busybox >"$ird/bin/busybox"
chmod +x "$ird/bin/busybox"
ln -s busybox "$ird/bin/sh"
libs=$out/libs
for d in "$debs"/libc6_*_arm64.deb "$debs"/libgcc-s1_*_arm64.deb; do
    dpkg-deb -x "$d" "$libs"
done
aarch64-linux-gnu-strip -o "$ird/usr/bin/zynqdet" "$bin"
# ld.so where the binary's interpreter path says, and what it needs beside it.
cp -L "$libs/lib/ld-linux-aarch64.so.1" "$ird/lib/" 2>/dev/null ||
    cp -L "$libs"/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1 "$ird/lib/"
for lib in $(aarch64-linux-gnu-readelf -d "$ird/usr/bin/zynqdet" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    found=$(find "$libs" -name "$lib" | head -n 1)
    [ -n "$found" ] || {
        echo "boot-test: zynqdet needs $lib, not in libc6:arm64 or libgcc-s1:arm64" >&2
        exit 1
    }
    cp -L "$found" "$ird/lib/"
done
cp "$root/lib/modules/$kname/kernel/drivers/uio/uio.ko" "$mod/uio_pdrv_genirq.ko" "$ird/lib/modules/"
cp scripts/boot-test/init "$ird/init"
cp "$layer/recipes-apps/zynqdet/files/zynqdet-start" "$ird/usr/bin/"
cp "$layer/recipes-apps/zynqdet/files/zynqdet.init" "$ird/etc/init.d/zynqdet"
if ! mknod -m 600 "$ird/dev/console" c 5 1 2>/dev/null; then
    echo "boot-test: cannot create dev/console for the initramfs (needs root)" >&2
    exit 1
fi

# The replay: dog.jpg and a few frames of ../shared's video (cut here, not kept in the repo).
cp samples/dog.jpg "$ird/share/"
video=${ZYNQDET_SHARED:-$repo/../shared}/video/vtest-768x576-10fps.mjpeg.avi
[ -e "$video" ] || {
    echo "boot-test: $video: missing (the clip is cut from it)" >&2
    exit 1
}
ffmpeg -loglevel error -y -i "$video" -frames:v 3 -c copy "$out/clip.avi"
cp "$out/clip.avi" "$ird/share/"
cat >"$ird/etc/zynqdet.conf" <<'CONF'
# The boot test's replay: a recording in, JSON lines out, the PL engine (absent: CPU fallback).
input=/share/clip.avi
output=none
backend=uio
thresh=0.3
json=/tmp/clip.jsonl
CONF
printf 'input=/dev/video0\nbackend=uio\nthresh=1.5\n' >"$ird/etc/boot-test/bad.conf"
printf 'input=/dev/video0\noutput=none\nbackend=uio\n' >"$ird/etc/boot-test/nocamera.conf"
(cd "$ird" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 >"$out/initramfs.gz"

# The host's JSON lines for the same clip (bit-exact engine model).
host_bin=${ZYNQDET_HOST_BIN:-}
if [ -z "$host_bin" ]; then
    cargo build --quiet -p zynqdet
    host_bin=target/debug/zynqdet
fi
"$host_bin" run --input "$out/clip.avi" --output none --thresh 0.3 --json "$out/host.jsonl" \
    >/dev/null 2>&1

log=$out/console.log
qemu_serial=("${serial[@]/LOG/$log}")
echo "boot-test: $board: booting Debian's $kname with $dtb_name.dtb on QEMU xlnx-zcu102"
start=$(date +%s)
set +e
timeout 900 qemu-system-aarch64 -M xlnx-zcu102 -m 2G -display none -monitor none \
    "${qemu_serial[@]}" -no-reboot \
    -kernel "$root/boot/vmlinuz-$kname" -initrd "$out/initramfs.gz" -dtb "$out/qemu.dtb" \
    -append "console=ttyPS0,115200 rdinit=/init uio_pdrv_genirq.of_id=generic-uio" \
    </dev/null >"$out/qemu.out" 2>&1
qemu_rc=$?
set -e
tr -d '\r' <"$log" >"$log.txt"
echo "boot-test: $board: QEMU ran $(($(date +%s) - start)) s (exit $qemu_rc)"

# The markers.
python3 - "$log.txt" "$out/host.jsonl" "$board" <<'PY'
import json, re, sys

log_path, host_path, board = sys.argv[1:]
log = open(log_path, errors="replace").read().splitlines()
failures = []

def need(what, ok):
    print(f"boot-test: {board}: {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)

def lines_between(begin, end):
    try:
        i = next(n for n, l in enumerate(log) if l.startswith(begin))
        j = next(n for n, l in enumerate(log) if n > i and l.startswith(end))
    except StopIteration:
        return None
    return log[i + 1 : j]

need("kernel up", any(l.startswith("boot-test: kernel up: ") and "aarch64" in l for l in log))
uio = {}
for l in log:
    m = re.match(r"boot-test: uio: /dev/(uio\d+) name=(\S+) addr=(\S+) size=(\S+)", l)
    if m:
        uio[m.group(2)] = (m.group(1), int(m.group(3), 16), int(m.group(4), 16))
print(f"boot-test: {board}: UIO devices: {uio}")
need("/dev/uioN named BlackBoxJam at 0xa0000000, 64 KiB",
     uio.get("BlackBoxJam", (0, 0, 0))[1:] == (0xA0000000, 0x10000))
need("/dev/uioN named zynqdet-dma at 0x70000000, 16 MiB",
     uio.get("zynqdet-dma", (0, 0, 0))[1:] == (0x70000000, 0x1000000))

detect = lines_between("boot-test: detect begin", "boot-test: detect end") or []
warnings = [l for l in detect if l.startswith("pl_driver: warning:")]
need("one fallback warning naming BlackBoxJam's UIO device",
     len(warnings) == 1 and "BlackBoxJam (/dev/uio" in warnings[0] and "runs on the CPU" in warnings[0])
for w in warnings:
    print(f"boot-test: {board}:      {w}")
want = ["dog: 86%\t(110, 237)-(348, 546)", "car: 86%\t(382, 116)-(761, 155)",
        "bicycle: 78%\t(78, 72)-(564, 497)"]
got = [l for l in detect if re.match(r"^\w[\w ]*: \d+%\t", l)]
need("dog.jpg: the reference's three detections", got == want)
need("zynqdet detect exit 0", any(l == "boot-test: detect end, exit 0" for l in log))

bad = [l for l in log if l.startswith("boot-test: bad config: ")]
need("bad config: one line, non-zero exit",
     len(bad) == 1 and re.match(r"boot-test: bad config: exit [1-9]\d*, 1 line\(s\): zynqdet-start: "
                                r"/etc/boot-test/bad.conf:3: thresh: '1.5'", bad[0]) is not None)
for l in bad:
    print(f"boot-test: {board}:      {l}")
retries = [l for l in log if l.startswith("boot-test: no camera: ")]
need("no camera: retries after 1 s, 2 s, 4 s",
     [re.sub(r".*retrying in (\d+) s$", r"\1", l) for l in retries if "retrying" in l] == ["1", "2", "4"])

clip = lines_between("boot-test: clip json begin", "boot-test: clip json end")
host = open(host_path).read().splitlines()
def same(a, b):
    a, b = json.loads(a), json.loads(b)
    if len(a["detections"]) != len(b["detections"]):
        return False
    return all(x["class"] == y["class"] and x["box"] == y["box"] and abs(x["prob"] - y["prob"]) <= 1e-4
               for x, y in zip(a["detections"], b["detections"]))
need(f"clip: {len(host)} JSON lines equal the host's (classes, boxes; probabilities within 1e-4)",
     clip is not None and len(host) > 0 and len(clip) == len(host)
     and all(same(a, b) for a, b in zip(clip, host)))
clip_run = lines_between("boot-test: clip begin", "boot-test: clip end") or []
need("clip: every frame on the CPU after one warning",
     sum(l.startswith("pl_driver: warning:") for l in clip_run) == 1)
need("clip: the start-up script's zynqdet exit 0", any(l == "boot-test: clip end, exit 0" for l in log))
need("init ran to the end", any(l == "boot-test: done" for l in log))

if failures:
    print(f"boot-test: {board}: FAILED: {len(failures)} marker(s) missing; the console follows")
    print("\n".join(log[-200:]))
    sys.exit(1)
print(f"boot-test: {board}: passed")
PY
