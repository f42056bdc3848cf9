// Linux calls that Glibc's Swift module leaves out: extended attributes.
#include <sys/xattr.h>
