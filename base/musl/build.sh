# musl: the C library itself, so it is built with the host compiler
# ($HOSTCC), not with a musl-gcc. Static only: no libc.so and no dynamic
# linker (which would also live outside the prefix, in /lib).
# LDFLAGS=-static is for programs; musl's configure would try it on libc.so.
./configure --prefix="$PREFIX" --disable-shared --disable-wrapper \
	CC="$HOSTCC" LDFLAGS=

make -j"$JOBS"
make DESTDIR="$DESTDIR" install

# Our musl-gcc wrapper and its specs (files/gport, see the comments there).
mkdir -p "$DESTDIR$PREFIX/bin"
cp gport/musl-gcc "$DESTDIR$PREFIX/bin/musl-gcc"
cp gport/musl-gcc.specs "$DESTDIR$PREFIX/lib/musl-gcc.specs"
chmod 755 "$DESTDIR$PREFIX/bin/musl-gcc"
chmod 644 "$DESTDIR$PREFIX/lib/musl-gcc.specs"
