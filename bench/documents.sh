#!/usr/bin/env bash
# Documents filed per second through the whole delivery (blob store,
# transaction, XDM/CDA reading, filing, notification): a letter with a 1 MB
# PDF and a letter with an IHE_XDM.ZIP of 3 documents, SQLite and
# PostgreSQL side by side in one run (dmp.BenchmarkFiling).
#
# PostgreSQL comes from MSSANTED_TEST_PG_DSN, as for the tests; without it
# a throwaway cluster is started with scripts/pg.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MSSANTED_TEST_PG_DSN:-}" ]; then
	pgdir=$(mktemp -d /tmp/mssanted-bench-pg.XXXXXX)
	trap 'scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"' EXIT
	MSSANTED_TEST_PG_DSN=$(scripts/pg.sh start "$pgdir" $((20000 + RANDOM % 20000)))
	export MSSANTED_TEST_PG_DSN
fi
go test -run '^$' -bench BenchmarkFiling -benchtime "${BENCHTIME:-3s}" ./dmp/ | grep -E 'Benchmark|docs/s'
