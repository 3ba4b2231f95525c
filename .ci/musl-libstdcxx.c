/*
 * The few glibc-only symbols that Debian's libstdc++.a (built for glibc) uses, for linking it into
 * a libstdc++.so.6 that runs under musl. Only CI uses this, to run skiff's musl build on Debian,
 * which ships no C++ runtime built for musl (Alpine's `apk add libstdc++` is the real one).
 */
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* glibc's fast path flag for single-threaded programs; 0 keeps libstdc++ on its thread-safe path. */
char __libc_single_threaded = 0;

uint32_t arc4random(void) { return (uint32_t)random(); }

size_t __strftime_l(char *s, size_t n, const char *format, const struct tm *tm, locale_t locale) {
  return strftime_l(s, n, format, tm, locale);
}

/* Unwinder fast path; -1 makes libgcc fall back to dl_iterate_phdr, which musl has. */
struct dl_find_object;
int _dl_find_object(void *pc, struct dl_find_object *result) {
  (void)pc;
  (void)result;
  return -1;
}

/* thread_local destructors: not run at thread exit here, which a short CI check does not notice. */
int __cxa_thread_atexit_impl(void (*dtor)(void *), void *obj, void *dso) {
  (void)dtor;
  (void)obj;
  (void)dso;
  return 0;
}

/*
 * glibc 2.38+ headers redirect strtol & co. to their C23 versions; a libstdc++.a built against
 * them (Debian 13) needs these. Untested on Debian 12, whose libstdc++.a does not use them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <wchar.h>
long __isoc23_strtol(const char *s, char **end, int base) { return strtol(s, end, base); }
unsigned long __isoc23_strtoul(const char *s, char **end, int base) { return strtoul(s, end, base); }
long long __isoc23_strtoll(const char *s, char **end, int base) { return strtoll(s, end, base); }
unsigned long long __isoc23_strtoull(const char *s, char **end, int base) { return strtoull(s, end, base); }
long __isoc23_wcstol(const wchar_t *s, wchar_t **end, int base) { return wcstol(s, end, base); }
unsigned long __isoc23_wcstoul(const wchar_t *s, wchar_t **end, int base) { return wcstoul(s, end, base); }
long long __isoc23_wcstoll(const wchar_t *s, wchar_t **end, int base) { return wcstoll(s, end, base); }
unsigned long long __isoc23_wcstoull(const wchar_t *s, wchar_t **end, int base) { return wcstoull(s, end, base); }
int __isoc23_vsscanf(const char *s, const char *format, va_list args) { return vsscanf(s, format, args); }
int __isoc23_sscanf(const char *s, const char *format, ...) {
  va_list args;
  va_start(args, format);
  int n = vsscanf(s, format, args);
  va_end(args);
  return n;
}
