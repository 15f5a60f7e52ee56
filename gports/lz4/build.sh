# LZ4: plain Makefiles that take CC, CFLAGS and LDFLAGS from the environment.
# BUILD_SHARED=no: only liblz4.a, and the lz4 program linked statically.
# The default target builds the library and lz4 without debug flags.
make -j"$JOBS" BUILD_SHARED=no PREFIX="$PREFIX"

make BUILD_SHARED=no PREFIX="$PREFIX" DESTDIR="$DESTDIR" install
