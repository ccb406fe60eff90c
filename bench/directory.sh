#!/usr/bin/env bash
# bench/directory.sh - the directory benchmark: import time and peak memory
# of a national directory extract (535,000 lines), then pharmacy search
# latency (p50/p99) on it, SQLite and PostgreSQL side by side. See
# bench/README.md, "Directory search".
#
#   bench/directory.sh                     # 20,000 pharmacies + 515,000 other mailboxes, 3,500 queries
#   bench/directory.sh --quick             # 2,000 pharmacies + 50,000 others, 700 queries
#   bench/directory.sh --no-pg             # SQLite only
#   bench/directory.sh --help
#
# PostgreSQL comes from MSSANTED_TEST_PG_DSN, as for the tests (without it,
# or with "off", the PostgreSQL half is skipped and says so). The script
# works in a schema of its own, dropped on exit. No server is started: the
# import runs through `mssanted directory import`, the searches in-process
# through `dirgen bench` (directory.Store.SearchPharmacies, one at a time).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PHARMACIES=20000 PROFESSIONALS=500000 ORGANISATIONS=14500 APPLICATIONS=500 QUERIES=3500 OUT="" PG=1 SEED=1

usage() {
	cat <<EOF
usage: $0 [options]
  --quick              2,000 pharmacies, 50,000 other mailboxes, 700 queries
  --pharmacies N       pharmacy mailboxes in the extract (default $PHARMACIES)
  --professionals N    personal mailboxes (default $PROFESSIONALS)
  --queries N          searches per backend (default $QUERIES; a multiple of 7 keeps the classes even)
  --seed N             extract seed (default $SEED)
  --no-pg              SQLite only
  --out DIR            work directory (default: a new /tmp/mssanted-dirbench.* directory)
EOF
}

while (($#)); do
	case $1 in
	--quick) PHARMACIES=2000 PROFESSIONALS=48000 ORGANISATIONS=1900 APPLICATIONS=100 QUERIES=700 ;;
	--pharmacies) PHARMACIES=$2; shift ;;
	--professionals) PROFESSIONALS=$2; shift ;;
	--queries) QUERIES=$2; shift ;;
	--seed) SEED=$2; shift ;;
	--no-pg) PG=0 ;;
	--out) OUT=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

DSN=${MSSANTED_TEST_PG_DSN:-}
if [[ $PG == 1 && ( -z $DSN || $DSN == off ) ]]; then
	echo "MSSANTED_TEST_PG_DSN is not set: PostgreSQL half skipped" >&2
	PG=0
fi
if [[ $PG == 1 ]] && ! command -v psql >/dev/null; then
	echo "psql not found: PostgreSQL half skipped" >&2
	PG=0
fi
OUT=${OUT:-$(mktemp -d /tmp/mssanted-dirbench.XXXXXX)}
mkdir -p "$OUT/bin"
SCHEMA=mssanted_dirbench_$$
cleanup() {
	if [[ $PG == 1 ]]; then
		psql -q "$DSN" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

echo "== building into $OUT/bin"
(cd "$ROOT" && go build -o "$OUT/bin/mssanted" ./cmd/mssanted && go build -o "$OUT/bin/dirgen" ./bench/dirgen)
MSS=$OUT/bin/mssanted DIRGEN=$OUT/bin/dirgen
EXTRACT=$OUT/Extraction_Correspondance_MSSante_$(date -u +%Y%m%d%H%M).txt

echo "== generating $EXTRACT"
"$DIRGEN" extract -seed "$SEED" -pharmacies "$PHARMACIES" -professionals "$PROFESSIONALS" \
	-organisations "$ORGANISATIONS" -applications "$APPLICATIONS" -o "$EXTRACT"
LINES=$(($(wc -l <"$EXTRACT") - 1))
echo "   $LINES lines, $(($(stat -c %s "$EXTRACT") / 1000000)) MB"

# timed_import DATA LABEL: runs the import, appends "label wall_s rss_mib" to $OUT/import.tsv
timed_import() {
	local data=$1 label=$2 log=$OUT/import-$2.log
	if [[ -x /usr/bin/time ]]; then
		/usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$MSS" directory import --quiet --data "$data" "$EXTRACT" >"$log"
		read -r wall kb <"$OUT/time.txt"
		echo -e "$label\t$wall\t$((kb / 1024))" >>"$OUT/import.tsv"
	else
		"$MSS" directory import --quiet --data "$data" "$EXTRACT" >"$log"
		wall=$(sed -n 's/.* in \([0-9.]*\)s$/\1/p' "$log" | head -1)
		rss=$(sed -n 's/.*max RSS): \([0-9]*\) MiB/\1/p' "$log")
		echo -e "$label\t$wall\t$rss" >>"$OUT/import.tsv"
	fi
	sed 's/^/   /' "$log"
}

: >"$OUT/import.tsv"
: >"$OUT/search.tsv"
run_backend() {
	local backend=$1 data=$OUT/data-$1
	shift
	echo "== $backend: init, import, re-import (replaces the source), $QUERIES searches"
	rm -rf "$data"
	"$MSS" init --data "$data" --domain bench.example --patient-domain patient.bench.example "$@" >/dev/null
	timed_import "$data" "$backend-import"
	timed_import "$data" "$backend-reimport"
	if [[ $backend == sqlite ]]; then
		echo "   database file: $(($(stat -c %s "$data/mssanted.db") / 1000000)) MB"
		"$DIRGEN" bench -data "$data" -extract "$EXTRACT" -queries "$QUERIES" -label "$backend" -tsv "$OUT/search.tsv" -slow 3
	else
		"$DIRGEN" bench -dsn "$PGDSN" -extract "$EXTRACT" -queries "$QUERIES" -label "$backend" -tsv "$OUT/search.tsv" -slow 3
	fi
}

run_backend sqlite
if [[ $PG == 1 ]]; then
	psql -q "$DSN" -c "CREATE SCHEMA $SCHEMA"
	case $DSN in
	*\?*) PGDSN="$DSN&search_path=$SCHEMA" ;;
	postgres://* | postgresql://*) PGDSN="$DSN?search_path=$SCHEMA" ;;
	*) PGDSN="$DSN search_path=$SCHEMA" ;;
	esac
	run_backend postgres --dsn "$PGDSN"
fi

echo
echo "== $LINES lines ($PHARMACIES pharmacies), $QUERIES pharmacy searches per backend, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| backend | import s | re-import s | import peak RSS MiB | search p50 ms | search p99 ms |"
echo "|---|---|---|---|---|---|"
for b in sqlite postgres; do
	imp=$(awk -F'\t' -v l="$b-import" '$1 == l {print $2}' "$OUT/import.tsv")
	[[ -z $imp ]] && continue
	re=$(awk -F'\t' -v l="$b-reimport" '$1 == l {print $2}' "$OUT/import.tsv")
	rss=$(awk -F'\t' -v l="$b-import" '$1 == l {print $3}' "$OUT/import.tsv")
	p=$(awk -F'\t' -v b="$b" '$1 == b && $2 == "all" {print $4 " | " $5}' "$OUT/search.tsv")
	echo "| $b | $imp | $re | $rss | $p |"
done
echo
echo "| query class | sqlite p50 / p99 ms | postgres p50 / p99 ms | avg results |"
echo "|---|---|---|---|"
for c in $(awk -F'\t' '$2 != "all" {print $2}' "$OUT/search.tsv" | sort -u); do
	s=$(awk -F'\t' -v c="$c" '$1 == "sqlite" && $2 == c {print $4 " / " $5}' "$OUT/search.tsv")
	p=$(awk -F'\t' -v c="$c" '$1 == "postgres" && $2 == c {print $4 " / " $5}' "$OUT/search.tsv")
	h=$(awk -F'\t' -v c="$c" '$2 == c {print $7; exit}' "$OUT/search.tsv")
	echo "| $c | $s | ${p:--} | $h |"
done
echo
echo "results in $OUT (import-*.log, import.tsv, search.tsv)"
