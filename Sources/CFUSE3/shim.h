// off_t is 64-bit on the 64-bit Linux targets Valkyrie builds for, which fuse_common.h asserts.
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>
