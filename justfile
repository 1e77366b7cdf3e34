# casebook: threads or async, settled by measurement.
# `just` alone lists the recipes. Every recipe is one call of the `casebook` tool
# (shared/src/tool), so `cargo run -p casebook -- <recipe>` works without `just`.

set positional-arguments
set shell := ["bash", "-euo", "pipefail", "-c"]

casebook := "cargo run --quiet --release -p casebook --bin casebook --"

# Show the recipes
default:
    @just --list --unsorted

# List every case with the question it answers
[group('cases')]
list:
    {{casebook}} list

# Run a case with its flags (`just run parallel-math --quick`), or `all` at quick size then a summary
[group('cases')]
[no-exit-message]
run case *flags:
    {{casebook}} run "$@"

# One screen over the reports already in target/casebook
[group('cases')]
summary:
    {{casebook}} summary

# Which workload shape suits which model, from this machine's reports: `just advise --cpu-us 200 --wait-us 5000 --in-flight 1000`
[group('cases')]
[no-exit-message]
advise *flags:
    {{casebook}} advise "$@"

# Two sets of reports side by side, flips marked: `just compare target/casebook docs/src/results/<set>`
[group('cases')]
[no-exit-message]
compare a b *flags:
    {{casebook}} compare "$@"

# Instructions per measured run of each variant under callgrind, each alone at quick size: `just profile file-pipeline --variants threads,hybrid` (`--book` files it in the book)
[group('cases')]
[no-exit-message]
profile case *flags:
    {{casebook}} profile "$@"

# Everything CI checks: formatting, clippy (warnings denied), every test, the scaffold
[group('dev')]
test: fmt-check clippy unit-tests check-new

# Check formatting
[group('dev')]
fmt-check:
    cargo fmt --all --check

# Lint every crate and test, warnings denied
[group('dev')]
clippy:
    cargo clippy --workspace --all-targets --quiet -- -D warnings

# Run the test suites of the harness and every case (each case's end-to-end runs included)
[group('dev')]
unit-tests:
    cargo test --workspace --quiet

# Run the cases N times in a new order each time, and every variant alone: `just soak 3`
[group('dev')]
[no-exit-message]
soak *args:
    {{casebook}} soak "$@"

# Scaffold a new case crate from templates/case: `just new my-case`
[group('dev')]
[no-exit-message]
new name:
    {{casebook}} new "$1"

# Prove the scaffold works: create a throwaway case, test and run it, remove it
[group('dev')]
check-new:
    cargo run --quiet -p casebook --bin casebook -- check-new

# Speed target, measured side by side: rayon must reach 0.85 x cores over sequential on Mandelbrot (default size)
[group('bench')]
bench:
    {{casebook}} run parallel-math --workload mandelbrot --variants sequential,rayon --no-sweep --min-efficiency 0.85 --json target/casebook/bench-efficiency.json

# Measure cases on this machine into docs/src/results/<machine> and regenerate the pages: `just report` or `just report db-queries`
[group('docs')]
[no-exit-message]
report *args:
    {{casebook}} report "$@"

# Regenerate the results pages from the sets in docs/src/results, then build the book into docs/book
[group('docs')]
docs:
    {{casebook}} pages && (command -v mdbook >/dev/null || cargo install --locked mdbook) && mdbook build docs
