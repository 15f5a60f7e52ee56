# XZ Utils: autotools. Only the static library is built, no translations.
./configure --prefix="$PREFIX" --disable-shared --enable-static --disable-nls

# libtool drops a plain -static when linking programs against its own
# libraries and the result is dynamic; -all-static makes it pass -static on.
make -j"$JOBS" LDFLAGS="$LDFLAGS -all-static"

make DESTDIR="$DESTDIR" install

# liblzma.la is libtool metadata that nothing here needs: dependents
# link liblzma.a through -L$DEP_XZ/lib.
rm -f "$DESTDIR$PREFIX/lib/liblzma.la"
