#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for SECONDS each (default 600), one after
# another, from the committed seeds (fuzz/corpus/<target>/, never written) plus a working
# corpus in fuzz/work/<target>/ (kept between runs, not committed). Stops at the first crash,
# whose input libFuzzer leaves in fuzz/artifacts/<target>/. Prints each target's exec count.
# libFuzzer on the stable toolchain: no sanitizer; overflow checks and debug assertions are on.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (default: every target)
# FUZZ_TIMEOUT (default 10) is the seconds one input may take before it counts as a hang; it is
# wall-clock time, so raise it when the machine is busy with other work.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-600}
shift || true
hang=${FUZZ_TIMEOUT:-10}

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo fuzz build --sanitizer none
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
for target in "${targets[@]}"; do
    mkdir -p "work/$target"
    log="work/$target.log"
    # -timeout: an input that takes that long is a hang; -rss_limit_mb: an allocation the limits
    # should have refused shows up as a crash.
    if ! cargo fuzz run --sanitizer none "$target" "$PWD/work/$target" "$PWD/corpus/$target" -- \
        -max_total_time="$seconds" -timeout="$hang" -rss_limit_mb=3072 -print_final_stats=1 \
        >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz target $target crashed (input in fuzz/artifacts/$target/, log $log)" >&2
        exit 1
    fi
    echo "$target: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs in ${seconds} s, corpus $(ls "work/$target" | wc -l) inputs"
done
