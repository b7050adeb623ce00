/* qemu-img and vmctl runs for snapshots and clones (see imgtools.h). */
#define _GNU_SOURCE
#include "imgtools.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hv.h"

static const char *qemu_img(void)
{
    const char *p = getenv("MICA_QEMU_IMG");
    return p && *p ? p : "qemu-img";
}

int img_run(char *const argv[], char *out, size_t outlen)
{
    int p[2] = { -1, -1 };
    if (out && pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        if (out) {
            close(p[0]);
            close(p[1]);
        }
        return -1;
    }
    if (pid == 0) {
        if (out)
            dup2(p[1], 1);
        if (strcmp(argv[0], "vmctl") == 0)
            execv("/proc/self/exe", argv);
        else
            execvp(argv[0], argv);
        fprintf(stderr, "vmctl: cannot run %s: %s%s\n", argv[0], strerror(errno),
                strcmp(argv[0], "qemu-img") == 0 ? " (it comes with Debian's qemu-utils)" : "");
        _exit(127);
    }
    size_t got = 0;
    if (out) {
        close(p[1]);
        ssize_t n;
        char sink[256];
        while ((n = read(p[0], got + 1 < outlen ? out + got : sink,
                         got + 1 < outlen ? outlen - 1 - got : sizeof(sink))) != 0) {
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                break;
            if (got + 1 < outlen)
                got += (size_t)n;
        }
        out[got] = '\0';
        close(p[0]);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int img_create_overlay(const char *path, const char *backing, const char *backing_fmt)
{
    char out[512];
    char *argv[] = { (char *)qemu_img(), "create", "-q", "-f", "qcow2", "-F", (char *)backing_fmt,
                     "-b", (char *)backing, (char *)path, NULL };
    if (img_run(argv, out, sizeof(out)) != 0) {
        fprintf(stderr, "vmctl: qemu-img could not make %s on top of %s\n", path, backing);
        return -1;
    }
    return 0;
}

/* The string value of "key": "..." in qemu-img's JSON ("" when absent). */
static void json_string(const char *json, const char *key, char *val, size_t len)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\": \"", key);
    const char *s = strstr(json, pat);
    val[0] = '\0';
    if (!s)
        return;
    s += strlen(pat);
    size_t n = 0;
    for (; *s && *s != '"' && n + 1 < len; s++) {
        if (*s == '\\' && s[1])
            s++;
        val[n++] = *s;
    }
    val[n] = '\0';
}

int img_backing(const char *path, char *backing, size_t blen, char *fmt, size_t flen)
{
    static char out[16384];
    /* -U: the image may be open in a running qemu-nbd; only its header is read. */
    char *argv[] = { (char *)qemu_img(), "info", "-U", "--output=json", (char *)path, NULL };
    if (img_run(argv, out, sizeof(out)) != 0) {
        fprintf(stderr, "vmctl: qemu-img info %s failed\n", path);
        return -1;
    }
    /* The first object is the image's own; full-backing-filename is
       absolute, backing-filename as written in the header. */
    json_string(out, "full-backing-filename", backing, blen);
    if (!backing[0])
        json_string(out, "backing-filename", backing, blen);
    json_string(out, "backing-filename-format", fmt, flen);
    if (backing[0] && !fmt[0])
        snprintf(fmt, flen, "raw");
    return 0;
}

int img_rebase(const char *path, const char *backing, const char *backing_fmt)
{
    char out[512];
    char *argv[12];
    int i = 0;
    argv[i++] = (char *)qemu_img();
    argv[i++] = "rebase";
    argv[i++] = "-q";
    argv[i++] = "-f";
    argv[i++] = "qcow2";
    if (backing[0]) {
        argv[i++] = "-F";
        argv[i++] = (char *)backing_fmt;
    }
    argv[i++] = "-b";
    argv[i++] = (char *)backing;
    argv[i++] = (char *)path;
    argv[i] = NULL;
    if (img_run(argv, out, sizeof(out)) != 0) {
        fprintf(stderr, "vmctl: qemu-img rebase of %s onto %s failed\n", path,
                backing[0] ? backing : "nothing");
        return -1;
    }
    return 0;
}

unsigned long long img_disk_usage(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned long long)st.st_blocks * 512ULL : 0;
}

bool img_domain_running(const char *name)
{
    struct hv *hv;
    char err[256];
    if (hv_open(&hv, err, sizeof(err)) != HV_OK)
        return false;
    bool running = hv_name_running(hv, name);
    hv_close(hv);
    return running;
}

bool img_wait_domain_gone(const char *name, int timeout_s)
{
    for (int i = 0; i < timeout_s * 5; i++) {
        if (!img_domain_running(name))
            return true;
        struct timespec ts = { 0, 200000000L };
        nanosleep(&ts, NULL);
    }
    return !img_domain_running(name);
}
