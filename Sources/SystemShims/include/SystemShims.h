// glibc functions that Swift's Glibc module hides behind _GNU_SOURCE (process spawning) or leaves out (malloc tuning), for Support.
#ifndef VALKYRIE_SYSTEM_SHIMS_H
#define VALKYRIE_SYSTEM_SHIMS_H

#include <spawn.h>

/// pipe2(fds, O_CLOEXEC): a pipe no child inherits unless it is dup2'ed onto 0, 1 or 2.
int valkyrie_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addchdir_np: the child starts in `path`.
int valkyrie_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor from `lowest` up.
int valkyrie_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest);

/// mallopt(M_ARENA_MAX, arenas); returns 1 when it took.
int valkyrie_malloc_arenas(int arenas);

/// mallopt(M_MMAP_THRESHOLD, bytes) (which also stops glibc raising it); returns 1 when it took.
int valkyrie_malloc_mmap_threshold(int bytes);

/// malloc_trim(0): gives the free pages of every malloc arena back to the kernel; returns 1 if any were.
int valkyrie_malloc_trim(void);

#endif
