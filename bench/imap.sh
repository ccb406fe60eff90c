#!/usr/bin/env bash
# bench/imap.sh - IMAP benchmark of mssanted against Dovecot (the reference
# stack of ../shared/bench-peers), in one run, with one load generator
# (bench/imapload) for both. See bench/README.md.
#
#   sudo bench/imap.sh                 # 100,000 messages, 2,000 IDLE connections
#   sudo bench/imap.sh --quick         # 10,000 messages, 200 IDLE connections
#   bench/imap.sh --help
#
# Everything listens on and talks to 127.0.0.1 only. Every server this script
# starts (mssanted, the reference Postfix+Dovecot via ref.sh) is stopped again
# when it exits, also on error or Ctrl-C; processes are stopped by PID. The
# reference stack comes from ../shared/bench-peers (setup.sh, ref.sh), which
# this script calls by path and never copies.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# PEERS, PB, DOMAIN, NUSERS, REF_PORTS, the OUR_* addresses and the helpers.
source "$HERE/lib.sh"
REF_PASS=pass # bench-peers' PB_PASS
REF_IMAP=127.0.0.1:1143

MSGS=100000 APPEND_N=10000 REF_FILL=import IDLE_CONNS=2000 CONNS=4 FETCH_TIME=15 SEARCH_TIMEOUT=90 SEARCH_SLOW_REPS=3 SELECT_REPS=20
TARGETS=ours,ref OUT="" BIN="" WAIT_IDLE=0 OUR_TLS=implicit PERF=0

usage() {
	cat <<EOF
usage: $0 [options]   (run as root)
  --quick              --msgs 10000 --append-n 3000 --idle-conns 200
  --msgs N             messages in the big mailbox (default $MSGS)
  --append-n K         APPEND throughput is measured on both over the first K messages
                       (default $APPEND_N); the rest goes to mssanted by APPEND too
                       (reported as fill_rest) and to Dovecot as set by --ref-fill
  --ref-fill MODE      import (default): write the rest into Dovecot's maildir directly;
                       append: APPEND it (Dovecot maildir re-reads its whole uidlist per
                       APPEND: 100k messages take about an hour)
  --idle-conns M       IDLE connections (default $IDLE_CONNS)
  --conns C            concurrent APPEND connections (default $CONNS)
  --select-reps K      SELECT repetitions (default $SELECT_REPS)
  --fetch-time SECS    length of the random-FETCH run (default $FETCH_TIME)
  --search-timeout S   cap of one SEARCH (default $SEARCH_TIMEOUT)
  --search-slow-reps R repetitions of SEARCH HEADER Subject and BODY (default $SEARCH_SLOW_REPS)
  --our-tls MODE       implicit (IMAPS, default) or starttls
  --targets LIST       subset of ours,ref (default both)
  --perf               also record 'perf record -g' of mssanted during its fill and read phases
  --wait-idle SECS     first wait up to SECS for the 1-min load average to drop below 0.5
  --out DIR            results directory (default: a new /tmp/mssanted-imapbench.* directory)
  --mssanted-bin F     use this mssanted binary instead of building ./cmd/mssanted
Needs ../shared/bench-peers (or BENCH_PEERS=DIR): its setup.sh is run when
the reference stack is not configured yet (installs postfix and dovecot).
EOF
}

while (($#)); do
	case $1 in
	--quick) MSGS=10000 APPEND_N=3000 IDLE_CONNS=200 ;;
	--msgs) MSGS=$2; shift ;;
	--append-n) APPEND_N=$2; shift ;;
	--ref-fill) REF_FILL=$2; shift ;;
	--idle-conns) IDLE_CONNS=$2; shift ;;
	--conns) CONNS=$2; shift ;;
	--select-reps) SELECT_REPS=$2; shift ;;
	--fetch-time) FETCH_TIME=$2; shift ;;
	--search-timeout) SEARCH_TIMEOUT=$2; shift ;;
	--search-slow-reps) SEARCH_SLOW_REPS=$2; shift ;;
	--our-tls) OUR_TLS=$2; shift ;;
	--targets) TARGETS=$2; shift ;;
	--perf) PERF=1 ;;
	--wait-idle) WAIT_IDLE=$2; shift ;;
	--out) OUT=$2; shift ;;
	--mssanted-bin) BIN=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

log() { printf '[imapbench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for v in MSGS APPEND_N IDLE_CONNS CONNS SELECT_REPS FETCH_TIME SEARCH_TIMEOUT SEARCH_SLOW_REPS WAIT_IDLE; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} must be a number"
done
((MSGS >= 1 && MSGS <= 1000000)) || die "--msgs must be 1..1000000"
((IDLE_CONNS >= 1 && IDLE_CONNS <= 20000)) || die "--idle-conns must be 1..20000"
((CONNS >= 1 && CONNS <= 64)) || die "--conns must be 1..64"
((FETCH_TIME >= 1 && FETCH_TIME <= 600 && SEARCH_TIMEOUT >= 1 && SEARCH_TIMEOUT <= 3600)) || die "--fetch-time or --search-timeout out of range"
((WAIT_IDLE <= 3600)) || die "--wait-idle is at most 3600"
[[ $OUR_TLS == implicit || $OUR_TLS == starttls ]] || die "--our-tls must be implicit or starttls"
[[ $REF_FILL == import || $REF_FILL == append ]] || die "--ref-fill must be import or append"
((APPEND_N >= 1 && APPEND_N <= MSGS)) || APPEND_N=$MSGS
IFS=',' read -r -a TARGET_LIST <<<"$TARGETS"
for t in "${TARGET_LIST[@]}"; do
	case $t in ours | ref) ;; *) die "unknown target '$t' (ours, ref)" ;; esac
done
want() { [[ ",$TARGETS," == *",$1,"* ]]; }

[[ $(id -u) -eq 0 ]] || die "run as root (the reference stack needs it)"
if want ref; then
	[[ -x $PEERS/setup.sh && -x $PEERS/ref.sh ]] ||
		die "reference harness not found at $PEERS (expected ../shared/bench-peers next to the project, or set BENCH_PEERS=DIR)"
fi
command -v go >/dev/null || die "go not found"
if ((PERF)); then command -v perf >/dev/null || die "--perf: perf not found"; fi

# 2,000 IDLE connections: imapload holds one descriptor per connection, and
# the servers (Dovecot's master inherits this limit through ref.sh) as many.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) >= IDLE_CONNS + 1000)) || die "ulimit -n is $(ulimit -n), too low for $IDLE_CONNS connections"

# ------------------------------------------------------------------ state and cleanup
WORK=$(mktemp -d /tmp/mssanted-imapbench.XXXXXX)
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TSV=$OUT/imap.tsv
rm -f "$TSV"
OURS_PID="" STARTED_REF=0 LOAD_PID="" PERF_PID=""

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if alive "$LOAD_PID"; then kill "$LOAD_PID" 2>/dev/null || true; fi
	stop_pid "$PERF_PID" perf INT
	stop_pid "$OURS_PID" mssanted
	if ((STARTED_REF)); then
		"$PEERS/ref.sh" stop >>"$OUT/ref.log" 2>&1 || log "ref.sh stop failed, see $OUT/ref.log"
		# The 100k-message maildir is ours to remove (the reference stack empties it before every run anyway).
		rm -rf "${MAILDIRS:?}"
	fi
	rm -rf "$WORK/data" "$WORK/bin" "$WORK/bench.pass" "$WORK/ref.pass"
	rmdir "$WORK" 2>/dev/null || true # empty unless the results are inside
	((rc == 0)) || log "failed (exit $rc); logs in $OUT"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ wait for a quiet machine
if ((WAIT_IDLE > 0)); then wait_quiet "$WAIT_IDLE"; fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
CPU0=$(cpu_sample)
T_START=$(date +%s)
LOADS=() # load average at the start of every step

# ------------------------------------------------------------------ build
MSSANTED=$WORK/bin/mssanted
mkdir -p "$WORK/bin"
if ! want ours; then
	: # no mssanted needed
elif [[ -n $BIN ]]; then
	[[ -x $BIN ]] || die "--mssanted-bin $BIN is not executable"
	cp "$BIN" "$MSSANTED"
else
	log "building mssanted"
	(cd "$ROOT" && go build -o "$MSSANTED" ./cmd/mssanted) || die "building ./cmd/mssanted failed (use --mssanted-bin)"
fi
log "building imapload"
(cd "$ROOT" && go build -o "$WORK/bin/imapload" ./bench/imapload) || die "building ./bench/imapload failed"
LOAD=$WORK/bin/imapload

# ------------------------------------------------------------------ reference stack
MAILDIRS=$PB/mail/$DOMAIN
if want ref; then
	if [[ ! -f $PB/postfix/etc/main.cf || ! -f $PB/dovecot/dovecot.conf || ! -x $PB/bin/pbtool ]] || ! command -v dovecot >/dev/null; then
		log "reference stack not set up: running $PEERS/setup.sh (log: $OUT/setup.log)"
		"$PEERS/setup.sh" >"$OUT/setup.log" 2>&1 || die "setup.sh failed, see $OUT/setup.log"
	fi
	ref_free
	printf '%s\n' "$REF_PASS" >"$WORK/ref.pass"
	REF_LOG0=$(wc -l <"$PB/log/dovecot.log" 2>/dev/null || echo 0)
fi
if want ours; then ours_free; fi
# Room for two copies of the mailbox (~7.2 KB a message) and the indexes.
need_mb=$((MSGS * 30 / 1000 + 500))
avail_mb=$(df -Pm /tmp | awk 'NR==2 {print $4}')
((avail_mb > need_mb)) || die "/tmp has ${avail_mb} MB free, this run needs about ${need_mb} MB"

# ref_start [wipe]: stop the reference stack, optionally empty the maildirs, start it.
ref_start() {
	if ((STARTED_REF)); then "$PEERS/ref.sh" stop >>"$OUT/ref.log" 2>&1 || die "ref.sh stop failed, see $OUT/ref.log"; fi
	if [[ ${1:-} == wipe ]]; then rm -rf "${MAILDIRS:?}"; fi
	sync
	STARTED_REF=1
	"$PEERS/ref.sh" start >>"$OUT/ref.log" 2>&1 || die "ref.sh start failed, see $OUT/ref.log"
	wait_listening "$REF_IMAP" 15 || die "reference dovecot not listening on $REF_IMAP"
}

# ------------------------------------------------------------------ mssanted data
if want ours; then
	D=$WORK/data
	log "creating the mssanted data directory ($NUSERS users)"
	mssanted_init "$D"
fi

ours_start() { # NAME: serve the data directory (kept between starts)
	"$MSSANTED" serve --data "$WORK/data" --smtp-mx "$OUR_MX" --smtp-submission "$OUR_SUB" --smtp-submissions "$OUR_SUBS" \
		--imap "$OUR_IMAP" --imaps "$OUR_IMAPS" --http "$OUR_HTTP" --metrics "$OUR_METRICS" \
		</dev/null >>"$OUT/mssanted.$1.log" 2>&1 &
	OURS_PID=$!
	wait_listening "$OUR_IMAPS" 30 || die "mssanted did not start listening on $OUR_IMAPS, see $OUT/mssanted.$1.log"
}
ours_stop() {
	stop_pid "$OURS_PID" mssanted
	OURS_PID=""
}

# ------------------------------------------------------------------ measurements
# load TARGET STEP ARGS...: one imapload run (phases in ARGS) against a target.
load() {
	local t=$1 step=$2 args=()
	shift 2
	case $t in
	ours)
		local addr=$OUR_IMAPS
		[[ $OUR_TLS == starttls ]] && addr=$OUR_IMAP
		args=(-label mssanted -addr "$addr" -tls "$OUR_TLS" -ca "$WORK/data/pki/ca.pem" -server-name "$HOSTNAME_OURS"
			-pass-file "$WORK/bench.pass" -watch "mssanted=$OURS_PID" -metrics "$OUR_METRICS") ;;
	ref) args=(-label dovecot -addr "$REF_IMAP" -tls none -pass-file "$WORK/ref.pass" -watch "dovecot=$(dc_pid)") ;;
	esac
	args+=(-user "user0@$DOMAIN" -n "$MSGS" -conns "$CONNS" -select-reps "$SELECT_REPS" -fetch-time "${FETCH_TIME}s"
		-search-timeout "${SEARCH_TIMEOUT}s" -search-slow-reps "$SEARCH_SLOW_REPS" -idle-conns "$IDLE_CONNS"
		-tsv "$TSV" -cpuprofile "$OUT/imapload.$t.$step.pprof" "$@")
	{ printf 'imapload'; printf ' %q' "${args[@]}"; echo; } >>"$OUT/commands.log"
	LOADS+=("$step/$t: $(cut -d' ' -f1 /proc/loadavg)")
	log "$t: $step (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	if ((PERF)) && [[ $t == ours && $step != idle ]]; then
		perf record -g -F 499 -p "$OURS_PID" -o "$OUT/perf.ours.$step.data" >>"$OUT/perf.log" 2>&1 &
		PERF_PID=$!
	fi
	"$LOAD" "${args[@]}" >>"$OUT/imapload.$t.$step.out" 2>>"$OUT/imapload.log" &
	LOAD_PID=$!
	local rc=0
	wait "$LOAD_PID" || rc=$?
	LOAD_PID=""
	if [[ -n $PERF_PID ]]; then
		stop_pid "$PERF_PID" perf INT
		PERF_PID=""
		perf report -i "$OUT/perf.ours.$step.data" --children --sort symbol -g none --stdio 2>/dev/null |
			grep -v '^#' | grep '%' | head -n 80 >"$OUT/perf.ours.$step.txt" || true
	fi
	((rc == 0)) || die "imapload failed against $t ($step), see $OUT/imapload.log"
}

# store_row TARGET PHASE METRIC MB NOTE: a row measured by this script.
store_row() {
	printf '%s\t%s\t%s\t%s\tMB\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$TSV"
}

if want ours; then
	log "starting mssanted on $OUR_IMAPS (imaps) and $OUR_IMAP"
	ours_start fill
fi
if want ref; then
	log "starting the reference stack (ref.sh start), empty maildirs"
	ref_start wipe
fi

# 1. fill (the same messages into both), then the size of each store.
for t in ours ref; do
	want "$t" || continue
	extra=()
	if [[ $t == ref && $REF_FILL == import ]]; then
		extra=(-maildir "$MAILDIRS/user0/Maildir" -maildir-owner "$(stat -c %u:%g "$PB/mail")")
	fi
	fill_timeout=60m
	[[ $REF_FILL == append ]] && fill_timeout=180m # Dovecot maildir APPEND slows down as the folder grows
	load "$t" fill -phases fill -fill-timeout "$fill_timeout" -append-n "$APPEND_N" "${extra[@]}"
done
sync
if want ours; then
	store_row mssanted fill store_size "$(du -sm "$WORK/data" | cut -f1)" "du of the data directory (SQLite + blobs)"
fi
if want ref; then
	store_row dovecot fill store_size "$(du -sm "$MAILDIRS" | cut -f1)" "du of the maildirs (messages + dovecot indexes)"
fi

# 2. SELECT, FETCH, full sync, SEARCH.
for t in ours ref; do
	want "$t" || continue
	sync
	load "$t" read -phases select,fetch,sync,search
done

# 3. IDLE: every server freshly restarted (same data), so that memory left
# over from the read phases does not hide or inflate the per-connection cost.
if want ours; then ours_stop; ours_start idle; fi
if want ref; then ref_start; fi
sleep 3
for t in ours ref; do
	want "$t" || continue
	load "$t" idle -phases idle
done
if want ref; then
	# What limited Dovecot, if anything: its process limits and log lines.
	{
		echo "doveconf (effective limits of the bench-peers configuration):"
		doveconf -c "$PB/dovecot/dovecot.conf" -a 2>/dev/null |
			awk '/^service (imap|imap-login|anvil|auth) \{/{s=$2} /^}/{s=""} s && /(process|client)_limit|service_count/ {print "  " s "/" $1 " = " $3}
			/^(default_process_limit|default_client_limit) / {print "  " $0}'
		echo "  protocol imap/mail_max_userip_connections = $(doveconf -c "$PB/dovecot/dovecot.conf" -f protocol=imap -h mail_max_userip_connections 2>/dev/null)"
		echo "dovecot.log lines about limits during this run:"
		tail -n "+$((REF_LOG0 + 1))" "$PB/log/dovecot.log" 2>/dev/null | sed -E "s/^[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} //; s/[0-9]+/N/g" | grep -E 'process_limit|client_limit|Too many|max_userip|fd limit|ulimit|Error' |
			sort | uniq -c | sort -rn | head -n 20 | sed 's/^/  /'
	} >"$OUT/dovecot-limits.txt" 2>&1 || true
fi

# ------------------------------------------------------------------ report
read -r b1 i1 s1 <<<"$CPU0"
read -r b2 i2 s2 <<<"$(cpu_sample)"
ELAPSED=$(($(date +%s) - T_START))
{
	echo "IMAP benchmark, $(date -Is)"
	echo "machine: $(nproc) cpus ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), kernel $(uname -r); state on $(df -T /tmp | awk 'NR==2 {print $2" "$1}')"
	echo "software: $("$MSSANTED" version 2>/dev/null | head -1 || echo "mssanted -"), $(go version | cut -d' ' -f3), dovecot $(dovecot --version 2>/dev/null | cut -d' ' -f1 || echo -)"
	echo "params: msgs=$MSGS append_n=$APPEND_N (dovecot rest: $REF_FILL) append_conns=$CONNS select_reps=$SELECT_REPS fetch_time=${FETCH_TIME}s search_cap=${SEARCH_TIMEOUT}s idle_conns=$IDLE_CONNS; mssanted over $OUR_TLS TLS, dovecot plain LOGIN"
	echo "load average: start $LOAD_START, end $(cut -d' ' -f1-3 /proc/loadavg); at each step: ${LOADS[*]}"
	echo "whole-machine cpu over the run: $(awk -v b="$((b2 - b1))" -v i="$((i2 - i1))" -v s="$((s2 - s1))" 'BEGIN { t = b + i + s; if (t > 0) printf "busy %.0f%%, steal %.1f%%", 100*b/t, 100*s/t }')"
	echo "elapsed: ${ELAPSED}s"
	echo
	"$LOAD" report -in "$TSV"
	cat <<'EOF'

advantage = how many times better mssanted is than dovecot on that line (> 1: mssanted better;
throughput: ours/ref, latency, CPU and memory: ref/ours). The same deterministic messages (4-10 KB,
30% multipart) go into user0's INBOX of both: append_* = the first K by APPEND into the empty
mailbox over C connections on both; fill_rest_* = the rest by APPEND (mssanted); import_* = the
rest written straight into Dovecot's maildir (its APPEND re-reads the whole uidlist per message).
select: fresh connection + LOGIN, then SELECT timed; select_first = the first one after the fill
(Dovecot indexes the imported files there). fetch: random UID FETCH n (FLAGS BODY.PEEK[]);
sync: UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE); search: UID SEARCH, first run and
median; idle: connections spread over user1..9 (INBOX of 200 messages each), servers restarted
before, PSS of the whole server process tree. *_srv_cpu_ms_per_op: server CPU per APPEND /
(LOGIN+SELECT+LOGOUT) / FETCH / sync / SEARCH. mssanted pays TLS on every connection, dovecot
runs plain text (bench-peers has ssl = no).
EOF
	if [[ -s $OUT/dovecot-limits.txt ]]; then echo; cat "$OUT/dovecot-limits.txt"; fi
} | tee "$OUT/summary.txt"
"$LOAD" report -all -in "$TSV" >"$OUT/report-all.txt" 2>&1 || true
log "results in $OUT (imap.tsv, summary.txt, report-all.txt, logs, imapload CPU profiles)"
