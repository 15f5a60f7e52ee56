# expat: built with the Makefile and expat_config.h from files/ (see
# port.toml: the tag archive has no configure script).
set -- CC="$CC" CFLAGS="$CFLAGS" CPPFLAGS="$CPPFLAGS" LDFLAGS="$LDFLAGS"

make -j"$JOBS" "$@"

# Upstream's unit tests, about 2 s.
make -j"$JOBS" "$@" check

make "$@" PREFIX="$PREFIX" DESTDIR="$DESTDIR" install
