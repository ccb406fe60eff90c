# bench/lib.sh - settings and helpers shared by bench/smtp.sh and
# bench/imap.sh, which source it after setting ROOT (the project root); they
# define log and die, which its functions call. It only sets variables and
# defines functions.

# shellcheck shell=bash

PEERS=${BENCH_PEERS:-$(cd "$ROOT/.." && pwd)/shared/bench-peers}
PB=${PEERBENCH_DIR:-/tmp/peerbench} # the reference stack's state (bench-peers default)
DOMAIN=example.test                  # bench-peers' PB_DOMAIN
NUSERS=10                            # user0..user9, as in bench-peers

# Reference ports (bench-peers defaults; ref.sh starts Postfix and Dovecot)
# and ours, which must not collide (overridable from the environment; the
# scripts refuse to start if one is taken).
REF_PORTS=(2525 2424 1143)
OUR_MX=${OUR_MX:-127.0.0.1:22525}
OUR_SUB=${OUR_SUB:-127.0.0.1:22587}
OUR_SUBS=${OUR_SUBS:-127.0.0.1:22465}
OUR_IMAP=${OUR_IMAP:-127.0.0.1:22143}
OUR_IMAPS=${OUR_IMAPS:-127.0.0.1:22993}
OUR_HTTP=${OUR_HTTP:-127.0.0.1:22443}
OUR_METRICS=${OUR_METRICS:-127.0.0.1:22464}

listening() { # HOST:PORT -> 0 if something accepts connections there
	timeout 2 bash -c "exec 3<>/dev/tcp/${1%:*}/${1##*:}" 2>/dev/null
}
wait_listening() { # ADDR SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		listening "$1" && return 0
		sleep 0.1
	done
	return 1
}
alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
stop_pid() { # PID NAME [SIG]: signal (default TERM), up to 20 s, then SIGKILL
	local pid=$1 i
	alive "$pid" || return 0
	kill "-${3:-TERM}" "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	log "$2 (pid $pid) still alive after 20 s, sending SIGKILL"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# rpps I -> a valid 11-digit RPPS: 10 digits and their Luhn key.
rpps() {
	local base sum=0 i d dbl=1
	base=$(printf '8%09d' "$1")
	for ((i = ${#base} - 1; i >= 0; i--)); do
		d=${base:i:1}
		if ((dbl)); then
			d=$((d * 2))
			if ((d > 9)); then d=$((d - 9)); fi
		fi
		sum=$((sum + d))
		dbl=$((1 - dbl))
	done
	echo "$base$(((10 - sum % 10) % 10))"
}

pf_pid() { [[ -s $PB/postfix/spool/pid/master.pid ]] && awk '{print $1; exit}' "$PB/postfix/spool/pid/master.pid"; }
dc_pid() { [[ -s $PB/dovecot/run/master.pid ]] && awk '{print $1; exit}' "$PB/dovecot/run/master.pid"; }

# ref_free: die unless the reference stack is stopped and its ports are free.
ref_free() {
	if alive "$(pf_pid || true)" || alive "$(dc_pid || true)"; then
		die "the reference Postfix/Dovecot is already running (someone else's run?); stop it with $PEERS/ref.sh stop"
	fi
	local p
	for p in "${REF_PORTS[@]}"; do listening "127.0.0.1:$p" && die "127.0.0.1:$p is already in use"; done
	return 0
}

# ours_free: die unless every address of our mssanted is free.
ours_free() {
	local a
	for a in "$OUR_MX" "$OUR_SUB" "$OUR_SUBS" "$OUR_IMAP" "$OUR_IMAPS" "$OUR_HTTP" "$OUR_METRICS"; do
		listening "$a" && die "$a is already in use"
	done
	return 0
}

# wait_quiet SECS: wait up to SECS for the 1-min load average to drop below 0.5.
wait_quiet() {
	local i
	for ((i = 0; i < $1; i += 5)); do
		awk '{exit !($1 < 0.5)}' /proc/loadavg && break
		((i % 60 == 0)) && log "waiting for load average < 0.5 (now $(cut -d' ' -f1 /proc/loadavg))"
		sleep 5
	done
	return 0
}

cpu_sample() { awk '/^cpu / {print $2+$3+$4+$7+$8, $5+$6, $9}' /proc/stat; } # busy idle steal

# mssanted_init DIR: a data directory for $DOMAIN with user0..user(NUSERS-1)
# ($MSSANTED, log in $OUT/mssanted-init.log). mssanted wants passwords of
# 12+ characters (bench-peers' "pass" is too short): every account gets the
# same random one, written to $WORK/bench.pass. Sets HOSTNAME_OURS.
mssanted_init() {
	local u
	"$MSSANTED" init --data "$1" --domain "$DOMAIN" --patient-domain "patient.$DOMAIN" >"$OUT/mssanted-init.log" 2>&1 ||
		die "mssanted init failed, see $OUT/mssanted-init.log"
	(umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$WORK/bench.pass")
	for ((u = 0; u < NUSERS; u++)); do
		"$MSSANTED" user add --data "$1" --role professional --address "user$u@$DOMAIN" \
			--name "User $u" --rpps "$(rpps "$u")" --profession "Médecin généraliste" --password-stdin <"$WORK/bench.pass" >>"$OUT/mssanted-init.log" 2>&1 ||
			die "mssanted user add user$u failed, see $OUT/mssanted-init.log"
	done
	HOSTNAME_OURS=$(awk -F'"' '/^hostname *=/ {print $2; exit}' "$1/mssanted.toml")
	HOSTNAME_OURS=${HOSTNAME_OURS:-mail.$DOMAIN}
}
