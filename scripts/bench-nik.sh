#!/usr/bin/env bash
# Measures NIK verification over HTTP, as BENCHMARKING.md asks: builds simpul (release),
# starts a fresh hub with the demo city pinned to one CPU, runs `simpul bench` pinned to the
# other, then stops the hub and removes its data.
#
# Usage: scripts/bench-nik.sh [simpul bench options...]
#   e.g. scripts/bench-nik.sh --rounds 5 --json bench-nik.json
# The Markdown section for BENCHMARKS.md is printed on stdout; progress goes to stderr.
#
# Environment (none of these start with SIMPUL_, which the hub would read as settings):
#   CARGO_TARGET_DIR           build directory (default: $HOME/.cache/simpul-target)
#   BENCH_NIK_PORT             loopback port of the hub (default: 18080)
#   BENCH_NIK_SERVER_CPUS      taskset CPU list for the hub (default: 0)
#   BENCH_NIK_CLIENT_CPUS      taskset CPU list for the load generator (default: 1)
#   BENCH_NIK_READY_TIMEOUT    seconds to wait for the hub to seed and get ready (default: 1800)
#   BENCH_NIK_KEEP_DATA=1      keep the hub's data directory (its path is printed)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/simpul-target}"
port="${BENCH_NIK_PORT:-18080}"
server_cpus="${BENCH_NIK_SERVER_CPUS:-0}"
client_cpus="${BENCH_NIK_CLIENT_CPUS:-1}"
ready_timeout="${BENCH_NIK_READY_TIMEOUT:-1800}"
url="http://127.0.0.1:${port}"
command_line="scripts/bench-nik.sh${*:+ $*}"

log() { printf 'bench-nik: %s\n' "$*" >&2; }

cd "$repo_root"
log "building simpul (release) into $CARGO_TARGET_DIR"
cargo build --release -p simpul >&2
binary="$CARGO_TARGET_DIR/release/simpul"

if curl -fsS --max-time 2 "$url/healthz" >/dev/null 2>&1; then
    log "something already answers on $url; set BENCH_NIK_PORT to a free port"
    exit 1
fi

data_dir="$(mktemp -d "${TMPDIR:-/tmp}/simpul-bench.XXXXXX")"
server_log="$data_dir/serve.log"
server_pid=""

cleanup() {
    local status=$?
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        log "stopping the hub (pid $server_pid)"
        kill -TERM "$server_pid" 2>/dev/null || true
        # Bounded: a hub that ignores SIGTERM for 30 s is killed.
        for _ in $(seq 1 300); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$server_pid" 2>/dev/null; then
            log "the hub did not stop within 30 s; killing it"
            kill -KILL "$server_pid" 2>/dev/null || true
        fi
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ "${BENCH_NIK_KEEP_DATA:-0}" == 1 ]]; then
        log "kept the hub's data in $data_dir"
    else
        rm -rf -- "$data_dir"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting the hub on CPU $server_cpus at $url (data in $data_dir; first start seeds the demo city)"
# Tokens outlive the run; the hub's own default is ten minutes.
SIMPUL_DATA_DIR="$data_dir" SIMPUL_LISTEN="127.0.0.1:${port}" \
    SIMPUL_SECURITY__TOKEN_LIFETIME_SECS=14400 \
    taskset -c "$server_cpus" "$binary" serve >"$server_log" 2>&1 &
server_pid=$!

started=$SECONDS
deadline=$((SECONDS + ready_timeout))
until curl -fsS --max-time 5 "$url/readyz" >/dev/null 2>&1; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        log "the hub exited before it was ready; the end of its log:"
        tail -n 20 "$server_log" >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        log "the hub was not ready within ${ready_timeout} s; the end of its log:"
        tail -n 20 "$server_log" >&2
        exit 1
    fi
    sleep 1
done
log "hub ready after $((SECONDS - started)) s; registering the load generator's client"

# The load runs as an agency client like any other (token, gate, access log), with a quota
# far above what it can send, so the measurement is of the hub and not of the limiter.
actions="search_residents verify_nik verify_nik_batch"
created="$(SIMPUL_DATA_DIR="$data_dir" "$binary" admin create-client --id bench-nik \
    --agency pengukuran --scopes "$actions" --requests-per-minute 1000000000)"
SIMPUL_DATA_DIR="$data_dir" "$binary" admin grant --agency pengukuran --actions "$actions" \
    --region 35 --reference BENCH >&2
export SIMPUL_BENCH_CLIENT_ID="$(sed -n 's/^client_id=//p' <<<"$created")"
export SIMPUL_BENCH_CLIENT_SECRET="$(sed -n 's/^client_secret=//p' <<<"$created")"
log "running the load generator on CPU $client_cpus"

taskset -c "$client_cpus" "$binary" bench \
    --target "$url" \
    --server-pid "$server_pid" \
    --server-cpus "$server_cpus" \
    --command "$command_line" \
    "$@"
