#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine as on a developer's:
#   1. installs the Debian packages the tests use as real peers, if missing;
#   2. starts a throwaway PostgreSQL cluster on 127.0.0.1;
#   3. runs `go test -race ./...` with MSSANTED_TEST_PG_DSN set, so that
#      every store conformance suite runs on SQLite and on PostgreSQL;
#   4. stops the cluster, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

packages=(postgresql openssl ca-certificates swaks libnet-ssleay-perl postfix python3 isync poppler-utils chromium fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "test.sh: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

pgdir=$(mktemp -d /tmp/mssanted-pg.XXXXXX)
port=${MSSANTED_TEST_PG_PORT:-$((20000 + RANDOM % 20000))}
cleanup() { scripts/pg.sh stop "$pgdir" || true; rm -rf "$pgdir"; }
trap cleanup EXIT
MSSANTED_TEST_PG_DSN=$(scripts/pg.sh start "$pgdir" "$port")
export MSSANTED_TEST_PG_DSN
echo "test.sh: PostgreSQL at $MSSANTED_TEST_PG_DSN" >&2

log=${MSSANTED_TEST_LOG:-$(mktemp /tmp/mssanted-test.XXXXXX.log)}
echo "test.sh: go test -race ./... (full log: $log)" >&2
set +e
go test -race -count=1 -timeout 20m -v ./... >"$log" 2>&1
status=$?
set -e
# The verdict of every test and subtest, so the run shows each suite on
# sqlite and on postgres, then the package lines.
grep -E '^\s*--- (PASS|FAIL|SKIP)|^(ok|FAIL|panic)|^\s+\S+\.go:[0-9]+:|WARNING: DATA RACE' "$log" || true
if [ $status -ne 0 ]; then
	echo "test.sh: FAILED (exit $status); full log in $log" >&2
	exit $status
fi
echo "test.sh: all tests passed" >&2
