# libarchive: autotools. bzip2 and xz come from their ports: $CPPFLAGS and
# $LDFLAGS carry -I$DEP_BZIP2/include -L$DEP_BZIP2/lib (same for xz), so
# configure finds bzlib.h/libbz2.a and lzma.h/liblzma.a there. Every other
# optional library is off; iconv, regex and xattr are musl's own.
for h in "$DEP_BZIP2/include/bzlib.h" "$DEP_XZ/include/lzma.h"; do
	test -f "$h" || { echo "missing dependency header $h" >&2; exit 1; }
done

./configure --prefix="$PREFIX" --disable-shared --enable-static \
	--with-bz2lib --with-lzma \
	--without-zlib --without-zstd --without-lz4 --without-lzo2 \
	--without-libb2 --without-cng --without-mbedtls --without-nettle \
	--without-openssl --without-xml2 --without-expat \
	--without-libiconv-prefix --disable-acl --disable-rpath

# -all-static: see the xz port; without it libtool links bsdtar dynamically.
make -j"$JOBS" LDFLAGS="$LDFLAGS -all-static"

# Refuse a bsdtar that silently lost a compressor (e.g. a failed configure
# check): --version lists the libraries it was linked with.
v=$(./bsdtar --version)
echo "$v"
case $v in *bz2lib/*) ;; *) echo "bsdtar lacks bz2lib" >&2; exit 1 ;; esac
case $v in *liblzma/*) ;; *) echo "bsdtar lacks liblzma" >&2; exit 1 ;; esac

make DESTDIR="$DESTDIR" install
rm -f "$DESTDIR$PREFIX/lib/libarchive.la"
