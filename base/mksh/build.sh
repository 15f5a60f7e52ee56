# mksh: its own Build.sh, which reads CC, CFLAGS, CPPFLAGS and LDFLAGS from
# the environment. -r: do not format the manual page (mksh.cat1), the roff
# source mksh.1 is installed instead.
sh Build.sh -r

mkdir -p "$DESTDIR$PREFIX/bin" "$DESTDIR$PREFIX/share/man/man1"
cp mksh "$DESTDIR$PREFIX/bin/mksh"
cp mksh.1 "$DESTDIR$PREFIX/share/man/man1/mksh.1"
chmod 755 "$DESTDIR$PREFIX/bin/mksh"
chmod 644 "$DESTDIR$PREFIX/share/man/man1/mksh.1"
