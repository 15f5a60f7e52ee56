#!/bin/sh
# The demo: build gport, seed the sources, install Lua and bzip2 into a
# scratch root, and run them through their links.
set -eu
cd "$(dirname "$0")/.."
tests/setup.sh
cargo build --release --locked
gport=target/release/gport
root=${DEMO_ROOT:-$(mktemp -d /tmp/gport-demo.XXXXXX)}

"$gport" --tree . --root "$root" install lua bzip2
echo
echo "--- running the installed programs from $root/usr/bin"
"$root/usr/bin/lua" -e 'print("lua says 6*7 = " .. 6*7 .. " (" .. _VERSION .. ")")'
printf 'a round trip through bzip2\n' | "$root/usr/bin/bzip2" -c | "$root/usr/bin/bzip2" -dc
echo
echo "--- what gport knows, read from the filesystem"
"$gport" --tree . --root "$root" list
"$gport" --tree . --root "$root" owner /usr/bin/lua
ls -l "$root/usr/bin/lua" "$root/gales/pkg/lua"
echo
echo "scratch root: $root (remove it with: rm -rf $root)"
