#!/usr/bin/env bash
# bench/smime/run.sh — the S/MIME layer (mssanted/certs) against OpenSSL's
# ceilings on this machine.
#
# Runs the Go benchmarks of bench/smime (Sign+Encrypt and Open =
# decrypt+verify, RSA-2048, 10 KB and 1 MB, AES-256-GCM and AES-256-CBC),
# then `openssl speed` for the same key type and ciphers, and prints one
# Markdown table. Both sides use one core: the Go benchmarks run one
# operation at a time and `openssl speed` is single-threaded by default.
#
# Reading the ratios: at 10 KB an S/MIME operation is dominated by its one
# RSA private-key operation (signing outbound, key decryption inbound), so
# "ops/s ÷ RSA sign/s" is the fraction of the RSA ceiling reached, against
# OpenSSL and against Go's own crypto/rsa (BenchmarkGoRSA2048, which is
# about 4x slower than OpenSSL's assembly on this CPU). At 1 MB the bulk
# work dominates (AES, SHA-256, base64, copies), so "MB/s ÷ AES MB/s"
# compares with the cipher alone.
#
# Usage: bench/smime/run.sh [benchtime]     (default 2s per benchmark)
# Takes about 1 min: 20 s of Go benchmarks, 6 s of RSA, 36 s of AES.
set -euo pipefail
cd "$(dirname "$0")/../.."

benchtime=${1:-2s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v openssl >/dev/null || { echo "openssl not found" >&2; exit 1; }

echo "== go test -bench (benchtime $benchtime)" >&2
go test -run '^$' -bench . -benchtime "$benchtime" -count 1 ./bench/smime/ | tee "$tmp/go.txt" >&2

echo "== openssl speed -seconds 3 rsa2048" >&2
openssl speed -seconds 3 rsa2048 2>/dev/null | tee "$tmp/rsa.txt" >&2
for c in aes-256-gcm aes-256-cbc; do
	echo "== openssl speed -seconds 3 -evp $c" >&2
	openssl speed -seconds 3 -evp "$c" 2>/dev/null | tee "$tmp/$c.txt" >&2
done

# sign/s and verify/s are the last two fields of "rsa 2048 bits ...".
read -r rsa_sign rsa_verify < <(awk '/^rsa 2048 bits/ {print $(NF-1), $NF; exit}' "$tmp/rsa.txt")
# The 16384-byte column, in 1000s of bytes per second: /1000 gives MB/s
# (10^6 bytes, as Go reports).
aes_mbs() { awk 'toupper($1) ~ /^AES-256-/ {v=$NF; sub(/k$/, "", v); printf "%.0f", v/1000; exit}' "$1"; }
gcm_mbs=$(aes_mbs "$tmp/aes-256-gcm.txt")
cbc_mbs=$(aes_mbs "$tmp/aes-256-cbc.txt")
[ -n "$rsa_sign" ] && [ -n "$gcm_mbs" ] && [ -n "$cbc_mbs" ] || { echo "could not parse openssl speed output" >&2; exit 1; }

# Go's own RSA-2048 private-key ceiling, ops/s.
go_rsa() { awk -v n="BenchmarkGoRSA2048/$1" 'index($1, n) == 1 {for (i = 2; i < NF; i++) if ($(i+1) == "ns/op") printf "%.0f", 1e9 / $i; exit}' "$tmp/go.txt"; }
go_sign=$(go_rsa sign)
go_decrypt=$(go_rsa decrypt)

echo
echo "Machine: $(nproc) vCPU, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(go version | awk '{print $3}'), $(openssl version | awk '{print $1, $2}'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Ceilings, 1 core: OpenSSL RSA-2048 ${rsa_sign} sign/s, ${rsa_verify} verify/s; Go crypto/rsa RSA-2048 ${go_sign} sign/s, ${go_decrypt} decrypt/s;"
echo "OpenSSL AES-256-GCM ${gcm_mbs} MB/s, AES-256-CBC (encrypt) ${cbc_mbs} MB/s (16 KB blocks)"
echo
echo "| operation | size | cipher | ours ops/s | ours MB/s | OpenSSL RSA-2048 sign/s (ours ÷) | Go RSA-2048 private op/s (ours ÷) | OpenSSL AES MB/s (ours ÷) |"
echo "|---|---|---|---:|---:|---:|---:|---:|"
awk -v sign="$rsa_sign" -v gosign="$go_sign" -v godec="$go_decrypt" -v gcm="$gcm_mbs" -v cbc="$cbc_mbs" '
	/^Benchmark(SignEncrypt|DecryptVerify)\// && / ns\/op/ {
		name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
		split(name, p, "/")
		enc = (p[1] == "SignEncrypt")
		op = enc ? "Sign+Encrypt" : "Open (decrypt+verify)"
		ns = 0; mbs = 0
		for (i = 2; i < NF; i++) {
			if ($(i+1) == "ns/op") ns = $i
			if ($(i+1) == "MB/s") mbs = $i
		}
		ops = 1e9 / ns
		aes = (p[3] ~ /gcm/) ? gcm : cbc
		gorsa = enc ? gosign : godec
		printf "| %s | %s | %s | %.0f | %.1f | %.0f (%.2f) | %.0f (%.2f) | %.0f (%.3f) |\n", op, p[2], p[3], ops, mbs, sign, ops / sign, gorsa, ops / gorsa, aes, mbs / aes
	}' "$tmp/go.txt"
