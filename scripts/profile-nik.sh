#!/usr/bin/env bash
# A short NIK-verification run for profiling: a fresh hub with a small demo city pinned to
# CPU 0, `simpul bench` (one round, one open-loop rate) pinned to CPU 1, and `perf record -g`
# on the hub for a few seconds once the chosen phase is under way. Faster than
# scripts/bench-nik.sh and not a substitute for it: its figures are for finding where time
# goes, not for BENCHMARKS.md's tables.
#
# Usage: scripts/profile-nik.sh
# Environment (none start with SIMPUL_, which the hub would read as settings):
#   PROFILE_NIK_RESIDENTS   demo city size (default 20000)
#   PROFILE_NIK_BATCH       batch claims for the batch phase (default 0: skipped)
#   PROFILE_NIK_PERF_AFTER  seconds after the load starts to begin `perf record` (default 14,
#                           the single-verification run; about 50 reaches the batch phase);
#                           empty: no profile
#   PROFILE_NIK_PORT        loopback port (default 18090)
# Output: the bench log on stderr, and `perf report` input in $data_dir/perf.data (printed).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/simpul-target}"
residents="${PROFILE_NIK_RESIDENTS:-20000}"
batch="${PROFILE_NIK_BATCH:-0}"
perf_after="${PROFILE_NIK_PERF_AFTER-14}"
port="${PROFILE_NIK_PORT:-18090}"

cd "$repo_root"
cargo build --release -p simpul >&2
binary="$CARGO_TARGET_DIR/release/simpul"
data_dir="$(mktemp -d "${TMPDIR:-/tmp}/simpul-profile.XXXXXX")"
server_pid=""
cleanup() {
    [[ -n "$server_pid" ]] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    echo "profile-nik: data and perf.data kept in $data_dir" >&2
}
trap cleanup EXIT

SIMPUL_DATA_DIR="$data_dir" SIMPUL_LISTEN="127.0.0.1:${port}" SIMPUL_DEMO__RESIDENTS="$residents" \
    SIMPUL_SECURITY__TOKEN_LIFETIME_SECS=14400 \
    taskset -c 0 "$binary" serve >"$data_dir/serve.log" 2>&1 &
server_pid=$!
until curl -fsS --max-time 2 "http://127.0.0.1:${port}/readyz" >/dev/null 2>&1; do
    kill -0 "$server_pid" 2>/dev/null || { tail -n 20 "$data_dir/serve.log" >&2; exit 1; }
    sleep 1
done

actions="search_residents verify_nik verify_nik_batch"
created="$(SIMPUL_DATA_DIR="$data_dir" "$binary" admin create-client --id profile-nik \
    --agency pengukuran --scopes "$actions" --requests-per-minute 1000000000)"
SIMPUL_DATA_DIR="$data_dir" "$binary" admin grant --agency pengukuran --actions "$actions" \
    --region 35 --reference PROFILE >&2
export SIMPUL_BENCH_CLIENT_ID="$(sed -n 's/^client_id=//p' <<<"$created")"
export SIMPUL_BENCH_CLIENT_SECRET="$(sed -n 's/^client_secret=//p' <<<"$created")"

taskset -c 1 "$binary" bench --target "http://127.0.0.1:${port}" --rounds 1 --duration 8 \
    --rates 0.5 --batch-claims "$batch" --sample 5000 >"$data_dir/bench.md" &
bench_pid=$!
if [[ -n "$perf_after" ]]; then
    sleep "$perf_after"
    perf record -F 999 -g -p "$server_pid" -o "$data_dir/perf.data" -- sleep 6 >&2
fi
wait "$bench_pid"
echo "profile-nik: perf report -i $data_dir/perf.data --children --sort symbol" >&2
