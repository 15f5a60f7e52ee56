# bzip2: a plain Makefile, no configure. The patch makes "make install"
# create relative links and honour MANDIR.

# Variables on the command line replace the Makefile's (CFLAGS=-O2 -g ...);
# keep its large-file flag (a no-op on musl, where off_t is 64 bits anyway).
set -- CC="$CC" CFLAGS="$CFLAGS -Wall -D_FILE_OFFSET_BITS=64" LDFLAGS="$LDFLAGS"

make -j"$JOBS" "$@" libbz2.a bzip2 bzip2recover

# Upstream's round-trip checks, run with the freshly built static binary.
make "$@" test

make "$@" PREFIX="$DESTDIR$PREFIX" MANDIR="$DESTDIR$PREFIX/share/man" install
