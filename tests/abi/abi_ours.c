/* Differential ABI test: Mica's side (hypervisor/include/public). */
#include <public/xen.h>
#include <public/arch-x86_64.h>
#include <public/callback.h>
#include <public/domctl.h>
#include <public/elfnote.h>
#include <public/errno.h>
#include <public/event_channel.h>
#include <public/features.h>
#include <public/grant_table.h>
#include <public/memory.h>
#include <public/physdev.h>
#include <public/platform.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include <public/version.h>
#include <public/sysctl.h>

#include "abi_table.h"

#define ABI_PROBLEM(text)  { "header-rules", 0, text },

const struct abi_item abi_ours_items[] = {
#include "abi-items.h"
};
const unsigned abi_ours_count = sizeof(abi_ours_items) / sizeof(abi_ours_items[0]);
