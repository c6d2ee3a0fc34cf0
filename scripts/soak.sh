#!/usr/bin/env bash
# Soak benchmark (not a test): the shared video (../shared/video, 120 frames of 768x576 MJPEG)
# replayed in a loop for FRAMES frames (default 20000) through `zynqdet run` with no picture
# output and the detections to /dev/null. Every INTERVAL seconds (default 10) it prints the
# frames done, frames/s over the last interval and over the run, the process's resident
# memory (VmRSS) and peak (VmHWM) from /proc, and the frame buffers the pipeline has allocated
# (from its --stats lines); memory should stay flat after the warm-up.
#   scripts/soak.sh [FRAMES] [INTERVAL]      (ZYNQDET=path/to/zynqdet to choose the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
frames=${1:-20000}
interval=${2:-10}
video=${ZYNQDET_SHARED:-../shared}/video/vtest-768x576-10fps.mjpeg.avi
[ -f "$video" ] || video=/work/shared/video/vtest-768x576-10fps.mjpeg.avi
[ -f "$video" ] || { echo "soak: the shared video is missing ($video)" >&2; exit 1; }
if [ -z "${ZYNQDET:-}" ]; then
    cargo build --release -q -p zynqdet
    ZYNQDET=target/release/zynqdet
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One long MJPEG AVI, made once by copying the packets (no re-encoding): the replay then
# reads a plain file, as a long recording would.
loops=$(((frames + 119) / 120))
ffmpeg -v error -stream_loop "$((loops - 1))" -i "$video" -c copy "$work/long.avi"

jsonl="$work/dets.jsonl"
"$ZYNQDET" run --input "$work/long.avi" --output none --json "$jsonl" --max-frames "$frames" \
    --stats --stats-interval "$interval" 2>"$work/stderr" &
pid=$!
start=$(date +%s.%N)
last_t=$start
last_n=0
printf '%8s %8s %10s %10s %10s %10s %8s\n' seconds frames 'fps(last)' 'fps(all)' 'RSS MiB' 'peak MiB' buffers
while kill -0 "$pid" 2>/dev/null; do
    sleep "$interval"
    [ -r "/proc/$pid/status" ] || break
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$rss" ] || break
    now=$(date +%s.%N)
    n=$(wc -l <"$jsonl")
    buffers=$( (grep -o '[0-9]* frame buffers' "$work/stderr" || true) | tail -n 1 | cut -d' ' -f1)
    awk -v t="$now" -v s="$start" -v lt="$last_t" -v n="$n" -v ln="$last_n" -v r="$rss" -v h="$hwm" -v b="${buffers:--}" \
        'BEGIN { printf "%8.0f %8d %10.2f %10.2f %10.1f %10.1f %8s\n", t - s, n, (n - ln) / (t - lt), n / (t - s), r / 1024, h / 1024, b }'
    last_t=$now
    last_n=$n
done
wait "$pid"
# the run's report: frames, rate, frame buffers allocated, stage times
grep -v '^\[' "$work/stderr" || true
