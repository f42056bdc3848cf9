// Linux calls that Glibc's Swift module leaves out: extended attributes, eventfd (TCPConnection's cancel signal).
#include <sys/xattr.h>
#include <sys/eventfd.h>
