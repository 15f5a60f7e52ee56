#!/bin/sh
# Install what building and testing gport needs on a fresh Debian machine,
# then seed the distfiles store with the tree's real upstream tarballs.
# Idempotent: installs only what is missing; the seed skips verified files.
set -eu
cd "$(dirname "$0")/.."

need=""
command -v musl-gcc >/dev/null 2>&1 || need="$need musl-tools"
command -v cc >/dev/null 2>&1 || need="$need build-essential"
command -v make >/dev/null 2>&1 || need="$need make"
command -v python3 >/dev/null 2>&1 || need="$need python3"
[ -e /usr/include/linux/version.h ] || need="$need linux-libc-dev"
command -v pod2man >/dev/null 2>&1 || need="$need perl"
command -v tmux >/dev/null 2>&1 || need="$need tmux"
command -v man >/dev/null 2>&1 || need="$need man-db"
if [ -n "$need" ]; then
	echo "==> installing:$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $need
fi

mirror/seed
