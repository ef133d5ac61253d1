#!/usr/bin/env bash
# Makes sure the services the test suite talks to are up on their standard
# local ports: PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (and
# the redis-server binary, which the queue tests start privately to stop and
# restart it). Starts them when installed but stopped; installs them with
# apt-get when missing and running as root on Debian; otherwise stops with a
# message saying what to do. Also installs Debian's chromium (and the Noto
# fonts, for Lao and Thai) for the browser tests (web/browsertest) when
# missing and running as root on Debian; elsewhere those tests skip, or fail
# under CI=true. Used by `make test`; safe to run again.
set -euo pipefail

say() { printf 'ensure-services: %s\n' "$*" >&2; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() {
	for _ in $(seq 1 60); do listening "$1" && return 0; sleep 0.5; done
	return 1
}
can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
apt_updated=""
apt_install() {
	if [ -z "$apt_updated" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
	listening 5432 && return 0
	local installed_now=""
	if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
		can_install || { say "PostgreSQL is not running on 127.0.0.1:5432 and cannot be installed here: install it, or set HOMEWARD_TEST_DATABASE_URL to a server where the role may create databases and roles"; exit 1; }
		say "installing PostgreSQL"
		apt_install postgresql
		installed_now=1
	fi
	local version
	version=$(ls /etc/postgresql | sort -V | tail -n 1)
	if [ -n "$installed_now" ]; then
		# A throwaway test server: local TCP connections are trusted, as on the
		# project's CI machines. Never do this to a server holding real data.
		local hba="/etc/postgresql/$version/main/pg_hba.conf"
		sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
	fi
	say "starting PostgreSQL $version"
	pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
	wait_for 5432 || { say "PostgreSQL did not come up on 127.0.0.1:5432"; exit 1; }
}

ensure_redis() {
	if ! command -v redis-server >/dev/null; then
		can_install || { say "redis-server is not installed and cannot be installed here: install Redis 6 or later"; exit 1; }
		say "installing Redis"
		apt_install redis-server
	fi
	listening 6379 && return 0
	say "starting Redis"
	mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
		--dir "${TMPDIR:-/tmp}" --logfile "${TMPDIR:-/tmp}/homeward-test-redis.log"
	wait_for 6379 || { say "Redis did not come up on 127.0.0.1:6379"; exit 1; }
}

ensure_chromium() {
	if [ -n "${HOMEWARD_CHROMIUM:-}" ] || command -v chromium >/dev/null || [ -x /usr/lib/chromium/chromium ]; then
		return 0
	fi
	if can_install; then
		say "installing chromium for the browser tests"
		apt_install chromium fonts-noto-core
	else
		say "chromium is not installed: the browser tests will be skipped (they fail under CI=true); install Debian's chromium or set HOMEWARD_CHROMIUM"
	fi
}

if [ -z "${HOMEWARD_TEST_DATABASE_URL:-}" ]; then ensure_postgres; fi
ensure_redis
ensure_chromium
say "PostgreSQL and Redis are reachable"
