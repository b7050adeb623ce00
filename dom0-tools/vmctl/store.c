#define _GNU_SOURCE /* asprintf */
#include "store.h"
#include "fdio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "domcfg.h"

/* Long enough for a slow disk, short enough that a stuck vmctl is
   reported instead of hanging a script. */
#define LOCK_WAIT_MS 10000

int store_init(struct store *store)
{
    const char *dir = getenv("MICA_STATE_DIR");
    if (!dir || !*dir)
        dir = STORE_DEFAULT_DIR;
    store->lock_fd = -1;
    store->dir = strdup(dir);
    store->domains_dir = NULL;
    store->autostart_dir = NULL;
    if (!store->dir || asprintf(&store->domains_dir, "%s/domains", dir) < 0 ||
        asprintf(&store->autostart_dir, "%s/autostart", dir) < 0) {
        free(store->dir);
        free(store->domains_dir);
        store->dir = NULL;
        store->domains_dir = NULL;
        store->autostart_dir = NULL;
        return -1;
    }
    return 0;
}

void store_fini(struct store *store)
{
    store_unlock(store);
    free(store->dir);
    free(store->domains_dir);
    free(store->autostart_dir);
    store->dir = store->domains_dir = store->autostart_dir = NULL;
}

static int make_dir(const char *path, char *err, size_t err_len)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        snprintf(err, err_len, "%s exists but is not a directory", path);
        return -1;
    }
    snprintf(err, err_len, "cannot create %s: %s%s", path, strerror(errno),
             errno == EACCES ? " (run as root, or set MICA_STATE_DIR)" : "");
    return -1;
}

int store_lock(struct store *store, char *err, size_t err_len)
{
    if (make_dir(store->dir, err, err_len) < 0 || make_dir(store->domains_dir, err, err_len) < 0)
        return -1;
    char *path;
    if (asprintf(&path, "%s/.lock", store->dir) < 0) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, err_len, "cannot open the lock file %s: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    for (int waited = 0;; waited += 20) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            break;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            snprintf(err, err_len, "cannot lock %s: %s", path, strerror(errno));
            close(fd);
            free(path);
            return -1;
        }
        if (waited >= LOCK_WAIT_MS) {
            snprintf(err, err_len, "another vmctl has held %s for %d s; try again when it "
                     "has finished", path, LOCK_WAIT_MS / 1000);
            close(fd);
            free(path);
            return -1;
        }
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    free(path);
    store->lock_fd = fd;
    return 0;
}

void store_unlock(struct store *store)
{
    if (store->lock_fd >= 0) {
        close(store->lock_fd);
        store->lock_fd = -1;
    }
}

bool store_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > DOMCFG_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.')))
            return false;
    }
    return true;
}

char *store_path(const struct store *store, const char *name)
{
    char *path;
    if (asprintf(&path, "%s/%s.xml", store->domains_dir, name) < 0)
        return NULL;
    return path;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_list(const struct store *store, char ***names_out, size_t *count_out, char *err,
               size_t err_len)
{
    *names_out = NULL;
    *count_out = 0;
    DIR *dir = opendir(store->domains_dir);
    if (!dir) {
        if (errno == ENOENT)
            return 0; /* nothing defined yet */
        snprintf(err, err_len, "cannot read %s: %s", store->domains_dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t len = strlen(de->d_name);
        /* Temp files start with '.', so they are never listed. */
        if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".xml") != 0)
            continue;
        char *name = strndup(de->d_name, len - 4);
        char **grown = name ? realloc(names, (count + 1) * sizeof(*names)) : NULL;
        if (!grown) {
            free(name);
            store_free_names(names, count);
            closedir(dir);
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        names = grown;
        if (store_name_valid(name))
            names[count++] = name;
        else
            free(name);
    }
    closedir(dir);
    if (count)
        qsort(names, count, sizeof(*names), compare_names);
    *names_out = names;
    *count_out = count;
    return 0;
}

void store_free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

/* Makes the rename durable: without it a crash can forget the entry. */
static void sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int store_write(struct store *store, const char *name, const char *data, size_t len,
                char *err, size_t err_len)
{
    char *final = store_path(store, name);
    char *temp = NULL;
    if (!final || asprintf(&temp, "%s/.%s.xml.XXXXXX", store->domains_dir, name) < 0) {
        free(final);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int rc = -1;
    int fd = mkstemp(temp);
    if (fd < 0) {
        snprintf(err, err_len, "cannot create a file in %s: %s", store->domains_dir,
                 strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0644) < 0 || fdio_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        snprintf(err, err_len, "cannot write %s: %s", temp, strerror(errno));
        close(fd);
        unlink(temp);
        goto out;
    }
    if (close(fd) < 0) {
        snprintf(err, err_len, "cannot write %s: %s", temp, strerror(errno));
        unlink(temp);
        goto out;
    }
    if (rename(temp, final) < 0) {
        snprintf(err, err_len, "cannot rename %s to %s: %s", temp, final, strerror(errno));
        unlink(temp);
        goto out;
    }
    sync_dir(store->domains_dir);
    rc = 0;
out:
    free(temp);
    free(final);
    return rc;
}

int store_remove(struct store *store, const char *name, char *err, size_t err_len)
{
    char *path = store_path(store, name);
    if (!path) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int rc = unlink(path);
    if (rc < 0) {
        int saved = errno;
        snprintf(err, err_len, "cannot remove %s: %s", path, strerror(errno));
        errno = saved;
    } else {
        sync_dir(store->domains_dir);
        /* As libvirt's undefine: the mark goes with the definition. */
        if (store_autostart_set(store, name, false, err, err_len) < 0)
            rc = -1;
    }
    free(path);
    return rc;
}

static char *autostart_path(const struct store *store, const char *name)
{
    char *path;
    return asprintf(&path, "%s/%s.xml", store->autostart_dir, name) < 0 ? NULL : path;
}

bool store_autostart_get(const struct store *store, const char *name)
{
    char *path = autostart_path(store, name);
    struct stat st;
    bool on = path && lstat(path, &st) == 0;
    free(path);
    return on;
}

int store_autostart_set(struct store *store, const char *name, bool on, char *err,
                        size_t err_len)
{
    char *path = autostart_path(store, name), *target = NULL;
    int rc = -1;
    if (!path || asprintf(&target, "../domains/%s.xml", name) < 0) {
        snprintf(err, err_len, "out of memory");
        goto out;
    }
    if (!on) {
        if (unlink(path) < 0 && errno != ENOENT) {
            snprintf(err, err_len, "cannot remove %s: %s", path, strerror(errno));
            goto out;
        }
        sync_dir(store->autostart_dir);
        rc = 0;
        goto out;
    }
    if (make_dir(store->autostart_dir, err, err_len) < 0)
        goto out;
    if (symlink(target, path) < 0 && errno != EEXIST) {
        snprintf(err, err_len, "cannot create %s: %s", path, strerror(errno));
        goto out;
    }
    sync_dir(store->autostart_dir);
    rc = 0;
out:
    free(path);
    free(target);
    return rc;
}
