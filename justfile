# casebook: threads or async, settled by measurement.
# `just` alone lists the recipes; `just list` lists the cases.

set positional-arguments
set shell := ["bash", "-euo", "pipefail", "-c"]

# Show the recipes
default:
    @just --list --unsorted

# List every case with the question it answers
[group('cases')]
list:
    #!/usr/bin/env bash
    set -euo pipefail
    for manifest in crates/*/Cargo.toml; do
        name=$(basename "$(dirname "$manifest")")
        question=$(sed -n 's/^description = "\(.*\)"$/\1/p' "$manifest")
        printf '%-16s %s\n' "$name" "$question"
    done

# Run a case (or `all` at quick size, then a summary); extra flags go to the case, e.g. --quick, --help
[group('cases')]
[no-exit-message]
run case *flags:
    #!/usr/bin/env bash
    set -euo pipefail
    case_name="$1"; shift
    cases=$(ls crates)
    # Reports go where the binaries put them: cargo's target directory, wherever it is.
    reports_dir="${CARGO_TARGET_DIR:-target}/casebook"
    if [ "$case_name" = all ]; then
        # Only the harness's own options mean the same to every case; a case's option would
        # make the others exit 2, and --json would make them all write one file.
        preset=(--preset quick)
        passed=()
        while [ $# -gt 0 ]; do
            case "$1" in
                --repeat|--timeout) passed+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
                --repeat=*|--timeout=*|--no-progress) passed+=("$1"); shift ;;
                --preset) preset=("$1" "${2:?--preset needs a value}"); shift 2 ;;
                --preset=*) preset=("$1"); shift ;;
                --quick|--full) preset=("$1"); shift ;;
                *) echo "error: \`just run all\` passes only the harness's options to every case (--preset, --quick, --full, --repeat, --timeout, --no-progress), not '$1': run that case alone with \`just run <case> $1\`" >&2; exit 2 ;;
            esac
        done
        reports=()
        for c in $cases; do
            echo "== $c" >&2
            cargo run --quiet --release -p "$c" -- "${preset[@]}" ${passed[@]+"${passed[@]}"} --json "$reports_dir/$c.json"
            reports+=("$reports_dir/$c.json")
        done
        cargo run --quiet --release -p casebook --bin casebook -- summary "${reports[@]}"
    elif [ -d "crates/$case_name" ]; then
        cargo build --release -p "$case_name"
        exec "${CARGO_TARGET_DIR:-target}/release/$case_name" "$@"
    else
        echo "error: unknown case '$case_name'; valid cases: all, $(echo $cases | sed 's/ /, /g')" >&2
        exit 2
    fi

# Print the one-screen summary of the reports already in target/casebook
[group('cases')]
summary:
    cargo run --quiet --release -p casebook --bin casebook -- summary

# Everything CI checks: formatting, clippy (warnings denied), all tests, the scaffold, a quick run of every case
[group('dev')]
test: fmt-check clippy unit-tests check-new
    just run all

# Check formatting
[group('dev')]
fmt-check:
    cargo fmt --all --check

# Lint every crate and test, warnings denied
[group('dev')]
clippy:
    cargo clippy --workspace --all-targets --quiet -- -D warnings

# Run the test suites of the harness and every case
[group('dev')]
unit-tests:
    cargo test --workspace --quiet

# Scaffold a new case crate from templates/case: `just new my-case`
[group('dev')]
[no-exit-message]
new name:
    #!/usr/bin/env bash
    set -euo pipefail
    name="$1"
    if ! [[ "$name" =~ ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ ]]; then
        echo "error: a case name is lowercase words joined by hyphens, e.g. my-case (got '$name')" >&2
        exit 2
    fi
    if [ -e "crates/$name" ] || [ "$name" = casebook ] || [ "$name" = all ]; then
        echo "error: '$name' is taken" >&2
        exit 2
    fi
    type_name=$(echo "$name" | sed -E 's/(^|-)([a-z0-9])/\U\2/g')
    crate_name=$(echo "$name" | tr - _)
    staging=$(mktemp -d)
    trap 'rm -rf "$staging"' EXIT
    cp -r templates/case/. "$staging/"
    find "$staging" -type f -name '*.tmpl' | while read -r file; do
        sed -e "s/__CASE_NAME__/$name/g" -e "s/__CASE_TYPE__/$type_name/g" -e "s/__CRATE_NAME__/$crate_name/g" "$file" > "${file%.tmpl}"
        rm "$file"
    done
    mkdir -p crates
    mv "$staging" "crates/$name"
    trap - EXIT
    echo "created crates/$name: edit src/lib.rs, then \`just run $name --quick\`; see docs/src/adding-a-case.md"

# Prove the scaffold works: create a throwaway case, test and run it, remove it
[group('dev')]
check-new:
    #!/usr/bin/env bash
    set -euo pipefail
    # Remove the crate, then let cargo drop it from Cargo.lock again.
    trap 'rm -rf crates/scaffold-check "${CARGO_TARGET_DIR:-target}/casebook/scaffold-check.json"; cargo metadata --format-version 1 --offline > /dev/null 2>&1 || true' EXIT
    just new scaffold-check
    just list | grep '^scaffold-check ' > /dev/null
    cargo test --quiet -p scaffold-check
    # A debug run: building the release harness while the throwaway crate dirties Cargo.lock
    # would stamp every later release report with a "-dirty" commit.
    cargo run --quiet -p scaffold-check -- --quick --no-progress --json "${CARGO_TARGET_DIR:-target}/casebook/scaffold-check.json" > /dev/null

# Speed target, measured side by side: rayon must reach 0.85 x cores over sequential on Mandelbrot (default size)
[group('bench')]
bench:
    cargo run --quiet --release -p parallel-math -- --workload mandelbrot --variants sequential,rayon --no-sweep --min-efficiency 0.85 --json "${CARGO_TARGET_DIR:-target}/casebook/bench-efficiency.json"

# Regenerate a case's results page and plots (default size) and the claims table from real runs: `just report parallel-math`
[group('docs')]
[no-exit-message]
report case='all':
    #!/usr/bin/env bash
    set -euo pipefail
    if [ "$1" = all ]; then cases=$(ls crates); else cases="$1"; fi
    reports_dir="${CARGO_TARGET_DIR:-target}/casebook"
    mkdir -p docs/src/results
    for c in $cases; do
        [ -d "crates/$c" ] || { echo "error: unknown case '$c'; valid cases: $(ls crates | tr '\n' ' ')" >&2; exit 2; }
        cargo run --quiet --release -p "$c" -- --no-progress --format markdown --plots docs/src/results --json "$reports_dir/$c.json" > "docs/src/results/$c.md.tmp"
        mv "docs/src/results/$c.md.tmp" "docs/src/results/$c.md"
        echo "wrote docs/src/results/$c.md" >&2
    done
    reports=$(ls crates | sed "s#.*#$reports_dir/&.json#" | while read -r f; do [ -f "$f" ] && echo "$f"; done)
    cargo run --quiet --release -p casebook --bin casebook -- claims $reports > docs/src/results/claims.md.tmp
    mv docs/src/results/claims.md.tmp docs/src/results/claims.md

# Build the book into docs/book (installs mdbook if missing)
[group('docs')]
docs:
    command -v mdbook >/dev/null || cargo install --locked mdbook
    mdbook build docs
