/*
 * instance: see instance.h.
 */
#include "instance.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int instance_lock(const char *db_path, char *err, size_t errlen)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s.lock", db_path) >= sizeof path) {
        snprintf(err, errlen, "database path too long");
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int saved = errno;
        char owner[32] = "";
        ssize_t got = pread(fd, owner, sizeof owner - 1, 0);
        owner[got > 0 ? got : 0] = '\0';
        owner[strcspn(owner, "\n")] = '\0';
        if (saved == EWOULDBLOCK)
            snprintf(err, errlen, "another heraldd (pid %s) is using %s; one database takes one "
                                  "heraldd", owner[0] ? owner : "?", db_path);
        else
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(saved));
        close(fd);
        return -1;
    }
    char pid[32];
    int length = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)length, 0) != length) {
        /* The lock holds regardless; the pid is only for the message above. */
    }
    return fd;
}

void instance_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}
