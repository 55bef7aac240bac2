#!/usr/bin/env bash
# wrk.sh: the wrk comparison of issue 20. Each server in SERVERS answers
# client_credentials grants at POST /oauth2/token on loopback, one server at a
# time, while `wrk -t1 -c$CONNS -d$DURATION` loads it with post.lua; ROUNDS
# rounds, each server once per round in SERVERS' order. Every start is fresh
# (a new temp dir, and a new SQLite database for tokengate). Afterwards it
# prints one Markdown table: req/s, p99, the server's RSS read right after
# the load, answers other than 200, and req/s as a share of the ceiling's in
# the same round. wrk's raw outputs stay in OUT.
#
#   ROUNDS=2 DURATION=10s CONNS=32 SERVERS="ceiling tokengate gooauth2" \
#     OUT=dir cmd/tgbench/compare/wrk.sh
#
# Servers:
#   ceiling    tgbench -serve-ceiling: the least a token endpoint can do
#   tokengate  bin/tokengate serve on the embedded default config (metrics and
#              console on) with listen, storage.dsn and log_level replaced
#   gooauth2   the go-oauth2/oauth2 v4 library with in-memory stores (gooauth2/)
#
# Exit status 1 when any run got answers other than 200 or socket errors, so
# that a broken run cannot pass for a slow one.
set -euo pipefail

ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
SERVERS=${SERVERS:-ceiling tokengate gooauth2}
GO=${GO:-go}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
cd "$root"

for tool in wrk curl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "wrk.sh: $tool is not on PATH: apt-get install $tool (or make bench-wrk, which installs wrk as root)" >&2
		exit 1
	fi
done
for server in $SERVERS; do
	case $server in
	ceiling | tokengate | gooauth2) ;;
	*)
		echo "wrk.sh: unknown server '$server' in SERVERS (ceiling, tokengate, gooauth2)" >&2
		exit 2
		;;
	esac
done

OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/tokengate-wrk.XXXXXX")}
mkdir -p "$OUT"
work=$(mktemp -d "${TMPDIR:-/tmp}/tokengate-wrk-servers.XXXXXX")
server_pid=
server_base=

stop_server() {
	[ -n "$server_pid" ] || return 0
	kill -TERM "$server_pid" 2>/dev/null || true
	# A graceful stop drains open connections; give it 10s, then kill.
	for _ in $(seq 100); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}
cleanup() {
	stop_server
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building bin/tokengate, bin/tgbench, bin/gooauth2 ..."
"$GO" build -o bin/tokengate ./cmd/tokengate
"$GO" build -o bin/tgbench ./cmd/tgbench
(cd cmd/tgbench/compare/gooauth2 && "$GO" build -o ../../../../bin/gooauth2 .)

# free_port prints a loopback TCP port no socket uses now, from below Linux's
# ephemeral range so that no client connection takes it before tokengate
# binds it.
free_port() {
	local port hex
	for _ in $(seq 50); do
		port=$((20000 + RANDOM % 12000))
		hex=$(printf ':%04X ' "$port")
		if ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '{print $2" "}' | grep -q "$hex"; then
			echo "$port"
			return 0
		fi
	done
	echo "wrk.sh: no free loopback port found" >&2
	return 1
}

# tokengate_config writes the embedded default config with listen, the
# SQLite file and log_level replaced (what tgbench's gateway config does,
# metrics and console left on as in the default) and checks it.
tokengate_config() {
	local listen=$1 db=$2 file=$3
	sed -e "s|^listen: .*|listen: \"$listen\"|" \
		-e 's|^log_level: .*|log_level: warn|' \
		-e "s|^  dsn: .*|  dsn: \"$db\"|" config/default.yaml >"$file"
	if [ "$(grep -c -e "^listen: \"$listen\"" -e '^log_level: warn' -e "^  dsn: \"$db\"" "$file")" != 3 ]; then
		echo "wrk.sh: config/default.yaml no longer has the listen, log_level and storage.dsn lines this script replaces" >&2
		return 1
	fi
	bin/tokengate config check "$file" >/dev/null
}

# wait_listening waits for a server's "... listening on ADDR" line on stdout
# (the ceiling's and gooauth2's way to tell a port they picked) and prints ADDR.
wait_listening() {
	local log=$1 addr
	for _ in $(seq 200); do
		addr=$(sed -n 's/^.* listening on \(.*\)$/\1/p' "$log" | head -1)
		if [ -n "$addr" ]; then
			echo "${addr#http://}"
			return 0
		fi
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}

# wait_healthy polls GET /healthz until it answers 200, for up to 60s (the
# first start of tokengate on a new database migrates it).
wait_healthy() {
	local base=$1
	for _ in $(seq 1200); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$base/healthz" || true)" = 200 ]; then
			return 0
		fi
		kill -0 "$server_pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# start_server starts $1 in directory $2, with its output in $2/server.log,
# and sets server_pid and server_base (its URL) once it answers.
start_server() {
	local server=$1 dir=$2 log=$2/server.log addr
	case $server in
	ceiling)
		bin/tgbench -serve-ceiling 127.0.0.1:0 >"$log" 2>&1 &
		server_pid=$!
		addr=$(wait_listening "$log") || { server_failed "$server" "$log"; return 1; }
		;;
	gooauth2)
		bin/gooauth2 -addr 127.0.0.1:0 >"$log" 2>&1 &
		server_pid=$!
		addr=$(wait_listening "$log") || { server_failed "$server" "$log"; return 1; }
		;;
	tokengate)
		addr=127.0.0.1:$(free_port)
		tokengate_config "$addr" "$dir/tokengate.db" "$dir/tokengate.yaml"
		# In its own dir, and without TOKENGATE_* from the caller's
		# environment overriding the config.
		(
			cd "$dir"
			for var in $(compgen -e | grep '^TOKENGATE_' || true); do unset "$var"; done
			exec "$root/bin/tokengate" serve --config "$dir/tokengate.yaml"
		) >"$log" 2>&1 &
		server_pid=$!
		;;
	esac
	wait_healthy "http://$addr" || { server_failed "$server" "$log"; return 1; }
	server_base=http://$addr
}

server_failed() {
	echo "wrk.sh: $1 did not start; its output:" >&2
	tail -20 "$2" >&2
}

# rss_mb prints a process's resident set in MB (VmRSS, kB in /proc).
rss_mb() {
	awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"
}

# field prints NAME's value from post.lua's "wrk-summary k=v ..." line.
field() {
	sed -n "s/^wrk-summary .*\b$2=\([^ ]*\).*/\1/p" "$1"
}

results=$OUT/results.tsv
printf 'server\tround\trps\tp99_us\trss_mb\tnon200\tsocket_errors\n' >"$results"
failed=0
echo "wrk -t1 -c$CONNS -d$DURATION, $ROUNDS round(s) of: $SERVERS; raw outputs in $OUT"
for round in $(seq "$ROUNDS"); do
	for server in $SERVERS; do
		dir=$work/$server-$round
		mkdir -p "$dir"
		start_server "$server" "$dir"
		base=$server_base
		raw=$OUT/$server-round$round
		# One request first: the answer's shape goes with the raw output, and
		# a server that refuses the demo client stops the run here.
		status=$(curl -s -S -i --max-time 5 -u demo-client:demo-secret -d grant_type=client_credentials \
			-o "$raw.answer.txt" -w '%{http_code}' "$base/oauth2/token" || true)
		if [ "$status" != 200 ]; then
			echo "wrk.sh: $server answered the first token request with status ${status:-none}:" >&2
			cat "$raw.answer.txt" >&2 || true
			exit 1
		fi
		echo "== round $round: $server at $base"
		wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "$here/post.lua" "$base/oauth2/token" >"$raw.wrk.txt"
		if ! rss=$(rss_mb "$server_pid" 2>/dev/null) || [ -z "$rss" ]; then
			echo "wrk.sh: $server exited during the load; its log: $raw.server.log" >&2
			rss=exited
			failed=1
		fi
		cat "$raw.wrk.txt"
		stop_server
		cp "$dir/server.log" "$raw.server.log"
		socket_errors=$(($(field "$raw.wrk.txt" connect_errors) + $(field "$raw.wrk.txt" read_errors) +
			$(field "$raw.wrk.txt" write_errors) + $(field "$raw.wrk.txt" timeouts)))
		non200=$(field "$raw.wrk.txt" non200)
		[ "$non200" = 0 ] && [ "$socket_errors" = 0 ] || failed=1
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$round" "$(field "$raw.wrk.txt" rps)" \
			"$(field "$raw.wrk.txt" p99_us)" "$rss" "$non200" "$socket_errors" >>"$results"
	done
done

# The table: p99 in ms; "vs ceiling" is req/s over the ceiling's req/s in the
# same round ("-" without a ceiling in SERVERS).
table() {
	awk -F'\t' '
		NR == 1 { next }
		{ n++; server[n] = $1; round[n] = $2; rps[n] = $3; p99[n] = $4; rss[n] = $5; non200[n] = $6; sockerr[n] = $7 }
		$1 == "ceiling" { ceiling[$2] = $3 }
		END {
			print "| server | round | req/s | p99 | RSS MB | non-200 | socket errors | vs ceiling |"
			print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
			for (i = 1; i <= n; i++) {
				ratio = (round[i] in ceiling && ceiling[round[i]] > 0) ? sprintf("%.2f", rps[i] / ceiling[round[i]]) : "-"
				printf "| %s | %s | %.0f | %.2f ms | %s | %s | %s | %s |\n", server[i], round[i], rps[i], p99[i] / 1000, rss[i], non200[i], sockerr[i], ratio
			}
		}' "$results"
}

{
	echo
	echo "wrk -t1 -c$CONNS -d$DURATION --latency, POST /oauth2/token client_credentials (Basic demo-client), $ROUNDS round(s); $(nproc) cores"
	echo
	table
} | tee "$OUT/summary.md"
echo
echo "raw wrk outputs, first answers and server logs: $OUT"
if [ "$failed" != 0 ]; then
	echo "wrk.sh: some runs got answers other than 200 or socket errors (see the table and $OUT)" >&2
	exit 1
fi
