#!/usr/bin/env bash
# bench/smtp.sh - SMTP benchmark of mssanted against Postfix->Dovecot (LMTP)
# and Postfix's smtp-sink, in one run, with one load generator
# (bench/smtpload) for the three targets. See bench/README.md.
#
#   sudo bench/smtp.sh                 # 2000 x 10 KiB and 200 x 1 MiB, 20 sessions
#   sudo bench/smtp.sh --quick         # 200 x 10 KiB and 20 x 1 MiB (~1 min)
#   sudo bench/smtp.sh --repeat 3      # every phase 3 times (interleaved), medians
#   bench/smtp.sh --help
#
# Everything listens on and talks to 127.0.0.1 only. Every server this script
# starts (mssanted, smtp-sink, the reference Postfix+Dovecot via ref.sh) is
# stopped again when it exits, also on error or Ctrl-C; processes are stopped
# by PID. The reference stack comes from ../shared/bench-peers (setup.sh,
# ref.sh), which this script calls by path and never copies.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# PEERS, PB, DOMAIN, NUSERS, REF_PORTS, the OUR_* addresses and the helpers.
source "$HERE/lib.sh"

SINK_ADDR=127.0.0.1:2526
REF_SMTP=127.0.0.1:2525

MSGS_SMALL=2000 MSGS_LARGE=200 SESSIONS=20 REPEAT=1 ONE_PER_CONN=0 OUT="" TARGETS=sink,ref,ours WAIT_IDLE=0 BIN=""
SMALL=10240 LARGE=1048576

usage() {
	cat <<EOF
usage: $0 [options]   (run as root)
  --quick            200 x 10 KiB and 20 x 1 MiB (smoke run)
  --msgs-small N     10 KiB messages per phase (default $MSGS_SMALL)
  --msgs-large N     1 MiB messages per phase (default $MSGS_LARGE)
  --sessions N       concurrent SMTP sessions (default $SESSIONS)
  --repeat N         run every phase N times, interleaved; the table shows medians (default 1)
  --one-per-conn     one message per connection (default: each session reuses its connection)
  --targets LIST     subset of sink,ref,ours (default all)
  --wait-idle SECS   first wait up to SECS for the 1-min load average to drop below 0.5
  --out DIR          results directory (default: a new /tmp/mssanted-smtpbench.* directory)
  --mssanted-bin F   use this mssanted binary instead of building ./cmd/mssanted
Needs ../shared/bench-peers (or BENCH_PEERS=DIR): its setup.sh is run when
the reference stack is not configured yet (installs postfix and dovecot).
EOF
}

while (($#)); do
	case $1 in
	--quick) MSGS_SMALL=200 MSGS_LARGE=20 ;;
	--msgs-small) MSGS_SMALL=$2; shift ;;
	--msgs-large) MSGS_LARGE=$2; shift ;;
	--sessions) SESSIONS=$2; shift ;;
	--repeat) REPEAT=$2; shift ;;
	--one-per-conn) ONE_PER_CONN=1 ;;
	--targets) TARGETS=$2; shift ;;
	--wait-idle) WAIT_IDLE=$2; shift ;;
	--out) OUT=$2; shift ;;
	--mssanted-bin) BIN=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

log() { printf '[smtpbench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for v in MSGS_SMALL MSGS_LARGE SESSIONS REPEAT WAIT_IDLE; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} must be a number"
done
((MSGS_SMALL >= 1 && MSGS_SMALL <= 1000000 && MSGS_LARGE >= 1 && MSGS_LARGE <= 100000)) || die "message counts out of range"
((SESSIONS >= 1 && SESSIONS <= 1000)) || die "--sessions must be 1..1000"
((REPEAT >= 1 && REPEAT <= 20)) || die "--repeat must be 1..20"
((WAIT_IDLE <= 3600)) || die "--wait-idle is at most 3600"
IFS=',' read -r -a TARGET_LIST <<<"$TARGETS"
for t in "${TARGET_LIST[@]}"; do
	case $t in sink | ref | ours) ;; *) die "unknown target '$t' (sink, ref, ours)" ;; esac
done
want() { [[ ",$TARGETS," == *",$1,"* ]]; }

[[ $(id -u) -eq 0 ]] || die "run as root (the reference stack and smtp-sink need it)"
if want ref || want sink; then
	[[ -x $PEERS/setup.sh && -x $PEERS/ref.sh ]] ||
		die "reference harness not found at $PEERS (expected ../shared/bench-peers next to the project, or set BENCH_PEERS=DIR)"
fi
command -v go >/dev/null || die "go not found"

# ------------------------------------------------------------------ state and cleanup
WORK=$(mktemp -d /tmp/mssanted-smtpbench.XXXXXX)
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TSV=$OUT/smtp.tsv
SMOKE_TSV=$OUT/smoke.tsv
rm -f "$TSV" "$SMOKE_TSV"
SINK_PID="" OURS_PID="" STARTED_REF=0 LOAD_PID=""

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if alive "$LOAD_PID"; then kill "$LOAD_PID" 2>/dev/null || true; fi
	stop_pid "$OURS_PID" mssanted
	stop_pid "$SINK_PID" smtp-sink
	if ((STARTED_REF)); then
		"$PEERS/ref.sh" stop >>"$OUT/ref.log" 2>&1 || log "ref.sh stop failed, see $OUT/ref.log"
	fi
	rm -rf "$WORK/data" "$WORK/template" "$WORK/bin" "$WORK/bench.pass"
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

# ------------------------------------------------------------------ build
MSSANTED=$WORK/bin/mssanted
if [[ -n $BIN ]]; then
	[[ -x $BIN ]] || die "--mssanted-bin $BIN is not executable"
	mkdir -p "$WORK/bin"
	cp "$BIN" "$MSSANTED"
else
	log "building mssanted"
	(cd "$ROOT" && go build -o "$MSSANTED" ./cmd/mssanted) || die "building ./cmd/mssanted failed"
fi
log "building smtpload"
(cd "$ROOT" && go build -o "$WORK/bin/smtpload" ./bench/smtpload) || die "building ./bench/smtpload failed"
LOAD=$WORK/bin/smtpload

# ------------------------------------------------------------------ reference stack
if want ref || want sink; then
	if [[ ! -f $PB/postfix/etc/main.cf || ! -f $PB/dovecot/dovecot.conf || ! -x $PB/bin/pbtool ]] ||
		! command -v smtp-sink >/dev/null || ! command -v dovecot >/dev/null; then
		log "reference stack not set up: running $PEERS/setup.sh (log: $OUT/setup.log)"
		"$PEERS/setup.sh" >"$OUT/setup.log" 2>&1 || die "setup.sh failed, see $OUT/setup.log"
	fi
fi
if want ref; then ref_free; fi
if want sink; then listening "$SINK_ADDR" && die "$SINK_ADDR is already in use"; fi
if want ours; then ours_free; fi

MAILDIRS=$PB/mail/$DOMAIN
# Delivered = files in new/ and cur/ of the recipients' maildirs.
MAILDIR_COUNT="find '$MAILDIRS' -mindepth 4 -maxdepth 4 -type f \\( -path '*/Maildir/new/*' -o -path '*/Maildir/cur/*' \\) 2>/dev/null | wc -l"

# ref_restart: stop the reference stack, empty its maildirs and queue, start it.
ref_restart() {
	if ((STARTED_REF)); then "$PEERS/ref.sh" stop >>"$OUT/ref.log" 2>&1 || die "ref.sh stop failed, see $OUT/ref.log"; fi
	rm -rf "${MAILDIRS:?}"
	postsuper -c "$PB/postfix/etc" -d ALL >/dev/null 2>&1 || true
	sync
	STARTED_REF=1
	"$PEERS/ref.sh" start >>"$OUT/ref.log" 2>&1 || die "ref.sh start failed, see $OUT/ref.log"
	wait_listening "$REF_SMTP" 15 || die "reference postfix not listening on $REF_SMTP"
}

# ------------------------------------------------------------------ mssanted data
if want ours; then
	T=$WORK/template
	log "creating the mssanted template data directory ($NUSERS users + bench@$DOMAIN)"
	mssanted_init "$T" # only bench@ logs in, with the same password
	"$MSSANTED" user add --data "$T" --role professional --address "bench@$DOMAIN" --name "Bench Sender" \
		--rpps "$(rpps 99)" --profession "Médecin généraliste" --password-stdin <"$WORK/bench.pass" >>"$OUT/mssanted-init.log" 2>&1 ||
		die "mssanted user add bench failed, see $OUT/mssanted-init.log"
fi

# ours_start NAME: a fresh copy of the template (empty mailboxes), then serve.
ours_start() {
	local d=$WORK/data
	rm -rf "$d"
	cp -a "$WORK/template" "$d"
	sync
	"$MSSANTED" serve --data "$d" --smtp-mx "$OUR_MX" --smtp-submission "$OUR_SUB" --smtp-submissions "$OUR_SUBS" \
		--imap "$OUR_IMAP" --imaps "$OUR_IMAPS" --http "$OUR_HTTP" --metrics "$OUR_METRICS" \
		</dev/null >"$OUT/mssanted.$1.log" 2>&1 &
	OURS_PID=$!
	wait_listening "$OUR_SUB" 30 || die "mssanted did not start listening on $OUR_SUB, see $OUT/mssanted.$1.log"
}
ours_stop() {
	stop_pid "$OURS_PID" mssanted
	OURS_PID=""
}

# ------------------------------------------------------------------ phases
# load TSV LABEL SIZE N: one smtpload run against the current target.
load() {
	local tsv=$1 label=$2 size=$3 n=$4 args=()
	case $label in
	smtp-sink) args=(-addr "$SINK_ADDR" -watch "sink=$SINK_PID") ;;
	postfix+dovecot) args=(-addr "$REF_SMTP" -deliver-cmd "$MAILDIR_COUNT" -watch "postfix=$(pf_pid)" -watch "dovecot=$(dc_pid)") ;;
	mssanted) args=(-addr "$OUR_SUB" -starttls -ca "$WORK/data/pki/ca.pem" -server-name "$HOSTNAME_OURS"
		-auth-user "bench@$DOMAIN" -auth-pass-file "$WORK/bench.pass"
		-deliver-sqlite "$WORK/data/mssanted.db" -watch "mssanted=$OURS_PID") ;;
	esac
	((ONE_PER_CONN)) && args+=(-one-per-conn)
	args+=(-label "$label" -n "$n" -size "$size" -sessions "$SESSIONS" -from "bench@$DOMAIN" -domain "$DOMAIN"
		-users "$NUSERS" -tsv "$tsv" -timeout 15m -stall 60s -deliver-timeout 15m)
	{ printf 'smtpload'; printf ' %q' "${args[@]}"; echo; } >>"$OUT/commands.log"
	"$LOAD" "${args[@]}" >>"$OUT/smtpload.log" 2>&1 &
	LOAD_PID=$!
	wait "$LOAD_PID" || die "smtpload failed against $label, see $OUT/smtpload.log"
	LOAD_PID=""
	tail -n 1 "$OUT/smtpload.log" >&2
}

# phase TARGET SIZE N RUN: fresh target state, then the load.
phase() {
	local t=$1 size=$2 n=$3 run=$4
	case $t in
	sink) sync; sleep 1; load "$TSV" smtp-sink "$size" "$n" ;;
	ref) ref_restart; sleep 1; load "$TSV" postfix+dovecot "$size" "$n" ;;
	ours) ours_start "$size.run$run"; sleep 1; load "$TSV" mssanted "$size" "$n"; ours_stop ;;
	esac
}

if want sink; then
	log "starting smtp-sink on $SINK_ADDR"
	smtp-sink -4 -u nobody -h sink.bench.test "$SINK_ADDR" 1024 </dev/null >"$OUT/smtp-sink.log" 2>&1 &
	SINK_PID=$!
	wait_listening "$SINK_ADDR" 10 || die "smtp-sink did not start, see $OUT/smtp-sink.log"
fi

# Smoke test: one message to each target (and its delivery), not measured.
log "smoke test: one message per target"
for t in sink ref ours; do
	want "$t" || continue
	case $t in
	sink) load "$SMOKE_TSV" smtp-sink 2048 1 ;;
	ref) ref_restart; load "$SMOKE_TSV" postfix+dovecot 2048 1 ;;
	ours) ours_start smoke; load "$SMOKE_TSV" mssanted 2048 1; ours_stop ;;
	esac
done
awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	$col["accepted"] != "1" || ($col["delivered"] != "-" && $col["delivered"] != "1") { bad = 1; print "smoke test failed: " $0 > "/dev/stderr" }
	END { exit bad }' "$SMOKE_TSV" ||
	die "smoke test failed (see $OUT/smtpload.log and the server logs in $OUT)"

for ((run = 1; run <= REPEAT; run++)); do
	for spec in "$SMALL:$MSGS_SMALL" "$LARGE:$MSGS_LARGE"; do
		for t in sink ref ours; do
			want "$t" || continue
			log "run $run/$REPEAT: $t, ${spec#*:} x ${spec%%:*} B, $SESSIONS sessions"
			phase "$t" "${spec%%:*}" "${spec#*:}" "$run"
		done
	done
done

# ------------------------------------------------------------------ report
read -r b1 i1 s1 <<<"$CPU0"
read -r b2 i2 s2 <<<"$(cpu_sample)"
ELAPSED=$(($(date +%s) - T_START))
{
	echo "SMTP benchmark, $(date -Is)"
	echo "machine: $(nproc) cpus ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), kernel $(uname -r); state on $(df -T /tmp | awk 'NR==2 {print $2" "$1}')"
	echo "software: $("$MSSANTED" version 2>/dev/null | head -1), $(go version | cut -d' ' -f3), postfix $(postconf -h mail_version 2>/dev/null || echo -), dovecot $(dovecot --version 2>/dev/null | cut -d' ' -f1 || echo -)"
	echo "params: sessions=$SESSIONS small=$MSGS_SMALL x $SMALL B, large=$MSGS_LARGE x $LARGE B, repeat=$REPEAT, $( ((ONE_PER_CONN)) && echo 'one message per connection' || echo 'connections reused (each session sends its share)')"
	echo "load average: start $LOAD_START, end $(cut -d' ' -f1-3 /proc/loadavg); whole-machine cpu over the run: $(awk -v b="$((b2 - b1))" -v i="$((i2 - i1))" -v s="$((s2 - s1))" 'BEGIN { t = b + i + s; if (t > 0) printf "busy %.0f%%, steal %.1f%%", 100*b/t, 100*s/t }')"
	echo "elapsed: ${ELAPSED}s"
	echo
	"$LOAD" report -in "$TSV"
	cat <<'EOF'

accept = start of the phase to the last 250 after DATA; delivered = start to the moment every
accepted message is visible durably (postfix+dovecot: files in the maildirs' new/ + cur/;
mssanted: rows of this run in the messages table, read-only SQLite; smtp-sink discards, so none);
MB = payload 1e6 B; p50/p99 = MAIL to 250 per message; server CPU = the server process trees
(utime+stime, children included) from start to delivered; PSS sampled every 200 ms.
The load generator (bench/smtpload) shares the 2 cores with the servers.
Not like for like: mssanted pays STARTTLS + AUTH PLAIN (argon2id) once per session and an fsync
of the blob and of the SQLite commit (synchronous=FULL) per message before its 250, and its
250 means delivered; the reference path is plain unauthenticated SMTP, Postfix fsyncs its
queue file before the 250 and Dovecot fsyncs the maildir file after it.
EOF
} | tee "$OUT/summary.txt"
log "results in $OUT (smtp.tsv, summary.txt, logs)"
