# Lua: a plain Makefile. The "posix" platform, not "linux": "linux" adds
# dlopen support (-ldl), which cannot load C modules into a static binary.
# MYCFLAGS comes after the Makefile's -O2, so our -Os wins.
make -j"$JOBS" CC="$CC" MYCFLAGS="$CFLAGS" MYLDFLAGS="$LDFLAGS" posix

# Upstream's smoke test: runs the new lua.
make test

make INSTALL_TOP="$DESTDIR$PREFIX" \
	INSTALL_MAN="$DESTDIR$PREFIX/share/man/man1" install

# "make install" also creates the empty module directories share/lua/5.4 and
# lib/lua/5.4; this lua searches /usr (see the patch), not its own prefix.
rmdir "$DESTDIR$PREFIX/share/lua/5.4" "$DESTDIR$PREFIX/share/lua" \
	"$DESTDIR$PREFIX/lib/lua/5.4" "$DESTDIR$PREFIX/lib/lua"
