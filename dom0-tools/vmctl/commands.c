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
    { "define", "FILE.xml", "Store a domain definition for later 'start'",
      "Validates FILE.xml (including that kernel, initrd and disk sources exist)\n"
      "and stores it under $MICA_STATE_DIR/domains/ (default /var/lib/mica).  A\n"
      "definition without <uuid> gets a random one.  A name or UUID that is\n"
      "already defined is refused; 'vmctl undefine' the old one first.\n"
      "Does not need the hypervisor.\n"
      "Exit status: 0 defined, 3 invalid definition, 6 name or UUID taken.\n",
      cmd_define },
    { "undefine", "NAME", "Remove a stored definition",
      "Removes the stored definition of NAME (a name or UUID).  A running domain\n"
      "keeps running.  Does not need the hypervisor.\n"
      "Exit status: 0 removed, 4 no such definition.\n",
      cmd_undefine },
    { "start", "NAME", "Start a stored domain",
      "Starts the domain stored as NAME (a name or UUID), checking again that\n"
      "its kernel, initrd and disks exist.\n"
      NEEDS_HV
      "Exit status: 0 started, 3 stored definition no longer valid, 4 no such\n"
      "definition, 5 hypervisor unreachable.\n",
      cmd_start },
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
      "can be reached ('unknown', with a warning, when it cannot).\n"
      "  --json  one JSON object instead of the text\n"
      "Exit status: 0 shown, 4 no such domain.\n",
      cmd_info },
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
    { "shutdown", "NAME", "Ask a domain to power off",
      "Asks the guest to shut down cleanly; it may take a while or refuse.\n"
      NAME_ARG NEEDS_HV "Exit status: 0 asked, 4 no such running domain.\n",
      cmd_domain_op },
    { "reboot", "NAME", "Ask a domain to reboot",
      "Asks the guest to reboot cleanly.\n"
      NAME_ARG NEEDS_HV "Exit status: 0 asked, 4 no such running domain.\n",
      cmd_domain_op },
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
