#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/), small valid inputs made from
the samples and tiny synthetic models: re-run it to regenerate them, then commit the result.
Needs numpy and Pillow; the .zdm seed also needs a built zynqdet (import-qnn), given as $1."""
import io, os, pathlib, shutil, struct, subprocess, sys, tempfile
import numpy as np
from PIL import Image

root = pathlib.Path(__file__).resolve().parent.parent
corpus = root / "fuzz" / "corpus"
rng = np.random.default_rng(16)


def put(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def npy(a, fortran=False):
    b = io.BytesIO()
    np.save(b, np.asfortranarray(a) if fortran else a)
    return b.getvalue()


# cfg + planner: the shipped model's cfg, YOLOv3-tiny's if fetched, and small ones using every section.
small = """[net]
width=32
height=32
channels=3
[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky
[maxpool]
size=2
stride=2
[convolutional]
filters=8
size=1
activation=linear
[shortcut]
from=-2
activation=linear
[route]
layers=-1,0
groups=2
group_id=1
[upsample]
stride=2
[convolutional]
filters=21
size=1
activation=linear
[yolo]
mask=0,1,2
anchors=10,14,23,27,37,58
num=3
classes=2
scale_x_y=1.05
"""
region = """[net]
width=16
height=16
[convolutional]
filters=35
size=3
pad=1
binary=1
activation=relu
[region]
anchors=1,1,2,2,3,3,4,4,5,5
classes=2
coords=4
num=5
softmax=1
"""
put("cfg_plan", "small.cfg", small)
put("cfg_plan", "region.cfg", region)
v3 = pathlib.Path.home() / ".cache/zynqdet/models/yolov3-tiny/yolov3-tiny.cfg"
if v3.exists():
    put("cfg_plan", "yolov3-tiny.cfg", v3.read_text())

# .weights: a cfg, NUL, then a header and exactly the floats it needs.
wcfg = """[net]
width=8
height=8
channels=3
[convolutional]
batch_normalize=1
filters=4
size=3
pad=1
activation=leaky
[maxpool]
size=2
stride=2
[convolutional]
filters=2
size=1
activation=linear
"""
floats = 4 * 4 + 4 * 3 * 9 + 2 + 2 * 4
for major, minor, seen in [(0, 2, "<Q"), (0, 1, "<I")]:
    header = struct.pack("<iii", major, minor, 0) + struct.pack(seen, 1000)
    payload = rng.standard_normal(floats).astype("<f4").tobytes()
    put("weights", f"tiny-{major}.{minor}.bin", wcfg.encode() + b"\0" + header + payload)

# .npy: C and Fortran order, format 1.0 and 2.0, empty.
put("npy", "c.npy", npy(np.arange(6, dtype="<f4").reshape(2, 3)))
put("npy", "f.npy", npy(np.arange(24, dtype="<f4").reshape(2, 3, 4), fortran=True))
put("npy", "empty.npy", npy(np.zeros((0, 3), dtype="<f4")))
b = io.BytesIO()
np.lib.format.write_array(b, np.ones(5, dtype="<f4"), version=(2, 0))
put("npy", "v2.npy", b.getvalue())

# QNN release: float conv0 (3 -> 8), binarized conv1 (8 -> 32, one pass), float conv2 (32 -> 7), region.
qcfg = """[net]
width=8
height=8
channels=3
[convolutional]
filters=8
size=1
activation=relu
[convolutional]
batch_normalize=1
filters=32
size=3
stride=1
pad=1
activation=relu
binary=1
[convolutional]
filters=7
size=1
activation=linear
[region]
anchors=1,1
classes=2
coords=4
num=1
"""
files = {"t.cfg": qcfg.encode()}
files["t-conv0-W.npy"] = npy(rng.standard_normal((1, 1, 3, 8)).astype("<f4"))
files["t-conv0-bias.npy"] = npy(rng.standard_normal(8).astype("<f4"))
files["t-conv2-W.npy"] = npy(rng.standard_normal((1, 1, 32, 7)).astype("<f4"))
files["t-conv2-bias.npy"] = npy(rng.standard_normal(7).astype("<f4"))
for pe in range(32):
    files[f"binparam/1-{pe}-weights.bin"] = rng.integers(0, 2**63, 9, dtype=np.uint64).astype("<u8").tobytes()
    # thresholds: three increasing 16-bit levels in the low bits, no inversion
    files[f"binparam/1-{pe}-thres.bin"] = struct.pack("<QQ", (1 | 2 << 16 | 3 << 32), 0)
names = ["t.cfg"] + [f"t-conv{c}-{k}.npy" for c in range(4) for k in ("W", "bias")]
names += [f"binparam/{f}-{pe}-{k}.bin" for f in (1, 2) for pe in range(32) for k in ("weights", "thres")]
blob = bytes([len(files)])
for name, data in files.items():
    blob += bytes([names.index(name)]) + struct.pack("<H", len(data)) + data
put("qnn_import", "small-release.bin", blob)

# .zdm: that release imported by zynqdet.
if len(sys.argv) > 1:
    with tempfile.TemporaryDirectory() as t:
        t = pathlib.Path(t)
        (t / "binparam").mkdir()
        for name, data in files.items():
            (t / name).write_bytes(data)
        (t / "names").write_text("a\nb\n")
        subprocess.run([sys.argv[1], "import-qnn", str(t), "--out", str(t / "m.zdm"),
                        "--names", str(t / "names")], check=True)
        put("zdm", "small.zdm", (t / "m.zdm").read_bytes())

# JPEG: small cuts of dog.jpg in the samplings and modes the decoders handle differently.
dog = Image.open(root / "samples" / "dog.jpg").convert("RGB")
for name, im, kw in [
    ("420.jpg", dog.resize((24, 16)), {"subsampling": 2}),
    ("444.jpg", dog.resize((17, 9)), {"subsampling": 0}),
    ("422.jpg", dog.resize((16, 16)), {"subsampling": 1}),
    ("gray.jpg", dog.resize((13, 11)).convert("L"), {}),
    ("progressive.jpg", dog.resize((16, 8)), {"progressive": True}),
    ("optimized.jpg", dog.resize((20, 20)), {"optimize": True, "quality": 30}),
]:
    b = io.BytesIO()
    im.save(b, "JPEG", quality=kw.pop("quality", 75), **kw)
    put("jpeg", name, b.getvalue())
b = io.BytesIO()
dog.resize((8, 6)).save(b, "PNG")
put("jpeg", "small.png", b.getvalue())
