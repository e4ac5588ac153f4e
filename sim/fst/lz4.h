/* The two LZ4 entry points Verilator's FST writer calls, declared for linking against the
   LZ4 runtime library (liblz4.so.1) that Debian installs by default without its headers.
   Signatures as documented by the LZ4 API (https://github.com/lz4/lz4, lib/lz4.h). */
#ifndef BITFOLD_LZ4_SHIM_H
#define BITFOLD_LZ4_SHIM_H
#ifdef __cplusplus
extern "C" {
#endif
int LZ4_compressBound(int inputSize);
int LZ4_compress_default(const char* src, char* dst, int srcSize, int dstCapacity);
#ifdef __cplusplus
}
#endif
#endif
