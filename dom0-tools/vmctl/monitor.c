/* The per-domain monitor (see monitor.h). */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/file.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exitcodes.h"
#include "hv.h"

#include "domctl_save.h"

#define SAVING_DIR "/run/mica/saving"

static void mark_path(char *path, size_t len, uint32_t domid)
{
    snprintf(path, len, SAVING_DIR "/%u", domid);
}

int monitor_save_mark(uint32_t domid, const char *file)
{
    char path[64];
    if ((mkdir("/run/mica", 0755) < 0 && errno != EEXIST) ||
        (mkdir(SAVING_DIR, 0755) < 0 && errno != EEXIST))
        return -1;
    mark_path(path, sizeof(path), domid);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0 || ftruncate(fd, 0) < 0) {
        close(fd);
        return -1;
    }
    /* The absolute path, so that the monitor (another directory) finds it. */
    char *abs = file[0] == '/' ? NULL : realpath(".", NULL);
    dprintf(fd, "%s%s%s\n", abs ? abs : "", abs ? "/" : "", file);
    free(abs);
    return fd;
}

void monitor_save_unmark(uint32_t domid, int fd)
{
    char path[64];
    if (fd < 0)
        return;
    mark_path(path, sizeof(path), domid);
    unlink(path);
    close(fd);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The suspended domain's save died: true when it was resumed here. */
static bool resume_orphaned_save(struct hv *hv, uint32_t domid)
{
    char path[64], file[4096] = "";
    mark_path(path, sizeof(path), domid);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false; /* not a vmctl save */
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return false; /* the save runs */
    }
    ssize_t n = read(fd, file, sizeof(file) - 1);
    file[n > 0 ? n : 0] = '\0';
    file[strcspn(file, "\n")] = '\0';
    struct mica_hv *m = hv_mica(hv);
    struct vcpu_guest_context ctx;
    int r;
    if ((r = mica_vcpu_context_get(m, (uint16_t)domid, 0, &ctx)) == 0) {
        ctx.user_regs.rax = 1; /* the guest's suspend hypercall returns "cancelled" */
        if ((r = mica_vcpu_context_set(m, (uint16_t)domid, 0, &ctx)) == 0)
            r = mica_domain_resume(m, (uint16_t)domid);
    }
    if (r) {
        say("domain %u: its 'vmctl save' ended without finishing, and resuming it failed: %s; "
            "it stays suspended ('vmctl destroy' ends it)", domid, strerror(-r));
        close(fd);
        return false;
    }
    say("domain %u: its 'vmctl save' to %s ended without finishing (killed?); the guest was "
        "resumed and runs on", domid, file[0] ? file : "?");
    if (file[0]) {
        char pattern[4200];
        glob_t g;
        snprintf(pattern, sizeof(pattern), "%s.tmp-??????", file);
        if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc; i++)
                if (unlink(g.gl_pathv[i]) == 0)
                    say("removed the partial %s", g.gl_pathv[i]);
            globfree(&g);
        }
    }
    unlink(path);
    close(fd);
    return true;
}

/* How long a destroyed domain may stay dying (until xenstored and the
   console daemon have unmapped its pages) before a restart goes ahead
   anyway; the new domain may then find less memory free. */
#define RESTART_WAIT_S 30
/* A restart loop (a guest that reboots as soon as it is up) is stopped
   after this many restarts within RESTART_WINDOW_S, as xl does with its
   own limit; the domain is then left shut down. */
#define RESTART_BURST 5
#define RESTART_WINDOW_S 60

static bool supported(enum domcfg_action a)
{
    return a == DOMCFG_ACTION_DESTROY || a == DOMCFG_ACTION_RESTART ||
           a == DOMCFG_ACTION_PRESERVE;
}

int monitor_check_actions(const struct vmctl_command *cmd, const char *file,
                          const struct domain_config *cfg)
{
    const struct { const char *element; enum domcfg_action action; } all[] = {
        { "on_poweroff", cfg->on_poweroff },
        { "on_reboot", cfg->on_reboot },
        { "on_crash", cfg->on_crash },
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (supported(all[i].action))
            continue;
        fprintf(stderr, "%s: <%s>%s</%s> is not carried out by vmctl (it does destroy, "
                "restart and preserve; %s needs %s)\n", file, all[i].element,
                domcfg_action_name(all[i].action), all[i].element,
                domcfg_action_name(all[i].action),
                all[i].action == DOMCFG_ACTION_RENAME_RESTART ? "renaming a running domain"
                                                              : "dumping guest memory");
        bad++;
    }
    if (!bad)
        return VMCTL_EXIT_OK;
    return cli_fail(cmd, VMCTL_EXIT_INVALID, "%s is not a definition vmctl can run (%d "
                    "unsupported action%s)", file, bad, bad == 1 ? "" : "s");
}

__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime_r(&now, &tm));
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s vmctl-monitor[%d]: ", when, (int)getpid());
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Waits until domid is no longer there at all (not even dying). */
static bool wait_gone(struct hv *hv, uint32_t domid)
{
    for (int i = 0; i < RESTART_WAIT_S * 4; i++) {
        struct hv_life life;
        if (hv_life(hv, domid, &life) == HV_NO_DOMAIN)
            return true;
        usleep(250 * 1000);
    }
    return false;
}

static enum domcfg_action action_for(const struct domain_config *cfg, unsigned reason,
                                     const char **element)
{
    switch (reason) {
    case HV_REASON_POWEROFF:
        *element = "on_poweroff";
        return cfg->on_poweroff;
    case HV_REASON_REBOOT:
        *element = "on_reboot";
        return cfg->on_reboot;
    default:
        /* crash, and watchdog / soft_reset, which vmctl has no settings
           for: a domain that ended itself unexpectedly. */
        *element = "on_crash";
        return cfg->on_crash;
    }
}

static int monitor_run(const struct domain_config *cfg, uint32_t domid)
{
    struct hv *hv;
    char err[512];
    time_t restarts[RESTART_BURST] = { 0 };
    unsigned nrestarts = 0;
    bool suspended = false;

    if (hv_open(&hv, err, sizeof(err)) != HV_OK) {
        say("cannot reach the hypervisor: %s; domain %u is not monitored", err, domid);
        return 1;
    }
    bool watching = hv_watch_release(hv) == HV_OK;
    if (!watching)
        say("%s; looking at domain %u every second instead", hv_error(hv), domid);
    say("monitoring domain %u '%s' (on_poweroff %s, on_reboot %s, on_crash %s)", domid,
        cfg->name, domcfg_action_name(cfg->on_poweroff), domcfg_action_name(cfg->on_reboot),
        domcfg_action_name(cfg->on_crash));
    for (;;) {
        struct hv_life life;
        enum hv_status st = hv_life(hv, domid, &life);
        if (st == HV_NO_DOMAIN || (st == HV_OK && life.dying)) {
            say("domain %u '%s' is gone; nothing more to do", domid, cfg->name);
            break;
        }
        if (st != HV_OK) {
            say("%s", hv_error(hv));
        } else if (life.shutdown && life.reason == HV_REASON_SUSPEND) {
            /* 'vmctl save' asked for it and takes it from here: it either
               destroys the domain (saved) or resumes it (save failed), and
               the monitor carries on watching it in the second case. */
            if (!suspended)
                say("domain %u suspended itself; left to 'vmctl save' (it destroys or "
                    "resumes it)", domid);
            suspended = true;
            if (resume_orphaned_save(hv, domid))
                continue;
        } else if (life.shutdown) {
            const char *element;
            enum domcfg_action a = action_for(cfg, life.reason, &element);
            say("domain %u shut down (%s); %s is %s", domid, hv_reason_name(life.reason),
                element, domcfg_action_name(a));
            if (a == DOMCFG_ACTION_PRESERVE) {
                say("domain %u is left shut down; 'vmctl destroy %s' removes it", domid,
                    cfg->name);
                break;
            }
            if (hv_destroy(hv, domid) != HV_OK && hv_life(hv, domid, &life) != HV_NO_DOMAIN)
                say("destroying domain %u failed: %s", domid, hv_error(hv));
            else
                say("domain %u destroyed", domid);
            if (a != DOMCFG_ACTION_RESTART)
                break;
            time_t now = time(NULL);
            if (nrestarts >= RESTART_BURST &&
                now - restarts[nrestarts % RESTART_BURST] < RESTART_WINDOW_S) {
                say("'%s' restarted %d times within %d s; not restarting it again", cfg->name,
                    RESTART_BURST, RESTART_WINDOW_S);
                break;
            }
            restarts[nrestarts++ % RESTART_BURST] = now;
            if (!wait_gone(hv, domid))
                say("domain %u still dying after %d s; restarting anyway", domid,
                    RESTART_WAIT_S);
            uint32_t id;
            if (hv_create(hv, cfg, &id) != HV_OK) {
                say("restarting '%s' failed: %s", cfg->name, hv_error(hv));
                break;
            }
            say("'%s' restarted as domain %u", cfg->name, id);
            domid = id;
            continue;
        }
        if (suspended && st == HV_OK && !life.shutdown) {
            say("domain %u resumed; monitoring it again", domid);
            suspended = false;
        }
        if (!watching || hv_wait_release(hv, 5000) != HV_OK) {
            watching = false;
            sleep(1);
        }
    }
    hv_close(hv);
    return 0;
}

/* stdin from /dev/null, stdout and stderr to the log (else /dev/null), so
   that the monitor holds none of its starter's terminal or pipes. */
static void detach_stdio(const char *name)
{
    const char *dir = getenv("MICA_LOG_DIR");
    char path[512];
    int log = -1;
    if (!dir || !*dir)
        dir = "/var/log/mica";
    if (mkdir(dir, 0755) == 0 || errno == EEXIST) {
        snprintf(path, sizeof(path), "%s/%s.monitor.log", dir, name);
        log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (log < 0)
        log = null;
    if (null >= 0)
        dup2(null, STDIN_FILENO);
    if (log >= 0) {
        dup2(log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
    }
}

/* Every descriptor but stdin, stdout and stderr: the monitor is forked,
   not exec'd, so O_CLOEXEC does not close what its starter had open.
   'vmctl restore' had its state file open: the monitor kept a deleted
   file's pages in dom0's tmpfs for as long as the domain lived, and
   migrate-receive's privcmd and xenstore descriptors likewise. */
static void close_inherited(void)
{
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
        return;
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (long fd = 3; fd < max; fd++)
        close((int)fd);
}

int monitor_spawn(const struct vmctl_command *cmd, const struct domain_config *cfg,
                  uint32_t domid)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        cli_warn(cmd, "cannot start the monitor of domain %u (%s); its on_poweroff, "
                 "on_reboot and on_crash will not be carried out", domid, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* The middle process only makes the monitor init's child, so that
           the caller has nothing to reap later. */
        setsid();
        pid_t mon = fork();
        if (mon != 0)
            _exit(mon < 0 ? 1 : 0);
        detach_stdio(cfg->name);
        close_inherited();
        _exit(monitor_run(cfg, domid));
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        cli_warn(cmd, "cannot start the monitor of domain %u; its on_poweroff, on_reboot "
                 "and on_crash will not be carried out", domid);
        return -1;
    }
    return 0;
}
