# dash: autotools, no external libraries (no libedit).
# The helper programs it runs at build time (mksyntax, mknodes, ...) are
# compiled with $CC too: static musl binaries run fine on the build host.
./configure --prefix="$PREFIX" --enable-static
make -j"$JOBS"
make DESTDIR="$DESTDIR" install
