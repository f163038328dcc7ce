#!/usr/bin/env bash
# Measures the tamper-evident ledger as BENCHMARKING.md asks: sealing with signed
# checkpoints (next to the raw SHA-256 ceiling over the same leaves, with storage bytes per
# leaf), and inclusion proofs on synthetic logs of up to 100 million leaves (saturation,
# open-loop latency at half of it, verification). Builds simpul (release) and runs
# `simpul bench-ledger` on scratch SQLite files in a temporary directory it removes
# afterwards; when BENCH_LEDGER_POSTGRES_URL is set, the sealing phase also runs on a fresh
# PostgreSQL database created beside the one that URL names and dropped afterwards.
#
# The benchmark runs in-process at the store level (no HTTP): store, sealer and load share
# one process, pinned to BENCH_LEDGER_CPUS. A PostgreSQL server on this machine is not
# pinned by this script and competes for the same CPUs.
#
# Usage: scripts/bench-ledger.sh [simpul bench-ledger options...]
#   e.g. scripts/bench-ledger.sh --json bench-ledger.json
# The Markdown section for BENCHMARKS.md is printed on stdout; progress goes to stderr.
#
# Environment (none of these start with SIMPUL_, which simpul would read as settings):
#   CARGO_TARGET_DIR             build directory (default: $HOME/.cache/simpul-target)
#   BENCH_LEDGER_APPEND_LEAVES   entries sealed per round, comma-separated sizes
#                                (default: 100000,1000000)
#   BENCH_LEDGER_PROOF_LEAVES    synthetic log sizes for proofs, comma-separated
#                                (default: 1000000,10000000,100000000)
#   BENCH_LEDGER_ROUNDS          rounds per sealing size and open-loop runs per proof size
#                                (default: 3)
#   BENCH_LEDGER_CPUS            taskset CPU list for simpul (default: 0,1)
#   BENCH_LEDGER_DIR             where the scratch directory is made (default: ${TMPDIR:-/tmp});
#                                the largest log needs about 130 bytes per leaf
#   BENCH_LEDGER_POSTGRES_URL    postgres://user@host:port/db to also seal on PostgreSQL; a
#                                database simpul_bench_ledger_<pid> is created on that server
#                                and dropped at the end
#   BENCH_LEDGER_KEEP_DATA=1     keep the scratch directory and the PostgreSQL database
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/simpul-target}"
append_leaves="${BENCH_LEDGER_APPEND_LEAVES:-100000,1000000}"
proof_leaves="${BENCH_LEDGER_PROOF_LEAVES:-1000000,10000000,100000000}"
rounds="${BENCH_LEDGER_ROUNDS:-3}"
cpus="${BENCH_LEDGER_CPUS:-0,1}"
parent="${BENCH_LEDGER_DIR:-${TMPDIR:-/tmp}}"
pg_url="${BENCH_LEDGER_POSTGRES_URL:-}"
keep="${BENCH_LEDGER_KEEP_DATA:-0}"

log() { printf 'bench-ledger: %s\n' "$*" >&2; }

# The URL of database $2 on the server of URL $1 (same user, host, port and parameters).
database_url() {
    local url="$1" name="$2" query="" base
    if [[ "$url" == *\?* ]]; then
        query="?${url#*\?}"
    fi
    base="${url%%\?*}"
    local rest="${base#*://}"
    if [[ "$rest" == */* ]]; then
        base="${base%/*}"
    fi
    printf '%s/%s%s' "$base" "$name" "$query"
}

# The command as a reader would rerun it: the sizes the environment chose, then the options.
command_line="BENCH_LEDGER_APPEND_LEAVES=$append_leaves BENCH_LEDGER_PROOF_LEAVES=$proof_leaves"
command_line+=" BENCH_LEDGER_ROUNDS=$rounds"
if [[ -n "$pg_url" ]]; then
    # Without a password, should the URL carry one.
    command_line+=" BENCH_LEDGER_POSTGRES_URL=$(sed -E 's#://([^:/@]+):[^@]*@#://\1:***@#' <<<"$pg_url")"
fi
command_line+=" scripts/bench-ledger.sh${*:+ $*}"

cd "$repo_root"
log "building simpul (release) into $CARGO_TARGET_DIR"
cargo build --release -p simpul >&2
binary="$CARGO_TARGET_DIR/release/simpul"
# The commit the binary was just built from, read now: a checkout others commit to may
# move on while the benchmark runs.
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    commit="$commit + uncommitted changes"
fi

scratch=""
pg_db=""
cleanup() {
    local status=$?
    if [[ -n "$pg_db" ]]; then
        if [[ "$keep" == 1 ]]; then
            log "kept PostgreSQL database $pg_db"
        else
            dropdb --maintenance-db="$pg_url" --if-exists "$pg_db" >&2 || true
        fi
    fi
    if [[ -n "$scratch" ]]; then
        if [[ "$keep" == 1 ]]; then
            log "kept data in $scratch"
        else
            rm -rf -- "$scratch"
        fi
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$parent"
scratch="$(mktemp -d "$parent/simpul-bench-ledger.XXXXXX")"
largest=0
IFS=',' read -ra sizes <<<"$proof_leaves"
for size in "${sizes[@]}"; do
    if ((size > largest)); then
        largest=$size
    fi
done
needed=$((largest * 130))
available="$(df -B1 --output=avail "$scratch" | tail -n 1 | tr -d ' ')"
log "scratch $scratch on $(df -T "$scratch" | awk 'NR == 2 { print $2 " on " $1 }'):" \
    "$((available / 1000000000)) GB free, about $((needed / 1000000000)) GB needed"
if ((available < needed)); then
    log "not enough space for a log of $largest leaves; set BENCH_LEDGER_DIR or BENCH_LEDGER_PROOF_LEAVES"
    exit 1
fi

args=(--append-leaves "$append_leaves" --proof-leaves "$proof_leaves" --rounds "$rounds"
    --dir "$scratch" --command "$command_line" --commit "$commit")
if [[ "$keep" == 1 ]]; then
    args+=(--keep)
fi
if [[ -n "$pg_url" ]]; then
    pg_db="simpul_bench_ledger_$$"
    log "PostgreSQL: creating database $pg_db"
    createdb --maintenance-db="$pg_url" "$pg_db" >&2
    args+=(--postgres "$(database_url "$pg_url" "$pg_db")")
fi

log "running simpul bench-ledger pinned to CPUs $cpus"
taskset -c "$cpus" "$binary" bench-ledger "${args[@]}" "$@"
