#define _GNU_SOURCE
#include "SystemShims.h"
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

int valkyrie_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int valkyrie_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int valkyrie_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

int valkyrie_malloc_arenas(int arenas) { return mallopt(M_ARENA_MAX, arenas); }

int valkyrie_malloc_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }

int valkyrie_malloc_trim(void) { return malloc_trim(0); }
