/* peerwatch — counting peers, not attempts: who failed at the door, once
 * per episode, and which connection a handshake outcome belongs to.
 *
 * libzmq retries a refused connection every 100 ms, so one plaintext client
 * or one revoked key makes dozens of failed handshakes a minute. An
 * operator wants to know how many *peers* are being refused, and to read
 * each one in the log once, not once per retry. An episode is keyed by a
 * string (a CURVE key, a peer address with an outcome); it starts at the
 * first attempt and lasts while attempts keep coming less than window_ms
 * apart. peerwatch_seen says whether an attempt opens an episode (count
 * it, log it), is due a reminder (log how many attempts so far, once per
 * window), or is a retry to stay quiet about.
 *
 * The socket monitor of libzmq 4.3 (v1 events) does not tell which peer a
 * handshake outcome is about: HANDSHAKE_* events carry the listening
 * endpoint and no descriptor; only ACCEPTED and DISCONNECTED carry the fd.
 * With one I/O thread, events reach the monitor in order, so the outcome
 * belongs to the oldest accepted connection whose outcome is not yet known:
 * the pending FIFO below. Its address is read with getpeername() when the
 * ACCEPTED event is handled, which may be after a fast failure closed the
 * socket: then the address is "" (unknown); the caller charges such an
 * outcome to the episode heard from last (peerwatch_latest), and
 * peerwatch_adopt lets an unknown episode take the first real address
 * seen within the window. Two peers failing at once may so be merged or
 * swapped: the count is of peers, best effort, never of retries.
 * Pure: no sockets, tested in tests/unit/test_peerwatch.c. */
#ifndef POE_PEERWATCH_H
#define POE_PEERWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PEERWATCH_EPISODES 256   /* distinct peers remembered; the stalest is forgotten */
#define PEERWATCH_PENDING 128    /* connections whose handshake outcome is awaited */
#define PEERWATCH_WHO_MAX 96
#define PEERWATCH_ADDR_MAX 64

enum peerwatch_verdict {
    PEERWATCH_NEW,      /* first attempt of an episode: count and log */
    PEERWATCH_REMIND,   /* an episode still going, a window since its last log line */
    PEERWATCH_QUIET     /* a retry within the episode */
};

typedef struct peerwatch peerwatch_t;

peerwatch_t *peerwatch_new(int64_t window_ms);
void peerwatch_destroy(peerwatch_t **self_p);

/* One attempt of who at now_ms. *attempts (may be NULL) gets the attempts
 * of the episode so far, this one included. */
enum peerwatch_verdict peerwatch_seen(peerwatch_t *self, const char *who, int64_t now_ms,
                                      uint64_t *attempts);

/* When an episode `from` is going on and `to` has none, `from` becomes
 * `to` (the unknown address was that peer's). True when renamed. */
bool peerwatch_adopt(peerwatch_t *self, const char *from, const char *to, int64_t now_ms);

/* The episode going on whose key starts with prefix and that was heard
 * from last: its key into out (true), or false when there is none. */
bool peerwatch_latest(const peerwatch_t *self, const char *prefix, int64_t now_ms, char *out,
                      size_t len);

/* A connection was accepted on fd from addr ("" when unknown). */
void peerwatch_accepted(peerwatch_t *self, int fd, const char *addr);

/* A handshake ended (either way): the address of the oldest pending
 * connection into addr, which leaves the FIFO. False (addr "") when none
 * is pending. */
bool peerwatch_handshake_done(peerwatch_t *self, char *addr, size_t len);

/* fd was closed: forget it if its handshake outcome never came. */
void peerwatch_closed(peerwatch_t *self, int fd);

#endif
