/* The command table: names, synopses and help texts. */
#include "commands.h"

#include <stddef.h>

#define NEEDS_HV \
    "Needs the running Mica hypervisor (vmctl in dom0); without it vmctl says\n" \
    "why and exits with status 5, changing nothing.\n"

#define NAME_ARG \
    "NAME is a domain name (running domains also by numeric ID).\n"

const struct vmctl_command vmctl_commands[] = {
    { "create", "FILE.xml", "Start a domain from a definition without storing it",
      "Validates FILE.xml as 'vmctl validate' does, then builds and starts the\n"
      "domain.  The definition is not stored: once the domain is gone, so is it.\n"
      NEEDS_HV
      "Exit status: 0 started, 3 invalid definition, 5 hypervisor unreachable.\n",
      cmd_create },
    { "define", "[--template] FILE.xml", "Store a domain definition for later 'start'",
      "Validates FILE.xml (including that kernel, initrd and disk sources exist)\n"
      "and stores it under $MICA_STATE_DIR/domains/ (default /var/lib/mica).  A\n"
      "definition without <uuid> gets a random one.  A name or UUID that is\n"
      "already defined is refused; 'vmctl undefine' the old one first.\n"
      "  --template  store it as a template (<mica:template/>): 'vmctl clone'\n"
      "              makes domains of it; it cannot be started itself\n"
      "Does not need the hypervisor.\n"
      "Exit status: 0 defined, 3 invalid definition, 6 name or UUID taken.\n",
      cmd_define },
    { "undefine", "[--snapshots-metadata] NAME", "Remove a stored definition",
      "Removes the stored definition of NAME (a name or UUID).  A running domain\n"
      "keeps running.  As virsh undefine, a domain that has snapshots is refused\n"
      "(nothing changes) unless:\n"
      "  --snapshots-metadata  also remove its snapshots' metadata and memory\n"
      "                        images ($MICA_STATE_DIR/snapshots/NAME/); its disk\n"
      "                        images and their snapshot layers stay\n"
      "An empty snapshot directory goes with the definition.\n"
      "Does not need the hypervisor.\n"
      "Exit status: 0 removed, 1 refused or failed, 4 no such definition.\n",
      cmd_undefine },
    { "start", "NAME", "Start a stored domain",
      "Starts the domain stored as NAME (a name or UUID), checking again that\n"
      "its kernel, initrd and disks exist.\n"
      NEEDS_HV
      "Exit status: 0 started, 3 stored definition no longer valid, 4 no such\n"
      "definition, 5 hypervisor unreachable.\n",
      cmd_start },
    { "autostart", "NAME [--disable]", "Start a stored domain when the host boots",
      "Marks the stored domain NAME (a name or UUID) to be started when dom0\n"
      "boots, as 'virsh autostart' does: at boot the mica-autostart service runs\n"
      "'vmctl start-autostart', which starts each marked domain that is not\n"
      "running.  Marking does not start the domain now.  'vmctl undefine' drops\n"
      "the mark with the definition.  The mark is a symbolic link\n"
      "$MICA_STATE_DIR/autostart/NAME.xml to the stored definition.\n"
      "  --disable  remove the mark instead\n"
      "Does not need the hypervisor.\n"
      "Exit status: 0 marked or unmarked, 4 no such definition.\n",
      cmd_autostart },
    { "start-autostart", "", "Start every domain marked for autostart",
      "Starts every stored domain marked with 'vmctl autostart' that is not\n"
      "running, as libvirtd does when it starts; the mica-autostart service\n"
      "runs it once at boot.  A running one is left alone and said so.\n"
      NEEDS_HV
      "Exit status: 0 all marked domains run, 1 one or more did not start\n"
      "(each is said), 5 hypervisor unreachable.\n",
      cmd_start_autostart },
    { "list", "[--all | --inactive] [--json]", "List domains",
      "Without options: running domains, with the columns of 'xl list': Name,\n"
      "ID, Mem (MiB), VCPUs, State (r running, b blocked, p paused, s shut down,\n"
      "c crashed, d dying) and Time(s) of CPU used.\n"
      "  --all       also stored domains that are not running (ID '-', State\n"
      "              'shut-off'), as 'virsh list --all' does\n"
      "  --inactive  only stored domains that are not running; works without\n"
      "              the hypervisor\n"
      "  --json      a JSON array of objects with name, uuid, id, mem_mib,\n"
      "              vcpus, state and time_s instead of the table\n"
      "Without --inactive this needs the running Mica hypervisor; without it\n"
      "vmctl says why and exits with status 5.\n",
      cmd_list },
    { "info", "NAME [--json]", "Show a stored domain's settings and state",
      "Shows the stored definition of NAME (a name or UUID): memory, vCPUs,\n"
      "kernel, devices, scheduler settings, and its state when the hypervisor\n"
      "can be reached ('unknown', with a warning, when it cannot).  For a running\n"
      "domain also what it has now: the memory it holds, its balloon target and\n"
      "ceiling, and its vCPUs online and available (see 'vmctl setmem',\n"
      "'setmaxmem', 'setvcpus').\n"
      "  --json  one JSON object instead of the text (\"now\": the running domain's)\n"
      "Exit status: 0 shown, 4 no such domain.\n",
      cmd_info },
    { "domstats", "[--state] [--cpu-total] [--balloon] [--vcpu] [--interface] [--block] [--json] [NAME]",
      "Show what running domains use: CPU, memory, disk and network I/O",
      "Prints the statistics of every running domain but dom0, or of NAME, in\n"
      "the groups and key=value lines of 'virsh domstats', a blank line after\n"
      "each domain.  Without group options, all groups:\n"
      "  --state      state.state (libvirt's numbers: 1 running or blocked,\n"
      "               3 paused, 4 shut down, 6 crashed), state.reason (0)\n"
      "  --cpu-total  cpu.time: CPU used, in nanoseconds\n"
      "  --balloon    balloon.current, balloon.maximum: memory the domain has\n"
      "               and may have, in KiB\n"
      "  --vcpu       vcpu.current (online), vcpu.maximum, vcpu.N.state (0\n"
      "               offline, 1 running, 2 blocked), vcpu.N.time (ns)\n"
      "  --interface  net.count, net.N.name (the vif in dom0), net.N.rx.bytes,\n"
      "               .rx.pkts, .rx.errs, .rx.drop and the same for tx, as the\n"
      "               guest sees them (what the vif sent, the guest received)\n"
      "  --block      block.count, block.N.name (xvda), block.N.path,\n"
      "               block.N.rd.reqs, .rd.bytes, .wr.reqs, .wr.bytes, .fl.reqs\n"
      "               as dom0's blkback counted them\n"
      "  --json       a JSON array of {name, id, stats: {KEY: VALUE}} instead\n"
      "Counters grow from the device's attachment (disks and interfaces) or\n"
      "the domain's start (CPU); the rate is the difference of two readings.\n"
      "A device whose counters cannot be read is named, with a warning.\n"
      NAME_ARG NEEDS_HV "Exit status: 0 shown, 4 no such running domain.\n",
      cmd_domstats },
    { "hostinfo", "[--json]", "Show the host's CPUs and memory",
      "Prints what the hypervisor reports about the machine (physinfo), in the\n"
      "layout of the matching 'xl info' lines: nr_cpus, cpu_mhz, total_memory\n"
      "and free_memory in MiB, and total_pages and free_pages (4 KiB pages).\n"
      "  --json  one JSON object with the same values instead of the text\n"
      NEEDS_HV
      "Exit status: 0 shown, 5 hypervisor unreachable.\n",
      cmd_hostinfo },
    { "dumpxml", "NAME", "Print a stored domain's XML definition",
      "Prints the stored definition of NAME (a name or UUID) as vmctl stored\n"
      "it, including a generated <uuid>.  The output is valid input for\n"
      "'vmctl define'.  Does not need the hypervisor.\n"
      "Exit status: 0 printed, 4 no such definition.\n",
      cmd_dumpxml },
    { "shutdown", "[--wait [--timeout SECONDS]] [--force] NAME", "Ask a domain to power off",
      "Asks the guest to shut down cleanly, as 'xl shutdown' does for a PV guest:\n"
      "writes 'poweroff' to its xenstore control/shutdown, which a Linux guest's\n"
      "xenbus driver answers by running /sbin/poweroff.  The guest may take a\n"
      "while or refuse.  What happens to the domain once it is off is its\n"
      "<on_poweroff> (destroy, restart or preserve; vmctl's monitor acts on it).\n"
      "A guest that has not written control/feature-poweroff = 1 (no PV drivers,\n"
      "or not yet booted far enough) is refused unless --force is given.\n"
      "  -w, --wait         wait until the domain has shut down or is gone\n"
      "  --timeout SECONDS  with --wait: give up after this long (exit status 1)\n"
      "  -F, --force        if the guest does not answer the PV control protocol,\n"
      "                     shut it down from outside (SCHEDOP_remote_shutdown)\n"
      NAME_ARG NEEDS_HV "Exit status: 0 asked (with --wait: done), 1 refused or timed out,\n"
      "4 no such running domain.\n",
      cmd_shutdown },
    { "reboot", "[--wait [--timeout SECONDS]] [--force] NAME", "Ask a domain to reboot",
      "Asks the guest to reboot cleanly through xenstore's control/shutdown\n"
      "('reboot'), as 'xl reboot' does.  Once the guest has shut down for the\n"
      "reboot, its <on_reboot> says what follows: restart (the default) destroys\n"
      "it and starts it again from the same definition, with the same name and a\n"
      "new ID.  Options as for 'shutdown'; --wait returns once the old domain\n"
      "has shut down or is gone.\n"
      NAME_ARG NEEDS_HV "Exit status: 0 asked (with --wait: done), 1 refused or timed out,\n"
      "4 no such running domain.\n",
      cmd_shutdown },
    { "destroy", "NAME", "Stop a domain at once",
      "Ends the domain immediately, like pulling the power cord; its stored\n"
      "definition, if any, stays.\n"
      NAME_ARG NEEDS_HV "Exit status: 0 destroyed, 4 no such running domain.\n",
      cmd_domain_op },
    { "pause", "NAME", "Stop scheduling a domain's vCPUs",
      "Keeps the domain in memory but runs none of its vCPUs until 'unpause'.\n"
      NAME_ARG NEEDS_HV "Exit status: 0 paused, 4 no such running domain.\n",
      cmd_domain_op },
    { "unpause", "NAME", "Resume a paused domain",
      "Lets a paused domain's vCPUs run again.\n"
      NAME_ARG NEEDS_HV "Exit status: 0 resumed, 4 no such running domain.\n",
      cmd_domain_op },
    { "console", "NAME", "Attach this terminal to a domain's console",
      "Connects this terminal to the domain's PV console through the console\n"
      "daemon micaconsoled (its socket: $MICA_CONSOLE_SOCKET, default\n"
      "/run/mica/console.sock); Ctrl-] leaves.  Without a terminal on stdin the\n"
      "guest's output is copied to stdout until the domain goes; everything it\n"
      "printed is also in /var/log/mica/console/NAME.log.\n"
      NAME_ARG NEEDS_HV "Exit status: 0 after leaving, 1 no console daemon or it serves no\n"
      "console for the domain, 4 no such running domain.\n",
      cmd_domain_op },
    { "sched", "[--weight N] [--cap N] NAME", "Show or set a domain's CPU share",
      "Shows the credit scheduler's weight (relative share of CPU time, default\n"
      "256) and cap (percent of one physical CPU the domain may use at most; 0\n"
      "is none) of a running domain, as 'xl sched-credit -d' does, after setting\n"
      "the ones given.  The definition's <mica:scheduler weight= cap=> sets them\n"
      "when the domain starts; changes here last until it stops.\n"
      "  --weight N  1 to 65535\n"
      "  --cap N     0 to 51200\n"
      NAME_ARG NEEDS_HV "Exit status: 0 shown, 1 the hypervisor refused, 4 no such running domain.\n",
      cmd_sched },
    { "vcpu-list", "[NAME]", "Show where each vCPU runs and may run",
      "Lists the vCPUs of every running domain, or of NAME, in the columns of\n"
      "'xl vcpu-list': Name, ID, VCPU, CPU (the physical CPU it runs or last ran\n"
      "on; '-' when the vCPU is offline), State (r running, b blocked, p offline),\n"
      "Time(s) of CPU used, and Affinity: the hard mask (where it may run) and the\n"
      "soft one (where it prefers to), 'all' when every CPU of the host.\n"
      NEEDS_HV "Exit status: 0 shown, 4 no such running domain.\n",
      cmd_vcpu_list },
    { "vcpu-pin", "NAME VCPU CPULIST", "Choose the CPUs a vCPU may run on",
      "Sets the hard affinity of vCPU VCPU (a number from 0, or 'all') of the\n"
      "running domain NAME, as 'xl vcpu-pin' does.  CPULIST is libvirt's and xl's\n"
      "syntax: CPUs and ranges separated by commas, '^' to leave one out, e.g.\n"
      "'0-3,^1', or 'all'.  A CPU the host does not have, a list that selects no\n"
      "CPU and a vCPU the domain does not have are refused and nothing changes.\n"
      "The definition's <vcpu cpuset> and <cputune><vcpupin> set it at start;\n"
      "changes here last until the domain stops.  Prints the CPUs Mica will use.\n"
      NAME_ARG NEEDS_HV "Exit status: 0 pinned, 1 refused, 2 bad arguments, 4 no such running\n"
      "domain.\n",
      cmd_vcpu_pin },
    { "setmem", "NAME SIZE [--live] [--config] [--current] [--wait [--timeout SECONDS]]",
      "Grow or shrink a domain's memory (its balloon target)",
      "Sets how much memory domain NAME should have, as 'virsh setmem' does.\n"
      "SIZE is a whole number with an optional unit: KiB when none; k, M, G, T\n"
      "or KiB, MiB, GiB, TiB (powers of 1024); KB, MB, GB, TB (powers of 1000);\n"
      "b; in any case.  It must be at least 32 MiB and at most the domain's\n"
      "maximum ('vmctl setmaxmem'); otherwise nothing changes.\n"
      "  --live     the running domain: memory/target in xenstore, which the\n"
      "             guest's balloon driver follows by giving pages back or taking\n"
      "             them (a Linux guest grows only up to the maximum it booted with)\n"
      "  --config   the stored definition's <currentMemory>, for the next start\n"
      "  --current  --live for a running domain, --config for a stopped one (the\n"
      "             default)\n"
      "  --wait     then wait until the guest holds SIZE (within 1 MiB)\n"
      "  --timeout SECONDS  how long --wait waits (default 60)\n"
      "'vmctl list' and 'vmctl info' show what the domain holds.\n"
      "NAME is a domain name (running domains also by numeric ID or UUID).\n"
      "Exit status: 0 set, 1 refused or failed (said why; with --wait, the guest did\n"
      "not reach SIZE in time), 2 bad arguments, 4 no such domain, 5 hypervisor\n"
      "unreachable (--config alone does not need it).\n",
      cmd_setmem },
    { "setmaxmem", "NAME SIZE [--live] [--config] [--current]",
      "Change the most memory a domain may have",
      "Sets domain NAME's memory ceiling, as 'virsh setmaxmem' does.  SIZE as\n"
      "for 'vmctl setmem', at least 32 MiB.\n"
      "  --live     the running domain: XEN_DOMCTL_max_mem and memory/static-max\n"
      "             (as xl's and libvirt's libxl driver); refused below its\n"
      "             balloon target (lower that first with 'vmctl setmem').  A Linux\n"
      "             guest cannot use more than the maximum it booted with\n"
      "  --config   the stored definition's <memory>, for the next start; a\n"
      "             <currentMemory> above it is lowered to it\n"
      "  --current  --live for a running domain, --config for a stopped one (the\n"
      "             default)\n"
      "NAME is a domain name (running domains also by numeric ID or UUID).\n"
      "Exit status: 0 set, 1 refused or failed, 2 bad arguments, 3 the change would\n"
      "make the definition invalid (e.g. above <maxMemory>), 4 no such domain,\n"
      "5 hypervisor unreachable (--config alone does not need it).\n",
      cmd_setmem },
    { "setvcpus", "NAME COUNT [--live] [--config] [--current] [--maximum]",
      "Change how many vCPUs a domain has",
      "Makes vCPUs 0 to COUNT-1 of domain NAME available and the others not, as\n"
      "'virsh setvcpus' does.  COUNT is 1 to the domain's maximum (32 at most).\n"
      "  --live     the running domain: cpu/N/availability in xenstore (as 'xl\n"
      "             vcpu-set'); the guest takes vCPUs down itself, and a Linux\n"
      "             guest onlines an added one when userspace does (udev, or\n"
      "             'echo 1 > /sys/devices/system/cpu/cpuN/online')\n"
      "  --config   the stored definition's <vcpu current=>, for the next start\n"
      "  --current  --live for a running domain, --config for a stopped one (the\n"
      "             default)\n"
      "  --maximum  change the stored definition's maximum (<vcpu>) instead,\n"
      "             for the next start (implies --config; a running domain's\n"
      "             maximum is fixed when it is made); a current count above it\n"
      "             is lowered to it\n"
      "'vmctl list' (VCPUs: online now), 'vmctl info' and 'vmctl vcpu-list' show\n"
      "the result.\n"
      "NAME is a domain name (running domains also by numeric ID or UUID).\n"
      "Exit status: 0 set, 1 refused or failed, 2 bad arguments, 3 the change would\n"
      "make the definition invalid (e.g. a <vcpupin> of a vCPU it drops), 4 no\n"
      "such domain, 5 hypervisor unreachable (--config alone does not need it).\n",
      cmd_setvcpus },
    { "attach-disk", "NAME SOURCE TARGET [--mode readonly]", "Give a running domain another disk",
      "Attaches the image file or block device SOURCE (an absolute path) to the\n"
      "running domain NAME as TARGET (xvdb, xvdc, ...), as 'virsh attach-disk'\n"
      "does: an image file gets a loop device in dom0, and dom0's blkback serves\n"
      "it; the guest's blkfront sees a new disk.  A source attached read-write to\n"
      "any domain is refused, as is one attached anywhere when asked read-write.\n"
      "  --mode readonly  the guest may only read it\n"
      "The disk lasts until 'detach-disk' or until the domain goes.\n"
      NAME_ARG NEEDS_HV "Exit status: 0 attached, 1 refused, 4 no such running domain.\n",
      cmd_attach_disk },
    { "detach-disk", "NAME TARGET", "Take a disk away from a running domain",
      "Asks the guest to let go of disk TARGET (back-end state Closing; up to\n"
      "10 s for it to close), then removes it anyway and releases its loop\n"
      "device.\n"
      NAME_ARG NEEDS_HV "Exit status: 0 detached, 1 no such disk, 4 no such running domain.\n",
      cmd_detach_disk },
    { "attach-interface", "NAME --bridge BR [--mac MAC]",
      "Give a running domain another network interface",
      "Attaches a PV network interface to the running domain NAME, its dom0 end\n"
      "(vifID.N, made by netback) a port of bridge BR, which must exist.  A MAC\n"
      "is picked (00:16:3e:xx:xx:xx) unless given; one already in use is refused.\n"
      "  --bridge BR  the dom0 bridge\n"
      "  --mac MAC    the guest's MAC address\n"
      NAME_ARG NEEDS_HV "Exit status: 0 attached, 1 refused, 4 no such running domain.\n",
      cmd_attach_interface },
    { "detach-interface", "NAME MAC", "Take a network interface away from a running domain",
      "Closes the interface with address MAC as detach-disk closes a disk, takes\n"
      "its vif off the bridge and removes it.\n"
      NAME_ARG NEEDS_HV "Exit status: 0 detached, 1 no such interface, 4 no such running domain.\n",
      cmd_detach_interface },
    { "save", "[--timeout SECONDS] [--xl-format] NAME FILE",
      "Save a running domain's state to a file",
      "Asks the guest to suspend (control/shutdown = 'suspend', as 'xl save'),\n"
      "writes its memory, vCPU state and definition to FILE (Xen's migration\n"
      "stream v2 with a checksum after every record; docs/state-files.md) under\n"
      "a temporary name, renames it into place and destroys the domain.  A\n"
      "guest that does not suspend within the time-out (default 120 s) runs on;\n"
      "any later failure removes the partial file and resumes the guest.\n"
      "On a terminal the progress is shown as a percentage.\n"
      "  --timeout SECONDS  how long the guest has to suspend (default 120)\n"
      "  --xl-format        put xl's header first, with the stored definition as\n"
      "                     libxl's JSON configuration, so that Xen's 'xl restore'\n"
      "                     reads the file too (vmctl restore still does)\n"
      NAME_ARG NEEDS_HV "Exit status: 0 saved, 1 failed (the domain runs on), 4 no such\n"
      "running domain.\n",
      cmd_save },
    { "restore", "[--paused] [--check] FILE", "Start a domain again from a saved state file",
      "Reads FILE written by 'vmctl save' and checks every record's checksum\n"
      "first: a damaged file is refused with the record number and offset and\n"
      "nothing is created.  Then builds the domain with the saved name, UUID,\n"
      "memory and vCPU state (XSAVE/AVX included), writes its xenstore nodes and\n"
      "the guest's own saved ones, attaches the definition's disks and\n"
      "interfaces (with the MACs it had) and lets it run on from where it was\n"
      "saved; its front-ends reconnect when it resumes.  A name or UUID in use\n"
      "by a running domain is refused.  Any failure destroys the half-built\n"
      "domain.  On a terminal the progress is shown as a percentage.\n"
      "A file from Xen's 'xl save' (xl's header first) is read too: the\n"
      "definition is made from xl's JSON configuration in that header, its saved\n"
      "CPU policy is applied, and since such a file has no checksums only its\n"
      "framing and record layouts can be checked (said on stderr).\n"
      "  --paused  leave the restored domain paused\n"
      "  --check   read and check the whole file, say what it holds; for an xl\n"
      "            file print the definition made from its configuration (stdout,\n"
      "            for 'vmctl define'); create nothing\n"
      NEEDS_HV "Exit status: 0 restored, 1 failed, 3 damaged or unusable file, 6 a domain\n"
      "of that name or UUID is running.\n",
      cmd_restore },
    { "backup", "[--full] [--offline] NAME DIR", "Back up a domain's definition and disks",
      "Backs up the stored domain NAME (its definition and every disk: raw image\n"
      "files and block devices; qcow2 images are refused) into DIR, a directory\n"
      "made for it (new or empty at the first backup).  A running domain is\n"
      "paused while its disks are read, so the copy is crash-consistent, and\n"
      "unpaused after.  The first backup is full; later ones are incremental:\n"
      "blocks (64 KiB) are fingerprinted with XXH3-128 and only those not\n"
      "already stored are written; blocks that repeat are stored once.  Files\n"
      "are written under temporary names and renamed; a failure leaves DIR as\n"
      "it was.  Format and choices: docs/backups.md.\n"
      "  --full     start a new chain that needs no earlier backup\n"
      "  --offline  the domain is not running: go on without the hypervisor\n"
      "Exit status: 0 backed up, 1 failed, 3 DIR is not a backup directory, is\n"
      "another domain's or its chain is damaged or has a hole (--full starts\n"
      "anew), 4 no such domain, 5 hypervisor unreachable (without --offline).\n",
      cmd_backup },
    { "backup-verify", "DIR", "Re-hash every block and manifest of a backup directory",
      "Reads every manifest and block in DIR written by 'vmctl backup', checks\n"
      "each against its XXH3-128 fingerprint and each backup's chain, and prints\n"
      "every problem (file, block, offset, expected and actual hash) and one\n"
      "line per backup.  Changes nothing.  Does not need the hypervisor.\n"
      "Exit status: 0 all match, 3 damage found or DIR is not a backup directory.\n",
      cmd_backup_verify },
    { "backup-restore", "[--name NEW] [--at N] [--disk-dir DIR2] DIR",
      "Define a domain again from a backup, with its disks",
      "Rebuilds the definition and the disks of backup N (default: the latest)\n"
      "in DIR and stores the definition, as 'vmctl define' does; 'vmctl start'\n"
      "then starts it.  Every block is checked against its fingerprint as it is\n"
      "read; disks are written under temporary names and renamed once all are\n"
      "complete, so a failure leaves nothing.  Without --name the domain gets\n"
      "its name, UUID and disk paths back, and each must be free.  With --name\n"
      "NEW the disks go next to the originals as NEW-xvdX.img, and when the\n"
      "original domain still exists NEW gets a fresh UUID and MACs.\n"
      "  --name NEW      restore as domain NEW\n"
      "  --at N          restore backup N instead of the latest\n"
      "  --disk-dir DIR2 write the disks as DIR2/NAME-xvdX.img (needed for disks\n"
      "                  that were block devices)\n"
      "Does not need the hypervisor.\n"
      "Exit status: 0 restored, 1 failed, 3 not a backup directory or damaged\n"
      "(or a chain with a hole), 6 the name, UUID or a disk path is in use.\n",
      cmd_backup_restore },
    { "snapshot-create", "[--disk-only] [--description TEXT] NAME [SNAP]",
      "Take a snapshot of a domain's disks and memory",
      "Freezes every writable disk of the stored domain NAME (qcow2 image files\n"
      "only): the image becomes the snapshot's layer, IMAGE.snap-SNAP, and a new\n"
      "overlay on it takes the image's place.  A running domain is also saved\n"
      "to $MICA_STATE_DIR/snapshots/NAME/SNAP.state, as 'vmctl save' does,\n"
      "before the disks freeze and restored right after (it runs on, under a\n"
      "new ID).  The metadata is libvirt's <domainsnapshot> XML next to it.\n"
      "SNAP defaults to the time in seconds.  Read-only disks are not frozen.\n"
      "  --disk-only           no memory image (the domain is saved only for\n"
      "                        the moment the disks freeze)\n"
      "  --description TEXT   kept in the metadata\n"
      NEEDS_HV "Exit status: 0 made, 1 failed (nothing changed), 4 no such domain,\n"
      "6 the snapshot exists.\n",
      cmd_snapshot_create },
    { "snapshot-list", "NAME", "List a domain's snapshots",
      "Lists the snapshots of the stored domain NAME, oldest first: name,\n"
      "creation time, state (running: with memory; shutoff; disk-snapshot) and\n"
      "parent.  '*' marks the current one (the domain's disks sit on it).\n"
      "Exit status: 0 listed, 4 no such domain.\n",
      cmd_snapshot_list },
    { "snapshot-revert", "[--paused] NAME SNAP", "Go back to a snapshot",
      "Brings the domain NAME back to snapshot SNAP: its disks are as they were\n"
      "then (whatever was written since is gone) and, for a snapshot with\n"
      "memory, the domain runs on from that moment.  A running domain is\n"
      "destroyed first.  Without memory the domain is left shut off.  A\n"
      "missing snapshot or missing snapshot files are refused, nothing changed.\n"
      "  --paused  leave the restored domain paused\n"
      NEEDS_HV "Exit status: 0 reverted, 1 failed, 4 no such domain or snapshot.\n",
      cmd_snapshot_revert },
    { "snapshot-delete", "NAME SNAP", "Delete a snapshot, keeping the others",
      "Removes snapshot SNAP of NAME.  Whatever sits on its layers (the layers\n"
      "of its child snapshots, the domain's images when it is the current one)\n"
      "is rebased onto the layer below with 'qemu-img rebase', so every other\n"
      "snapshot stays valid; its children get its parent.  A running domain\n"
      "whose images sit on it is saved meanwhile and restored after.\n"
      NEEDS_HV "Exit status: 0 deleted, 1 failed (nothing changed), 4 no such domain\n"
      "or snapshot.\n",
      cmd_snapshot_delete },
    { "snapshot-dumpxml", "NAME SNAP", "Print a snapshot's metadata",
      "Prints the <domainsnapshot> XML of snapshot SNAP of NAME (checked against\n"
      "xml-schemas/domainsnapshot.rng).\n"
      "Exit status: 0 printed, 4 no such domain or snapshot.\n",
      cmd_snapshot_dumpxml },
    { "clone", "SOURCE NEW", "Make a new domain from a template or a stopped domain",
      "Defines NEW from the stored definition of SOURCE (a template, see 'define\n"
      "--template', or a domain that is not running) with a fresh name, UUID and\n"
      "MACs.  Each writable disk becomes a qcow2 overlay,\n"
      "$MICA_STATE_DIR/images/NEW.TARGET.qcow2, on SOURCE's image, so a clone\n"
      "costs only what it writes.  A domain's (not a template's) image is first\n"
      "frozen under an overlay of its own, so that it can run on without\n"
      "changing its clones.  Read-only disks are shared.\n"
      "Exit status: 0 cloned, 1 failed (nothing changed), 4 no such domain,\n"
      "6 NEW exists.\n",
      cmd_clone },
    { "migrate", "[--live|--offline] [--copy-storage] [--max-downtime MS] [--max-rounds N] "
      "[--ssh-command CMD] [--timeout SECONDS] NAME DESTINATION", "Move a running domain to another Mica host",
      "Runs 'ssh DESTINATION vmctl migrate-receive' (as 'xl migrate' does) and\n"
      "sends the domain over it in the stream 'vmctl save' writes.  --live (the\n"
      "default): log-dirty on, every page sent while the guest runs, then rounds\n"
      "of the pages it dirtied meanwhile, until the rest fits --max-downtime\n"
      "(default 300 ms at the measured speed), stops shrinking, or --max-rounds\n"
      "(default 30) is reached; then the guest is suspended, the last pages and\n"
      "its vCPU state sent, and it resumes on DESTINATION.  --offline: suspend\n"
      "first and send everything once (save + restore).  DESTINATION may be this\n"
      "host (localhost): the incoming domain is built as NAME--incoming and\n"
      "renamed when this one is gone.  Any failure before the destination\n"
      "resumed it leaves the guest running here and nothing on the destination.\n"
      "On a terminal: round, pages left and dirty rate.  The summary line gives\n"
      "the downtime (suspend to resumed, the toolstack's view).\n"
      "  --copy-storage     also copy every disk image file to the same path on\n"
      "                     DESTINATION (created there; it must not exist and\n"
      "                     must fit): read-write images through a dm-mirror whose\n"
      "                     second leg is the destination's copy, over ssh, while\n"
      "                     the guest runs; read-only images once.  Block-device,\n"
      "                     qcow2 and <shareable/> disks are refused (shared\n"
      "                     storage instead).\n"
      "                     On failure the destination's copies are removed.\n"
      "  --ssh-command CMD  run CMD instead of 'ssh -o BatchMode=yes' (through sh)\n"
      "  --timeout S        how long the guest may take to suspend (default 120)\n"
      NAME_ARG NEEDS_HV "Exit status: 0 migrated, 1 failed (the domain runs on here), 4 no\n"
      "such running domain.\n",
      cmd_migrate },
    { "migrate-receive", "[--token T] [--copy-storage] [--disk TARGET]",
      "The receiving side of 'vmctl migrate'",
      "Reads a migration stream on standard input and answers on standard\n"
      "output; 'vmctl migrate' runs it on the destination through ssh.  Not\n"
      "meant to be run by hand.\n"
      NEEDS_HV "Exit status: 0 received and running, 1 failed (nothing is left).\n",
      cmd_migrate_receive },
    { "evacuate", "[--live|--offline] [--copy-storage] [--dry-run] [--max-downtime MS] "
      "[--max-rounds N] "
      "[--ssh-command CMD] [--timeout SECONDS] DESTINATION",
      "Move every running domain of this host to another Mica host",
      "Migrates every domain that runs here (all but Domain-0; not those that\n"
      "have shut down) to DESTINATION, one at a time in order of domain ID, each\n"
      "with 'vmctl migrate' and the options given (see 'vmctl help migrate').\n"
      "The first failure stops it: that domain and the ones not yet moved run on\n"
      "here, and the message says which moved and which are left.  A paused\n"
      "domain is a failure (a paused guest cannot suspend itself to be moved);\n"
      "a domain that stopped on its own meanwhile is skipped.\n"
      "  --copy-storage  each domain's disk image files move with it (as\n"
      "                  'vmctl migrate --copy-storage'); the plan says so\n"
      "  --dry-run       print the domains and their order, move nothing\n"
      NEEDS_HV "Exit status: 0 every domain migrated (or none to move), 1 stopped at a\n"
      "failure (the rest run on here).\n",
      cmd_evacuate },
    { "validate", "[--no-file-checks] FILE.xml", "Check a domain definition",
      "Checks FILE.xml against the Mica domain schema and the rules a schema\n"
      "cannot express (memory <= maxMemory, currentMemory <= memory, vCPU\n"
      "current <= maximum, unique disk targets and MACs, unicast MACs, name\n"
      "characters and length, kernel/initrd/disk sources exist).  Problems\n"
      "are printed as FILE:LINE: sentence.  Does not need the hypervisor.\n"
      "  --no-file-checks  skip the checks that files exist on this machine\n"
      "                    (for a definition meant for another host)\n"
      "Exit status: 0 valid, 3 invalid, 1 file unreadable.\n",
      cmd_validate },
    { NULL, NULL, NULL, NULL, NULL },
};
