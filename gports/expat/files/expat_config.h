/* expat_config.h for expat 2.5.0 on Linux with musl (gport).
 *
 * The GitHub tag archive has no configure script, so this file stands in for
 * the one configure (or CMake) would generate. Each setting below is what
 * configure finds with musl 1.2.3, or expat's own default. It is installed
 * with the headers, as upstream's "make install" does.
 */
#ifndef EXPAT_CONFIG_H
#define EXPAT_CONFIG_H 1

/* Byte order: from the compiler rather than a probe (1234 little, 4321 big). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#  define BYTEORDER 4321
#  define WORDS_BIGENDIAN 1
#else
#  define BYTEORDER 1234
#endif

/* musl has getrandom(2) in <sys/random.h> (since 1.1.20) and syscall(2);
 * it has no arc4random and there is no libbsd. */
#define HAVE_GETRANDOM 1
#define HAVE_SYSCALL_GETRANDOM 1
/* #undef HAVE_ARC4RANDOM */
/* #undef HAVE_ARC4RANDOM_BUF */
/* #undef HAVE_LIBBSD */

#define HAVE_DLFCN_H 1
#define HAVE_FCNTL_H 1
#define HAVE_GETPAGESIZE 1
#define HAVE_INTTYPES_H 1
#define HAVE_MEMORY_H 1
#define HAVE_MMAP 1
#define HAVE_STDINT_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STRINGS_H 1
#define HAVE_STRING_H 1
#define HAVE_SYS_STAT_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_UNISTD_H 1
#define STDC_HEADERS 1

#define PACKAGE "expat"
#define PACKAGE_BUGREPORT "expat-bugs@libexpat.org"
#define PACKAGE_NAME "expat"
#define PACKAGE_STRING "expat 2.5.0"
#define PACKAGE_TARNAME "expat"
#define PACKAGE_URL ""
#define PACKAGE_VERSION "2.5.0"
#define VERSION "2.5.0"

/* Expat's features, as its configure enables them by default. */
#define XML_CONTEXT_BYTES 1024  /* context kept around the parse point */
#define XML_DTD 1               /* parameter entities and DTD handling */
#define XML_NS 1                /* namespace processing */
#define XML_DEV_URANDOM 1       /* /dev/urandom as fallback entropy source */
/* #undef XML_ATTR_INFO */

#endif /* EXPAT_CONFIG_H */
