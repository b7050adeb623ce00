/*
 * I/O memory for the control domain (see asm/iomem.h).
 *
 * dom0 runs the device drivers, so it maps device registers and firmware
 * tables directly: every frame outside the RAM ranges of the firmware map,
 * and the first MiB (BIOS data, VGA, option ROMs), which Mica keeps out of
 * its allocator.  Not: addresses beyond what the CPU can address, and
 * ranges above 4 GiB the firmware marks reserved (such as AMD's
 * HyperTransport hole, which Xen keeps from its dom0 too).  The registers
 * Mica programs itself stay read-only to it.
 */
#include <asm/io.h>
#include <asm/iomem.h>
#include <mica/lib.h>

#define MAX_RAM_RANGES BOOT_MAX_MMAP
#define MAX_MICA_PAGES 16
#define LOW_MEMORY_FRAMES 256       /* the first MiB */

struct frame_range {
    u64 start, end;             /* in frames, end exclusive */
};
static struct frame_range ram[MAX_RAM_RANGES], high_reserved[MAX_RAM_RANGES];
static unsigned nr_ram, nr_high_reserved;
static u64 max_frame;           /* first frame beyond the CPU's physical address width */

#define FRAMES_4G (1ULL << (32 - PAGE_SHIFT))

static bool in_ranges(const struct frame_range *r, unsigned n, mfn_t mfn)
{
    for (unsigned i = 0; i < n; i++)
        if (mfn >= r[i].start && mfn < r[i].end)
            return true;
    return false;
}
static mfn_t mica_pages[MAX_MICA_PAGES];
static unsigned nr_mica_pages;

void iomem_init(const struct boot_info *bi)
{
    u32 a, b, c, d;

    cpuid(0x80000000, 0, &a, &b, &c, &d);
    if (a >= 0x80000008) {
        cpuid(0x80000008, 0, &a, &b, &c, &d);
        max_frame = 1ULL << ((a & 0xff) - PAGE_SHIFT);
    } else {
        max_frame = 1ULL << (36 - PAGE_SHIFT);
    }
    for (unsigned i = 0; i < bi->nr_mmap; i++) {
        const struct boot_mmap_entry *e = &bi->mmap[i];
        /* Partial frames round outward: never hand RAM out as I/O. */
        struct frame_range r = { e->addr >> PAGE_SHIFT,
                                 (e->addr + e->len + PAGE_SIZE - 1) >> PAGE_SHIFT };
        if (e->type == MEM_AVAILABLE && nr_ram < MAX_RAM_RANGES)
            ram[nr_ram++] = r;
        else if (e->type == MEM_RESERVED && r.end > FRAMES_4G && nr_high_reserved < MAX_RAM_RANGES)
            high_reserved[nr_high_reserved++] = r;
    }
}

void iomem_reserve_for_mica(paddr_t pa)
{
    if (nr_mica_pages < MAX_MICA_PAGES)
        mica_pages[nr_mica_pages++] = pa >> PAGE_SHIFT;
    else
        pr_warn("iomem: too many of Mica's device pages to protect; %#llx is not\n",
                (unsigned long long)pa);
}

#define MAX_PROTECTED 16
static struct frame_range protected_frames[MAX_PROTECTED];     /* end exclusive; empty slots are {0, 0} */

bool iomem_protect_frames(mfn_t first, mfn_t last)
{
    for (unsigned i = 0; i < MAX_PROTECTED; i++) {
        if (protected_frames[i].end == 0) {
            protected_frames[i] = (struct frame_range){ first, last + 1 };
            return true;
        }
    }
    return false;
}

void iomem_unprotect_frames(mfn_t first, mfn_t last)
{
    for (unsigned i = 0; i < MAX_PROTECTED; i++) {
        if (protected_frames[i].start == first && protected_frames[i].end == last + 1) {
            protected_frames[i] = (struct frame_range){ 0, 0 };
            return;
        }
    }
}

bool iomem_dom0_may_map(mfn_t mfn, bool writable)
{
    if (mfn >= max_frame)
        return false;
    if (mfn >= LOW_MEMORY_FRAMES && in_ranges(ram, nr_ram, mfn))
        return false;
    if (mfn >= FRAMES_4G && in_ranges(high_reserved, nr_high_reserved, mfn))
        return false;
    if (writable) {
        for (unsigned i = 0; i < nr_mica_pages; i++)
            if (mica_pages[i] == mfn)
                return false;
        if (in_ranges(protected_frames, MAX_PROTECTED, mfn))
            return false;
    }
    return true;
}
