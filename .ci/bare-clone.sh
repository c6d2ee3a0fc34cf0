#!/usr/bin/env bash
# A newcomer's first minutes: the repository cloned alone into an empty folder (no ../shared
# beside it, no COCO models), then the README's two commands. The detector must print the
# reference's three detections on the shipped sample, and the tests must pass with every test
# whose data is absent saying SKIPPED and why.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q . "$work/zynqdet"
cd "$work/zynqdet"
test ! -e ../shared

# A target directory of its own: cargo names a workspace's artefacts without its path, so a
# clone building into the checkout's target/ would overwrite the checkout's test binaries.
export CARGO_TARGET_DIR="${BARE_CLONE_TARGET_DIR:-$OLDPWD/target/bare-clone}"
# A newcomer's machine has no Verilator: build as it would be built there.
export ZYNQDET_NO_RTL=1
export ZYNQDET_MODELS="$work/no-models"
unset ZYNQDET_REQUIRE_SHARED

# The README's first command, read from the README itself.
detect=$(grep -m1 '^    cargo run --release -p zynqdet -- detect' README.md | sed 's/^    //')
[ -n "$detect" ] || { echo "bare clone: the README's first command is missing" >&2; exit 1; }
echo "bare clone: $detect"
got=$(eval "$detect" 2>/dev/null | tail -n +2)
want=$'dog: 86%\t(110, 237)-(348, 546)\ncar: 86%\t(382, 116)-(761, 155)\nbicycle: 78%\t(78, 72)-(564, 497)'
if [ "$got" != "$want" ]; then
    printf 'bare clone: detect printed\n%s\nexpected\n%s\n' "$got" "$want" >&2
    exit 1
fi
[ -s out/dog.png ] || { echo "bare clone: out/dog.png was not written" >&2; exit 1; }

# The README's second command.
grep -q '^    cargo test --workspace$' README.md \
    || { echo "bare clone: the README's test command is missing" >&2; exit 1; }
echo "bare clone: cargo test --workspace"
status=0
cargo test --workspace >"$work/test.log" 2>&1 || status=$?
grep -E '^(test result|SKIPPED)' "$work/test.log" || true
if [ "$status" -ne 0 ]; then
    echo "bare clone: cargo test --workspace failed" >&2
    tail -50 "$work/test.log" >&2
    exit 1
fi
# Tests that lack ../shared say so, by name and reason.
grep -q '^SKIPPED .*shared.*not found' "$work/test.log" \
    || { echo "bare clone: no test said SKIPPED for the missing ../shared" >&2; exit 1; }
echo "bare clone: $(grep -c '^SKIPPED' "$work/test.log") tests skipped, each with its reason"
