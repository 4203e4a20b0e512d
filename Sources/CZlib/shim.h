// zlib's *Init2 entry points are macros; wrap them so Swift can call them.
#ifndef DONGFENG_CZLIB_SHIM_H
#define DONGFENG_CZLIB_SHIM_H
#include <zlib.h>

static inline int dfz_deflate_init2(z_streamp strm, int level, int windowBits, int memLevel) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}
static inline int dfz_inflate_init2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
#endif
