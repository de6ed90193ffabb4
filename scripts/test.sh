#!/usr/bin/env bash
# The whole test suite, as the README's Quick start runs it and as CI runs it.
# Installs what a fresh Debian machine with Rust lacks (rustfmt, clippy,
# redis-server, Node.js, Python's aiosmtpd, chromium), then runs format, lint, the Rust tests,
# the Node.js tests (Apollo Client over graphql-ws; the API contract check) and the
# browser tests of the web app (playwright-core driving Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

apt_updated=0
apt_install() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "scripts/test.sh: need root or sudo to install: $*" >&2; exit 1; }
        sudo="sudo"
    fi
    if [ "$apt_updated" -eq 0 ]; then
        $sudo apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

say "checking tools"
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
command -v redis-server >/dev/null || apt_install redis-server
command -v node >/dev/null || apt_install nodejs
command -v npm >/dev/null || apt_install npm
command -v chromium >/dev/null || apt_install chromium
python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install --quiet aiosmtpd
if [ -f ../shared/api/contract.graphql ] && ! cmp -s ../shared/api/contract.graphql tests/contract.graphql; then
    echo "!!! tests/contract.graphql differs from ../shared/api/contract.graphql: copy the new contract in" >&2
fi

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

# --workspace: the server and the load generator (load/), whose smoke test
# runs a few seconds of fan-out and asserts exactly-once delivery.
say "cargo test"
cargo test --workspace --all-targets --locked

say "Node.js tests (Apollo Client + graphql-ws, API contract)"
(cd tests/node && npm ci --no-audit --no-fund --silent)
cargo build --locked --quiet
(cd tests/node && REALTALK_BIN="$PWD/../../target/debug/realtalk" node --test)

say "Browser tests (the web app in chromium via playwright-core; screenshots in target/e2e-artifacts)"
(cd tests/e2e && npm ci --no-audit --no-fund --silent)
(cd tests/e2e && REALTALK_BIN="$PWD/../../target/debug/realtalk" node --test)
