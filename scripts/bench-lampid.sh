#!/usr/bin/env bash
# Measures e-LAMPID throughput (births from report to registration, next to the one-event
# ceiling) and statistics latency (simpul's counters next to a plain SQL GROUP BY), as
# BENCHMARKING.md asks: builds simpul (release), seeds a fresh demo city into a temporary
# data directory, and runs `simpul bench-lampid` against it; then, when
# BENCH_LAMPID_POSTGRES_URL is set, does the same against a fresh PostgreSQL database it
# creates beside the one that URL names and drops afterwards.
#
# The benchmark runs in-process at the store level (no HTTP): the store and the load share
# one process, so it is pinned to both CPUs at once (BENCH_LAMPID_CPUS). A PostgreSQL
# server on this machine is not pinned by this script and competes for the same CPUs.
#
# Usage: scripts/bench-lampid.sh [simpul bench-lampid options...]
#   e.g. scripts/bench-lampid.sh --rounds 5 --json bench-lampid.json
#   (with both backends, the PostgreSQL run writes its JSON to bench-lampid.postgres.json)
# The Markdown sections for BENCHMARKS.md are printed on stdout; progress goes to stderr.
#
# Environment (none of these start with SIMPUL_, which simpul would read as settings):
#   CARGO_TARGET_DIR             build directory (default: $HOME/.cache/simpul-target)
#   BENCH_LAMPID_RESIDENTS       residents of the demo city (default: 200000)
#   BENCH_LAMPID_CPUS            taskset CPU list for simpul (default: 0,1)
#   BENCH_LAMPID_POSTGRES_URL    postgres://user@host:port/db to also measure PostgreSQL; a
#                                database simpul_bench_lampid_<pid> is created on that server
#                                and dropped at the end
#   BENCH_LAMPID_SKIP_SQLITE=1   measure PostgreSQL only
#   BENCH_LAMPID_KEEP_DATA=1     keep the data directories and the PostgreSQL database
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/simpul-target}"
residents="${BENCH_LAMPID_RESIDENTS:-200000}"
cpus="${BENCH_LAMPID_CPUS:-0,1}"
pg_url="${BENCH_LAMPID_POSTGRES_URL:-}"
keep="${BENCH_LAMPID_KEEP_DATA:-0}"
command_line="scripts/bench-lampid.sh${*:+ $*}"

log() { printf 'bench-lampid: %s\n' "$*" >&2; }

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

# The arguments with `--json FILE` turned into `--json FILE.postgres.json` (FILE without
# its .json), so that the second run does not overwrite the first one's results.
postgres_args() {
    local previous=""
    for arg in "$@"; do
        if [[ "$previous" == --json ]]; then
            arg="${arg%.json}.postgres.json"
        elif [[ "$arg" == --json=* ]]; then
            arg="--json=${arg#--json=}"
            arg="${arg%.json}.postgres.json"
        fi
        printf '%s\0' "$arg"
        previous="$arg"
    done
}

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

sqlite_dir=""
pg_dir=""
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
    for dir in "$sqlite_dir" "$pg_dir"; do
        [[ -n "$dir" ]] || continue
        if [[ "$keep" == 1 ]]; then
            log "kept data in $dir"
        else
            rm -rf -- "$dir"
        fi
    done
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# seed DIR [DATABASE_URL]: the demo city into a fresh store (its keys in DIR).
seed() {
    local dir="$1" url="${2:-}" started=$SECONDS
    log "seeding $residents residents (data dir $dir${url:+, database $url})"
    SIMPUL_DATA_DIR="$dir" SIMPUL_DATABASE_URL="$url" \
        "$binary" demo --residents "$residents" >&2
    log "seeded in $((SECONDS - started)) s"
}

# measure DIR [DATABASE_URL] [bench-lampid options...]
measure() {
    local dir="$1" url="$2"
    shift 2
    log "running simpul bench-lampid pinned to CPUs $cpus"
    SIMPUL_DATA_DIR="$dir" SIMPUL_DATABASE_URL="$url" \
        taskset -c "$cpus" "$binary" bench-lampid --command "$command_line" --commit "$commit" "$@"
}

if [[ "${BENCH_LAMPID_SKIP_SQLITE:-0}" != 1 ]]; then
    sqlite_dir="$(mktemp -d "${TMPDIR:-/tmp}/simpul-bench-lampid.XXXXXX")"
    log "SQLite: $(df -T "$sqlite_dir" | awk 'NR == 2 { print $2 " on " $1 }') under $sqlite_dir"
    seed "$sqlite_dir"
    measure "$sqlite_dir" "" "$@"
fi

if [[ -n "$pg_url" ]]; then
    pg_db="simpul_bench_lampid_$$"
    pg_bench_url="$(database_url "$pg_url" "$pg_db")"
    log "PostgreSQL: creating database $pg_db"
    createdb --maintenance-db="$pg_url" "$pg_db" >&2
    for setting in fsync synchronous_commit wal_sync_method full_page_writes; do
        log "PostgreSQL $setting = $(psql "$pg_bench_url" -tAc "SHOW $setting")"
    done
    pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/simpul-bench-lampid-pg.XXXXXX")"
    seed "$pg_dir" "$pg_bench_url"
    args=("$@")
    if [[ "${BENCH_LAMPID_SKIP_SQLITE:-0}" != 1 ]]; then
        args=()
        while IFS= read -r -d '' arg; do
            args+=("$arg")
        done < <(postgres_args "$@")
        printf '\n'
    fi
    measure "$pg_dir" "$pg_bench_url" ${args[@]+"${args[@]}"}
fi
