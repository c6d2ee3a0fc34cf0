#!/usr/bin/env bash
# CI for the accelerator RTL (overlay/): Verilator lint, the simulation tests (register file,
# random passes at two geometries, golden conv1..conv7 bit for bit) and the resource/cycle
# report. Installs nothing: .ci/run provides verilator and yosys (Debian packages); also needs
# make, g++ and python3. About 5-8 minutes on 2 cores, most of it Yosys.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in verilator yosys make g++ python3; do
    command -v "$tool" >/dev/null || { echo "overlay: $tool is not installed" >&2; exit 1; }
done

make -C overlay lint sim
overlay/report
