# BusyBox: defconfig, linked statically, every applet linked into bin/ or
# sbin/ of the prefix.

# musl (Debian's musl-dev, or the musl port) ships no Linux kernel headers,
# which several applets include (<linux/...>, <asm/...>, <mtd/...>). Give
# the compiler the host's copies, and only those: a private directory of
# symlinks, so no glibc header can leak in alongside them.
kinc=$SRCDIR/gport-kernel-headers
mkdir -p "$kinc"
multiarch=$($HOSTCC -print-multiarch 2>/dev/null || :)
for d in "/usr/include/$multiarch/asm" /usr/include/asm; do
	if [ -d "$d" ]; then asm=$d; break; fi
done
test -n "${asm:-}" || { echo "no kernel asm/ headers on this host" >&2; exit 1; }
for d in /usr/include/linux /usr/include/asm-generic /usr/include/mtd; do
	test -d "$d" || { echo "no kernel headers $d on this host" >&2; exit 1; }
	ln -sfn "$d" "$kinc/${d##*/}"
done
ln -sfn "$asm" "$kinc/asm"

# BusyBox's Makefile adds its own flags to CFLAGS, CPPFLAGS and LDFLAGS taken
# from the environment (on the command line they would replace them).
CPPFLAGS="$CPPFLAGS -isystem $kinc"
export CPPFLAGS

make HOSTCC="$HOSTCC" defconfig >/dev/null
# CONFIG_STATIC: no shared libc here. CONFIG_INSTALL_NO_USR: applets that
# would go to usr/bin and usr/sbin go to bin and sbin of the prefix, which
# gport links into the system. CONFIG_LINUXRC off: it only adds a
# /linuxrc link, for busybox as an initrd's init, at the prefix's top.
# oldconfig then settles what depends on these (answers from </dev/null).
sed -e 's/^# CONFIG_STATIC is not set$/CONFIG_STATIC=y/' \
	-e 's/^# CONFIG_INSTALL_NO_USR is not set$/CONFIG_INSTALL_NO_USR=y/' \
	-e 's/^CONFIG_LINUXRC=y$/# CONFIG_LINUXRC is not set/' \
	.config >.config.gport
mv .config.gport .config
make HOSTCC="$HOSTCC" oldconfig </dev/null >/dev/null
grep -qx 'CONFIG_STATIC=y' .config
grep -qx 'CONFIG_INSTALL_NO_USR=y' .config
grep -qx '# CONFIG_LINUXRC is not set' .config

make -j"$JOBS" CC="$CC" HOSTCC="$HOSTCC" busybox

# The manual page is made from the sources' usage texts by a perl script and
# pod2man: both are needed on the build machine.
make CC="$CC" HOSTCC="$HOSTCC" docs/busybox.1

# install.sh makes relative links: bin/X -> busybox, sbin/X -> ../bin/busybox.
make CC="$CC" HOSTCC="$HOSTCC" CONFIG_PREFIX="$DESTDIR$PREFIX" install
mkdir -p "$DESTDIR$PREFIX/share/man/man1"
cp docs/busybox.1 "$DESTDIR$PREFIX/share/man/man1/busybox.1"
chmod 644 "$DESTDIR$PREFIX/share/man/man1/busybox.1"
