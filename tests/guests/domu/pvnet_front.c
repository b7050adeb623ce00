/*
 * A PV network front end as a domU test kernel, created by vmctl with an
 * <interface type='bridge'> whose back end is Linux's xen-netback in dom0.
 * mode=arp: connect, send an ARP request for peer= (dom0's address on the
 * bridge) from ip=, and wait for dom0's ARP reply to our MAC: one frame
 * each way through the tx ring (netback maps or copies our granted page)
 * and the rx ring (netback copies into our posted pages with grant copy).
 * Then close and check every grant came back.  Command line:
 * "mode=arp ip=A.B.C.D peer=A.B.C.D".
 */
#include "guest.h"

#include "gnttab.h"
#include "netfront.h"
#include "pv_wait.h"

#include "front_test.h"

#define CONNECT_WAIT_S 60
#define REPLY_S        20

static struct netfront nic;
static uint8_t frame[2048];

static bool parse_ip(const char *s, uint8_t ip[4])
{
    for (unsigned i = 0; i < 4; i++) {
        unsigned v = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 3) {
            v = v * 10 + (unsigned)(*s++ - '0');
            digits++;
        }
        if (!digits || v > 255 || *s != (i < 3 ? '.' : 0))
            return false;
        ip[i] = (uint8_t)v;
        s++;
    }
    return true;
}

/* Ethernet + ARP (RFC 826) for IPv4 over Ethernet: 42 bytes. */
static unsigned arp_request(uint8_t *f, const uint8_t mac[6], const uint8_t ip[4],
                            const uint8_t peer[4])
{
    static const uint8_t head[] = { 0x08, 0x06,          /* ethertype ARP */
                                    0x00, 0x01, 0x08, 0x00, 6, 4,
                                    0x00, 0x01 };        /* request */
    memset(f, 0xff, 6);                                  /* broadcast */
    memcpy(f + 6, mac, 6);
    memcpy(f + 12, head, sizeof(head));
    memcpy(f + 22, mac, 6);
    memcpy(f + 28, ip, 4);
    memset(f + 32, 0, 6);
    memcpy(f + 38, peer, 4);
    return 42;
}

/* An ARP reply from peer to us (mac, ip)? */
static bool is_arp_reply(const uint8_t *f, int len, const uint8_t mac[6], const uint8_t ip[4],
                         const uint8_t peer[4])
{
    return len >= 42 && !memcmp(f, mac, 6) && f[12] == 0x08 && f[13] == 0x06 &&
           f[20] == 0 && f[21] == 2 && !memcmp(f + 28, peer, 4) &&
           !memcmp(f + 32, mac, 6) && !memcmp(f + 38, ip, 4);
}

static void mode_arp(void)
{
    char word[20];
    uint8_t ip[4], peer[4];
    int rc, len, frames = 0;
    bool answered = false;

    cmdline_word("ip=", word, sizeof(word));
    if (!parse_ip(word, ip))
        error_exit("ip=%s is not an IPv4 address", word);
    cmdline_word("peer=", word, sizeof(word));
    if (!parse_ip(word, peer))
        error_exit("peer=%s is not an IPv4 address", word);

    if (netfront_connect(&nic, NULL, CONNECT_WAIT_S)) {
        result(false, "connect", "%s", netfront_error());
        return;
    }
    result(true, "connect", "%s via %s (d%lu), mac %02x:%02x:%02x:%02x:%02x:%02x, port %u",
           nic.dev.fe, nic.dev.be, nic.dev.be_id, nic.mac[0], nic.mac[1], nic.mac[2],
           nic.mac[3], nic.mac[4], nic.mac[5], nic.port);

    /* dom0 may still be bringing the vif into the bridge: ask a few times. */
    uint64_t deadline = pv_deadline_s(REPLY_S);
    for (unsigned tries = 0; !answered && tries < 10; tries++) {
        rc = netfront_send(&nic, frame, arp_request(frame, nic.mac, ip, peer));
        if (rc != NETIF_RSP_OKAY) {
            result(false, "send", "ARP request: status %d %s", rc,
                   rc == -100 ? netfront_error() : "");
            return;
        }
        uint64_t wait = pv_deadline_s(2) < deadline ? pv_deadline_s(2) : deadline;
        while ((len = netfront_receive(&nic, frame, sizeof(frame), wait)) >= 0) {
            frames++;
            if (is_arp_reply(frame, len, nic.mac, ip, peer)) {
                answered = true;
                break;
            }
        }
    }
    result(true, "send", "ARP request for %u.%u.%u.%u sent", peer[0], peer[1], peer[2], peer[3]);
    result(answered, "receive", "%s after %d frames received",
           answered ? "ARP reply from the peer" : "no ARP reply", frames);
    if (netfront_close(&nic, REPLY_S))
        result(false, "close", "%s", netfront_error());
    else
        result(gnttab_in_use() == 0, "close", "closed; %u grants still in use", gnttab_in_use());
}

enum result test_main(void)
{
    front_test_start();
    if (!strcmp(mode, "arp"))
        mode_arp();
    else
        error_exit("unknown mode \"%s\" (arp)", mode);
    front_test_end();
}
