/*
 * Fan-out benchmark harness for scripts/bench/fanout-vs-peers.sh.
 *
 * One single-threaded epoll client opening many subscriber connections to one
 * server (the tickstream gateway over WebSocket, Redis pub/sub over RESP, or NATS
 * over its text protocol), plus a paced publisher for the two peers.
 *
 * Subscriber modes:  ws | redis | nats
 *   --port P --conns S [--watch 20] [--duration 15] [--warmup 2]
 *   [--stall K]        K extra connections subscribe, then are never read again
 *   [--idle]           hold the connections; write --ready-file once subscribed
 *   [--query batch=1]  appended to the gateway's /ws URL
 *   [--cpu-pids a,b]   report utime+stime of these processes over the window
 *   [--rate R]         the publish rate, only to print the expected delivery rate
 * Publisher modes:   pub-redis | pub-nats
 *   --port P --rate R --duration T [--watch 1: publish to the symbol's channel]
 *
 * Every delivery is a quote {"sym":"AAPL","seq":N,...,"ts":<unix ns>}: latency is the
 * CLOCK_REALTIME reading right after the read() that returned it minus ts. Per
 * (connection, symbol) the last seq is kept: a jump that the connection's announced
 * conflation total (gateway `stats` frames) does not cover is an unannounced gap, a
 * seq at or below the last one a duplicate. Ends with one key=value line on stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- options */

static const char *opt_mode = "";
static const char *opt_host = "127.0.0.1";
static int opt_port = 0;
static int opt_conns = 100;
static int opt_watch = 0;           /* 0: every symbol; N: N-symbol watchlists */
static double opt_duration = 15;    /* measured seconds (publisher: total run time) */
static double opt_warmup = 2;
static double opt_connect_timeout = 120;
static int opt_connect_batch = 200; /* connections in flight (connecting or subscribing) */
static int opt_stall = 0;
static int opt_idle = 0;
static const char *opt_ready_file = NULL;
static const char *opt_query = "";
static const char *opt_cpu_pids = "";
static const char *opt_symbols_file = "fixtures/symbols.csv";
static int opt_nsymbols = 500;
static uint64_t opt_seed = 42;
static double opt_rate = 1000;
static const char *opt_channel = "prices"; /* every-symbol channel / subject */
static const char *opt_prefix = "q.";      /* watchlist channel / subject = prefix + symbol */

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "harness: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static uint64_t now_real(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t now_mono(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* ---------------------------------------------------------------- symbols */

#define MAX_SYMBOLS 4096
static char sym_name[MAX_SYMBOLS][33];
static int sym_len[MAX_SYMBOLS];
static double sym_weight[MAX_SYMBOLS];
static double sym_price[MAX_SYMBOLS];
static int nsym = 0;
static double total_weight = 0;
#define HASH_SLOTS 8192
static int sym_hash[HASH_SLOTS]; /* index + 1; 0 = empty */

static uint32_t hash_bytes(const char *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

static int sym_lookup(const char *p, size_t n) {
    uint32_t h = hash_bytes(p, n) & (HASH_SLOTS - 1);
    while (sym_hash[h]) {
        int i = sym_hash[h] - 1;
        if ((size_t)sym_len[i] == n && memcmp(sym_name[i], p, n) == 0) return i;
        h = (h + 1) & (HASH_SLOTS - 1);
    }
    return -1;
}

/* fixtures/symbols.csv: ticker,name,sector,reference_price,daily_volatility,typical_volume
 * (name may be quoted and contain commas, so the numbers are taken from the end). */
static void load_symbols(void) {
    FILE *f = fopen(opt_symbols_file, "r");
    if (!f) die("cannot open %s: %s", opt_symbols_file, strerror(errno));
    char line[1024];
    int lineno = 0;
    while (fgets(line, sizeof line, f) && nsym < opt_nsymbols && nsym < MAX_SYMBOLS) {
        if (lineno++ == 0) continue; /* header */
        size_t n = strcspn(line, "\r\n");
        line[n] = 0;
        if (n == 0) continue;
        char *comma = strchr(line, ',');
        if (!comma || comma - line > 32) continue;
        char *fields[3] = {0};
        char *end = line + n;
        int found = 0;
        for (char *q = end - 1; q > comma && found < 3; q--)
            if (*q == ',') fields[found++] = q + 1; /* volume, volatility, price */
        if (found < 3) continue;
        int i = nsym++;
        memcpy(sym_name[i], line, (size_t)(comma - line));
        sym_name[i][comma - line] = 0;
        sym_len[i] = (int)(comma - line);
        sym_weight[i] = atof(fields[0]);
        sym_price[i] = atof(fields[2]);
        if (sym_weight[i] <= 0) sym_weight[i] = 1;
        if (sym_price[i] <= 0) sym_price[i] = 100;
        total_weight += sym_weight[i];
        uint32_t h = hash_bytes(sym_name[i], (size_t)sym_len[i]) & (HASH_SLOTS - 1);
        while (sym_hash[h]) h = (h + 1) & (HASH_SLOTS - 1);
        sym_hash[h] = i + 1;
    }
    fclose(f);
    if (nsym == 0) die("no symbols in %s", opt_symbols_file);
}

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The watchlist of client `client`: `size` distinct symbols, uniformly at random
 * from the loaded ones, the same for every server (fixed seed). */
static void make_watchlist(int client, int size, int16_t *out) {
    static int16_t perm[MAX_SYMBOLS];
    uint64_t s = opt_seed * 1000003ull + (uint64_t)client * 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < nsym; i++) perm[i] = (int16_t)i;
    for (int i = 0; i < size; i++) {
        int j = i + (int)(splitmix(&s) % (uint64_t)(nsym - i));
        int16_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        out[i] = perm[i];
    }
}

/* ---------------------------------------------------------------- histogram */

/* Log-linear buckets over nanoseconds: 64 sub-buckets per power of two (< 1.6 %). */
#define SUB_BITS 6
#define SUB (1 << SUB_BITS)
#define NBUCKETS (64 * SUB)
static uint64_t hist[NBUCKETS];
static uint64_t hist_count = 0, hist_max = 0;

static int bucket_of(uint64_t v) {
    if (v < SUB) return (int)v;
    int e = 63 - __builtin_clzll(v);
    int sub = (int)((v >> (e - SUB_BITS)) & (SUB - 1));
    return (e - SUB_BITS + 1) * SUB + sub;
}

static uint64_t bucket_upper(int b) { /* largest value in bucket b */
    if (b < SUB) return (uint64_t)b;
    int e = b / SUB + SUB_BITS - 1;
    uint64_t sub = (uint64_t)(b % SUB);
    uint64_t lo = (1ull << e) | (sub << (e - SUB_BITS));
    return lo + (1ull << (e - SUB_BITS)) - 1;
}

static void hist_add(uint64_t v) {
    hist[bucket_of(v)]++;
    hist_count++;
    if (v > hist_max) hist_max = v;
}

static double hist_pct_us(double q) {
    if (hist_count == 0) return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)hist_count);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (int b = 0; b < NBUCKETS; b++) {
        seen += hist[b];
        if (seen >= rank) {
            uint64_t v = bucket_upper(b);
            if (v > hist_max) v = hist_max;
            return (double)v / 1000.0;
        }
    }
    return (double)hist_max / 1000.0;
}

/* ---------------------------------------------------------------- connections */

enum { ST_QUEUED, ST_CONNECTING, ST_HANDSHAKE, ST_LIVE, ST_STALLED, ST_CLOSED, ST_FAILED };
enum { PH_CONNECT, PH_WARMUP, PH_MEASURE, PH_DONE };

typedef struct {
    int fd;
    int state;
    int stall;
    int attempts;
    int subs_ok;          /* redis: subscribe confirmations */
    int nats_info;        /* nats: INFO seen, CONNECT sent */
    int counted;          /* live at the start of the window */
    unsigned char *pend;  /* unparsed input (a partial frame / message) */
    size_t pend_len, pend_cap;
    unsigned char *out;   /* unsent output */
    size_t out_len, out_cap;
    unsigned char *frag;  /* ws: fragmented message being assembled */
    size_t frag_len, frag_cap;
    uint64_t conflated_total, conflated_used, conflated_at_start;
    int nw;
    int16_t *wsyms;       /* watchlist symbol indices (nw of them) */
    uint64_t *last;       /* last seq per symbol slot (nsym slots, or nw slots) */
} conn_t;

static conn_t *conns;
static int nconns;
static int epfd;
static int phase = PH_CONNECT;
static uint64_t t_start, t_connect_done, t_measure_start, t_measure_end; /* realtime ns */
static uint64_t t_measure_target = UINT64_MAX; /* planned end of the window */
static double self_cpu_start;
static struct sockaddr_in server_addr;

/* stats (live connections, measured window only unless noted) */
static uint64_t st_deliveries, st_gaps, st_missing, st_dups, st_snapshots, st_stats_frames,
    st_batches, st_gap_frames, st_errors, st_unknown, st_closed_live, st_failed, st_pings,
    st_bytes, st_messages_all;

static unsigned char *rbuf;
static size_t rbuf_cap = 1 << 20;

static void buf_append(unsigned char **b, size_t *len, size_t *cap, const void *p, size_t n) {
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n) c *= 2;
        *b = realloc(*b, c);
        if (!*b) die("out of memory");
        *cap = c;
    }
    memcpy(*b + *len, p, n);
    *len += n;
}

static void conn_close(conn_t *c, int state) {
    if (c->fd >= 0) {
        struct linger lg = {1, 0}; /* reset: no TIME_WAIT piling up across runs */
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(c->fd);
        c->fd = -1;
    }
    c->state = state;
    free(c->pend); c->pend = NULL; c->pend_len = c->pend_cap = 0;
    free(c->out); c->out = NULL; c->out_len = c->out_cap = 0;
    free(c->frag); c->frag = NULL; c->frag_len = c->frag_cap = 0;
}

static void set_events(conn_t *c, uint32_t ev) {
    struct epoll_event e = {.events = ev, .data.u32 = (uint32_t)(c - conns)};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) < 0) die("epoll_ctl mod: %s", strerror(errno));
}

/* Sends what it can; keeps the rest and asks for EPOLLOUT. */
static void conn_send(conn_t *c, const void *p, size_t n) {
    if (c->fd < 0) return;
    if (c->out_len == 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) return; /* the read side will notice */
            w = 0;
        }
        if ((size_t)w == n) return;
        p = (const unsigned char *)p + w;
        n -= (size_t)w;
    }
    buf_append(&c->out, &c->out_len, &c->out_cap, p, n);
    if (c->state != ST_STALLED) set_events(c, EPOLLIN | EPOLLOUT);
}

static void conn_flush(conn_t *c) {
    while (c->out_len > 0) {
        ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            c->out_len = 0;
            break;
        }
        memmove(c->out, c->out + w, c->out_len - (size_t)w);
        c->out_len -= (size_t)w;
    }
    if (c->state != ST_STALLED) set_events(c, EPOLLIN);
}

/* ---------------------------------------------------------------- scanning */

static const unsigned char *find(const unsigned char *p, size_t n, const char *needle) {
    return memmem(p, n, needle, strlen(needle));
}

static int parse_u64(const unsigned char *p, const unsigned char *end, uint64_t *v) {
    uint64_t x = 0;
    int any = 0;
    while (p < end && (*p == ' ')) p++;
    while (p < end && *p >= '0' && *p <= '9') { x = x * 10 + (uint64_t)(*p - '0'); p++; any = 1; }
    *v = x;
    return any;
}

/* Index of the slot of symbol `s` on connection c, -1 if not watched. */
static int slot_of(conn_t *c, int s) {
    if (c->nw == 0) return s;
    for (int i = 0; i < c->nw; i++)
        if (c->wsyms[i] == s) return i;
    return -1;
}

/* A quote: {"sym":"AAPL","seq":N,...,"ts":<ns>}. snapshot=1 only sets the baseline. */
static void on_quote(conn_t *c, const unsigned char *q, size_t n, uint64_t now, int snapshot) {
    const unsigned char *end = q + n;
    const unsigned char *ps = find(q, n, "\"sym\":\"");
    const unsigned char *pq = find(q, n, "\"seq\":");
    const unsigned char *pt = find(q, n, "\"ts\":");
    int in_window = phase == PH_MEASURE && now >= t_measure_start && now < t_measure_target && c->counted;
    if (!snapshot) st_messages_all++;
    if (!ps || !pq) {
        if (in_window) st_unknown++;
        return;
    }
    ps += 7;
    const unsigned char *se = memchr(ps, '"', (size_t)(end - ps));
    uint64_t seq = 0, ts = 0;
    parse_u64(pq + 6, end, &seq);
    if (pt) parse_u64(pt + 5, end, &ts);
    if (snapshot) {
        if (in_window) st_snapshots++;
    } else if (in_window) {
        st_deliveries++;
        hist_add(now > ts ? now - ts : 0);
    }
    int s = se ? sym_lookup((const char *)ps, (size_t)(se - ps)) : -1;
    int slot = s >= 0 ? slot_of(c, s) : -1;
    if (slot < 0) {
        if (in_window && !snapshot) st_unknown++;
        return;
    }
    uint64_t last = c->last[slot];
    if (snapshot) {
        if (seq > last) c->last[slot] = seq;
        return;
    }
    if (last == 0) { /* no baseline yet: the first one sets it */
        c->last[slot] = seq;
        return;
    }
    if (seq <= last) {
        if (in_window) st_dups++;
        return;
    }
    uint64_t skipped = seq - last - 1;
    if (skipped > 0) {
        uint64_t avail = c->conflated_total - c->conflated_used;
        uint64_t covered = skipped < avail ? skipped : avail;
        c->conflated_used += covered;
        uint64_t unannounced = skipped - covered;
        if (unannounced > 0 && in_window) {
            st_gaps++;
            st_missing += unannounced;
        }
    }
    c->last[slot] = seq;
}

/* End of the JSON object starting at p[0] == '{' (index after its '}'), 0 if none. */
static size_t object_end(const unsigned char *p, size_t n) {
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = p[i];
        if (in_str) {
            if (ch == '\\') i++;
            else if (ch == '"') in_str = 0;
        } else if (ch == '"') in_str = 1;
        else if (ch == '{') depth++;
        else if (ch == '}' && --depth == 0) return i + 1;
    }
    return 0;
}

static void on_ws_frame(conn_t *c, const unsigned char *p, size_t n, uint64_t now, int nested);

/* {"type":"batch","frames":[{…},{…}]}: each element handled as if it came alone. */
static void on_ws_batch(conn_t *c, const unsigned char *p, size_t n, uint64_t now) {
    const unsigned char *fr = find(p, n, "\"frames\":");
    if (!fr) return;
    const unsigned char *end = p + n;
    const unsigned char *q = memchr(fr, '[', (size_t)(end - fr));
    if (!q) return;
    q++;
    if (phase == PH_MEASURE && now < t_measure_target && c->counted) st_batches++;
    while (q < end) {
        while (q < end && *q != '{' && *q != ']') q++;
        if (q >= end || *q == ']') break;
        size_t len = object_end(q, (size_t)(end - q));
        if (!len) break;
        on_ws_frame(c, q, len, now, 1);
        q += len;
    }
}

static void on_ws_frame(conn_t *c, const unsigned char *p, size_t n, uint64_t now, int nested) {
    size_t head = n < 48 ? n : 48;
    const unsigned char *t = find(p, head, "\"type\":\"");
    if (!t) return;
    t += 8;
    size_t rest = (size_t)(p + n - t);
    int in_window = phase == PH_MEASURE && now < t_measure_target && c->counted;
#define IS(word) (rest > sizeof(word) - 1 && memcmp(t, word "\"", sizeof(word)) == 0)
    if (IS("update") || IS("snapshot")) {
        int snapshot = t[0] == 's';
        const unsigned char *q = find(t, rest, "\"quote\":");
        if (!q) return;
        q += 8;
        while (q < p + n && *q != '{') q++;
        size_t len = object_end(q, (size_t)(p + n - q));
        if (!len) return;
        on_quote(c, q, len, now, snapshot);
    } else if (IS("stats")) {
        const unsigned char *k = find(t, rest, "\"conflated\":");
        uint64_t v;
        if (k && parse_u64(k + 12, p + n, &v) && v > c->conflated_total) c->conflated_total = v;
        if (in_window) st_stats_frames++;
    } else if (IS("batch") && !nested) {
        on_ws_batch(c, p, n, now);
    } else if (IS("gap")) {
        if (in_window) st_gap_frames++;
    } else if (IS("error")) {
        st_errors++;
        if (st_errors <= 3) fprintf(stderr, "harness: error frame: %.*s\n", (int)(n < 300 ? n : 300), p);
    }
#undef IS
}

/* Parses complete WebSocket frames; returns bytes consumed. */
static size_t parse_ws(conn_t *c, unsigned char *b, size_t len, uint64_t now) {
    size_t off = 0;
    while (len - off >= 2) {
        unsigned char b0 = b[off], b1 = b[off + 1];
        int fin = b0 & 0x80, op = b0 & 0x0f, masked = b1 & 0x80;
        uint64_t plen = b1 & 0x7f;
        size_t hdr = 2;
        if (plen == 126) {
            if (len - off < 4) break;
            plen = ((uint64_t)b[off + 2] << 8) | b[off + 3];
            hdr = 4;
        } else if (plen == 127) {
            if (len - off < 10) break;
            plen = 0;
            for (int i = 0; i < 8; i++) plen = (plen << 8) | b[off + 2 + i];
            hdr = 10;
        }
        size_t mask_at = off + hdr;
        if (masked) hdr += 4;
        if (plen > (1ull << 30)) { conn_close(c, ST_CLOSED); return len; }
        if ((uint64_t)(len - off) < hdr + plen) break; /* incomplete */
        unsigned char *pl = b + off + hdr;
        if (masked)
            for (uint64_t i = 0; i < plen; i++) pl[i] ^= b[mask_at + (i & 3)];
        st_bytes += plen;
        switch (op) {
        case 0x1: case 0x2:
            if (fin) on_ws_frame(c, pl, (size_t)plen, now, 0);
            else { c->frag_len = 0; buf_append(&c->frag, &c->frag_len, &c->frag_cap, pl, (size_t)plen); }
            break;
        case 0x0:
            buf_append(&c->frag, &c->frag_len, &c->frag_cap, pl, (size_t)plen);
            if (fin) { on_ws_frame(c, c->frag, c->frag_len, now, 0); c->frag_len = 0; }
            break;
        case 0x8: { /* close: echo it masked, then drop the connection */
            unsigned char fr[8] = {0x88, 0x80, 0, 0, 0, 0};
            send(c->fd, fr, 6, MSG_NOSIGNAL);
            conn_close(c, ST_CLOSED);
            return len;
        }
        case 0x9: { /* ping → masked pong with the same payload */
            if (plen > 125) plen = 125;
            unsigned char fr[6 + 125];
            uint32_t key = (uint32_t)splitmix(&(uint64_t){now});
            fr[0] = 0x8A;
            fr[1] = (unsigned char)(0x80 | plen);
            memcpy(fr + 2, &key, 4);
            for (uint64_t i = 0; i < plen; i++) fr[6 + i] = pl[i] ^ fr[2 + (i & 3)];
            conn_send(c, fr, 6 + plen);
            st_pings++;
            break;
        }
        default:
            break;
        }
        off += hdr + (size_t)plen;
    }
    return off;
}

/* RESP: one complete reply at b (arrays of bulk strings / integers, or a line). */
static int parse_resp_one(const unsigned char *b, size_t len, size_t *used,
                          const unsigned char **el, size_t *ellen, int *nel) {
    const unsigned char *end = b + len;
    const unsigned char *nl = memchr(b, '\n', len);
    if (!nl) return 0;
    *nel = 0;
    if (b[0] != '*') { *used = (size_t)(nl + 1 - b); return 1; }
    long count = strtol((const char *)b + 1, NULL, 10);
    const unsigned char *p = nl + 1;
    for (long i = 0; i < count; i++) {
        if (p >= end) return 0;
        const unsigned char *l = memchr(p, '\n', (size_t)(end - p));
        if (!l) return 0;
        if (*p == '$') {
            long n = strtol((const char *)p + 1, NULL, 10);
            const unsigned char *d = l + 1;
            if (n < 0) { p = d; continue; }
            if ((size_t)(end - d) < (size_t)n + 2) return 0;
            if (*nel < 4) { el[*nel] = d; ellen[*nel] = (size_t)n; (*nel)++; }
            p = d + n + 2;
        } else {
            if (*nel < 4) { el[*nel] = p + 1; ellen[*nel] = (size_t)(l - 1 - (p + 1)); (*nel)++; }
            p = l + 1;
        }
    }
    *used = (size_t)(p - b);
    return 1;
}

static size_t parse_redis(conn_t *c, unsigned char *b, size_t len, uint64_t now) {
    size_t off = 0;
    while (off < len) {
        const unsigned char *el[4];
        size_t ellen[4], used;
        int nel;
        if (!parse_resp_one(b + off, len - off, &used, el, ellen, &nel)) break;
        if (b[off] == '-') fprintf(stderr, "harness: redis error: %.*s", (int)used, b + off);
        if (nel >= 3 && ellen[0] == 7 && memcmp(el[0], "message", 7) == 0) {
            st_bytes += ellen[2];
            on_quote(c, el[2], ellen[2], now, 0);
        } else if (nel >= 1 && ellen[0] == 9 && memcmp(el[0], "subscribe", 9) == 0) {
            c->subs_ok++;
        }
        off += used;
    }
    return off;
}

static void nats_subscribe(conn_t *c) {
    char line[128];
    const char *connect = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";
    conn_send(c, connect, strlen(connect));
    if (c->nw == 0) {
        int n = snprintf(line, sizeof line, "SUB %s 1\r\n", opt_channel);
        conn_send(c, line, (size_t)n);
    } else {
        for (int i = 0; i < c->nw; i++) {
            int n = snprintf(line, sizeof line, "SUB %s%s %d\r\n", opt_prefix, sym_name[c->wsyms[i]], i + 1);
            conn_send(c, line, (size_t)n);
        }
    }
    conn_send(c, "PING\r\n", 6); /* its PONG confirms the subscriptions were processed */
}

static size_t parse_nats(conn_t *c, unsigned char *b, size_t len, uint64_t now) {
    size_t off = 0;
    while (off < len) {
        unsigned char *p = b + off;
        unsigned char *nl = memchr(p, '\n', len - off);
        if (!nl) break;
        size_t linelen = (size_t)(nl + 1 - p);
        if (linelen >= 4 && memcmp(p, "MSG ", 4) == 0) {
            const unsigned char *le = nl;
            while (le > p && (le[-1] == '\r' || le[-1] == '\n')) le--;
            const unsigned char *sp = le;
            while (sp > p && sp[-1] != ' ') sp--;
            uint64_t n;
            parse_u64(sp, le, &n);
            if (len - off < linelen + n + 2) break; /* payload not complete */
            st_bytes += n;
            on_quote(c, nl + 1, (size_t)n, now, 0);
            off += linelen + (size_t)n + 2;
            continue;
        }
        if (linelen >= 4 && memcmp(p, "PING", 4) == 0) {
            conn_send(c, "PONG\r\n", 6);
            st_pings++;
        } else if (linelen >= 4 && memcmp(p, "PONG", 4) == 0) {
            c->subs_ok = 1;
        } else if (linelen >= 5 && memcmp(p, "INFO ", 5) == 0) {
            if (!c->nats_info) { c->nats_info = 1; nats_subscribe(c); }
        } else if (linelen >= 4 && memcmp(p, "-ERR", 4) == 0) {
            st_errors++;
            if (st_errors <= 3) fprintf(stderr, "harness: nats: %.*s", (int)linelen, p);
        }
        off += linelen;
    }
    return off;
}

/* ---------------------------------------------------------------- connection setup */

static int mode_ws, mode_redis, mode_nats;

static void b64(const unsigned char *in, size_t n, char *out) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = 0;
}

/* Called once the TCP connection is up: sends the upgrade / subscription. */
static void start_protocol(conn_t *c, int index) {
    char req[2048];
    if (mode_ws) {
        unsigned char key[16];
        char key64[32];
        uint64_t s = now_real() ^ ((uint64_t)index << 20);
        for (int i = 0; i < 16; i++) key[i] = (unsigned char)splitmix(&s);
        b64(key, 16, key64);
        char target[1024];
        size_t tl = 0;
        if (c->nw == 0) tl = (size_t)snprintf(target, sizeof target, "/ws?symbols=*");
        else {
            tl = (size_t)snprintf(target, sizeof target, "/ws?symbols=");
            for (int i = 0; i < c->nw; i++)
                tl += (size_t)snprintf(target + tl, sizeof target - tl, "%s%s", i ? "," : "", sym_name[c->wsyms[i]]);
        }
        if (opt_query[0]) snprintf(target + tl, sizeof target - tl, "&%s", opt_query);
        int n = snprintf(req, sizeof req,
                         "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                         "User-Agent: tickstream-fanout-harness\r\n\r\n",
                         target, opt_host, opt_port, key64);
        conn_send(c, req, (size_t)n);
    } else if (mode_redis) {
        size_t n = 0;
        int nargs = c->nw ? c->nw : 1;
        n += (size_t)snprintf(req + n, sizeof req - n, "*%d\r\n$9\r\nSUBSCRIBE\r\n", nargs + 1);
        if (c->nw == 0) n += (size_t)snprintf(req + n, sizeof req - n, "$%zu\r\n%s\r\n", strlen(opt_channel), opt_channel);
        else
            for (int i = 0; i < c->nw; i++) {
                const char *s = sym_name[c->wsyms[i]];
                n += (size_t)snprintf(req + n, sizeof req - n, "$%zu\r\n%s%s\r\n", strlen(opt_prefix) + strlen(s), opt_prefix, s);
            }
        conn_send(c, req, n);
    }
    /* nats: waits for INFO */
}

static int in_flight = 0, next_queued = 0, done_setup = 0;

static void conn_start(int i) {
    conn_t *c = &conns[i];
    c->attempts++;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket: %s (raise the open-files limit?)", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->state = ST_CONNECTING;
    c->subs_ok = 0;
    c->nats_info = 0;
    in_flight++;
    struct epoll_event e = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0) die("epoll_ctl add: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr) < 0 && errno != EINPROGRESS) {
        /* handled on the EPOLLOUT/EPOLLERR that follows? not for immediate errors */
        int err = errno;
        epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
        conn_close(c, ST_QUEUED);
        in_flight--;
        if (c->attempts >= 3) { c->state = ST_FAILED; st_failed++; done_setup++; if (st_failed <= 3) fprintf(stderr, "harness: connect: %s\n", strerror(err)); }
    }
}

/* A connection failed while connecting / subscribing: retry it later, or give up. */
static void setup_failed(conn_t *c, const char *why) {
    conn_close(c, ST_QUEUED);
    in_flight--;
    if (c->attempts >= 3) {
        c->state = ST_FAILED;
        st_failed++;
        done_setup++;
        if (st_failed <= 3) fprintf(stderr, "harness: connection %d failed: %s\n", (int)(c - conns), why);
    }
}

static void setup_done(conn_t *c) {
    in_flight--;
    done_setup++;
    if (c->stall) {
        c->state = ST_STALLED;
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL); /* never read again */
    } else {
        c->state = ST_LIVE;
    }
}

static void launch_more(void) {
    while (in_flight < opt_connect_batch) {
        int i = -1;
        while (next_queued < nconns && conns[next_queued].state != ST_QUEUED) next_queued++;
        if (next_queued < nconns) i = next_queued++;
        else {
            /* retries of earlier failures */
            for (int k = 0; k < nconns; k++)
                if (conns[k].state == ST_QUEUED && conns[k].fd < 0 && conns[k].attempts > 0) { i = k; break; }
        }
        if (i < 0) return;
        conn_start(i);
    }
}

static void on_readable(conn_t *c, uint64_t *now_cache) {
    size_t p = c->pend_len;
    if (p + 65536 > rbuf_cap) {
        while (p + 65536 > rbuf_cap) rbuf_cap *= 2;
        rbuf = realloc(rbuf, rbuf_cap);
        if (!rbuf) die("out of memory");
    }
    if (p) memcpy(rbuf, c->pend, p);
    ssize_t n = read(c->fd, rbuf + p, rbuf_cap - p);
    uint64_t now = now_real();
    *now_cache = now;
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        if (c->state == ST_HANDSHAKE || c->state == ST_CONNECTING) { setup_failed(c, n == 0 ? "closed by server" : strerror(errno)); return; }
        if (c->state == ST_LIVE) st_closed_live++;
        conn_close(c, ST_CLOSED);
        return;
    }
    size_t len = p + (size_t)n;
    size_t off = 0;
    if (mode_ws && c->state == ST_HANDSHAKE) {
        const unsigned char *e = find(rbuf, len, "\r\n\r\n");
        if (!e) {
            if (len > 16384) { setup_failed(c, "oversized HTTP response"); return; }
            goto keep;
        }
        if (len < 12 || memcmp(rbuf + 9, "101", 3) != 0) {
            if (st_failed < 3) fprintf(stderr, "harness: upgrade refused: %.*s\n", (int)(strcspn((char *)rbuf, "\r")), rbuf);
            c->attempts = 3;
            setup_failed(c, "upgrade refused");
            return;
        }
        off = (size_t)(e + 4 - rbuf);
        setup_done(c);
        if (c->state == ST_STALLED) { free(c->pend); c->pend = NULL; c->pend_len = 0; return; }
    }
    if (mode_ws) off += parse_ws(c, rbuf + off, len - off, now);
    else if (mode_redis) off += parse_redis(c, rbuf + off, len - off, now);
    else off += parse_nats(c, rbuf + off, len - off, now);
    if (c->fd < 0) return; /* closed while parsing */
    if (c->state == ST_HANDSHAKE) {
        int need = mode_redis ? (c->nw ? c->nw : 1) : 1;
        if (c->subs_ok >= need) {
            setup_done(c);
            if (c->state == ST_STALLED) { free(c->pend); c->pend = NULL; c->pend_len = 0; return; }
        }
    }
keep:
    c->pend_len = 0;
    if (off < len) buf_append(&c->pend, &c->pend_len, &c->pend_cap, rbuf + off, len - off);
}

static void on_writable(conn_t *c, int index) {
    if (c->state == ST_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) { setup_failed(c, strerror(err)); return; }
        c->state = ST_HANDSHAKE;
        set_events(c, EPOLLIN);
        start_protocol(c, index);
        return;
    }
    conn_flush(c);
}

/* ---------------------------------------------------------------- cpu / rss */

#define MAX_PIDS 8
static int cpu_pid[MAX_PIDS];
static int ncpu_pids = 0;
static double cpu_start[MAX_PIDS], cpu_end[MAX_PIDS];
static long rss_end[MAX_PIDS];

static double proc_cpu_seconds(int pid) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    p += 2; /* field 3 */
    unsigned long long ut = 0, st = 0;
    int field = 3;
    char *save = NULL;
    for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
        if (field == 14) ut = strtoull(tok, NULL, 10);
        if (field == 15) { st = strtoull(tok, NULL, 10); break; }
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long proc_rss_kb(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long kb = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) { kb = atol(line + 6); break; }
    fclose(f);
    return kb;
}

/* ---------------------------------------------------------------- subscriber main */

static void raise_nofile(int need) {
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    rlim_t want = (rlim_t)need + 64;
    if (r.rlim_cur < want) {
        r.rlim_cur = want < r.rlim_max ? want : r.rlim_max;
        if (r.rlim_cur < want) { r.rlim_max = want; r.rlim_cur = want; }
        if (setrlimit(RLIMIT_NOFILE, &r) < 0) {
            getrlimit(RLIMIT_NOFILE, &r);
            r.rlim_cur = r.rlim_max;
            setrlimit(RLIMIT_NOFILE, &r);
        }
    }
    getrlimit(RLIMIT_NOFILE, &r);
    if (r.rlim_cur < want) fprintf(stderr, "harness: warning: open-files limit %llu < %d needed\n", (unsigned long long)r.rlim_cur, need + 64);
}

static double self_cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void enter_measure(void) {
    phase = PH_MEASURE;
    t_measure_start = now_real();
    t_measure_target = t_measure_start + (uint64_t)(opt_duration * 1e9);
    self_cpu_start = self_cpu_seconds();
    for (int i = 0; i < nconns; i++) {
        conn_t *c = &conns[i];
        c->counted = c->state == ST_LIVE;
        c->conflated_at_start = c->conflated_total;
    }
    for (int k = 0; k < ncpu_pids; k++) cpu_start[k] = proc_cpu_seconds(cpu_pid[k]);
}

static int run_subscribers(void) {
    nconns = opt_conns + opt_stall;
    raise_nofile(nconns);
    conns = calloc((size_t)nconns, sizeof *conns);
    rbuf = malloc(rbuf_cap);
    if (!conns || !rbuf) die("out of memory");
    int nslots = opt_watch ? opt_watch : nsym;
    if (opt_watch > nsym) die("--watch %d > %d symbols", opt_watch, nsym);
    double expected = 0;
    for (int i = 0; i < nconns; i++) {
        conn_t *c = &conns[i];
        c->fd = -1;
        c->state = ST_QUEUED;
        c->stall = i < opt_stall; /* the first K, so they are in place before the live ones */
        c->nw = opt_watch;
        c->last = calloc((size_t)nslots, sizeof(uint64_t));
        if (opt_watch) {
            c->wsyms = calloc((size_t)opt_watch, sizeof(int16_t));
            make_watchlist(i - opt_stall, opt_watch, c->wsyms);
        }
        if (!c->last) die("out of memory");
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1: %s", strerror(errno));
    t_start = now_real();
    uint64_t connect_deadline = t_start + (uint64_t)(opt_connect_timeout * 1e9);
    uint64_t t_warm_end = 0, t_hold_end = 0;
    struct epoll_event evs[512];
    launch_more();
    uint64_t now = now_real();
    while (phase != PH_DONE) {
        int n = epoll_wait(epfd, evs, 512, 50);
        if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
        for (int k = 0; k < n; k++) {
            int i = (int)evs[k].data.u32;
            conn_t *c = &conns[i];
            if (c->fd < 0) continue;
            uint32_t ev = evs[k].events;
            if (c->state == ST_CONNECTING) {
                if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_writable(c, i);
                continue;
            }
            if (ev & EPOLLOUT) on_writable(c, i);
            if (c->fd >= 0 && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))) on_readable(c, &now);
            if (phase == PH_MEASURE && now >= t_measure_target) break; /* the window is over */
        }
        now = now_real();
        if (phase == PH_CONNECT) {
            launch_more();
            if (done_setup >= nconns || now >= connect_deadline) {
                for (int i = 0; i < nconns; i++) /* give up on stragglers */
                    if (conns[i].state == ST_CONNECTING || conns[i].state == ST_HANDSHAKE || conns[i].state == ST_QUEUED) {
                        if (conns[i].fd >= 0) { conn_close(&conns[i], ST_FAILED); } else conns[i].state = ST_FAILED;
                        st_failed++;
                    }
                t_connect_done = now;
                if (opt_idle) {
                    if (opt_ready_file) {
                        FILE *f = fopen(opt_ready_file, "w");
                        if (f) { fprintf(f, "ready\n"); fclose(f); }
                    }
                    phase = PH_WARMUP;
                    t_hold_end = now + (uint64_t)(opt_duration * 1e9);
                    enter_measure();
                } else {
                    phase = PH_WARMUP;
                    t_warm_end = now + (uint64_t)(opt_warmup * 1e9);
                }
            }
        } else if (phase == PH_WARMUP && !opt_idle && now >= t_warm_end) {
            enter_measure();
        } else if (phase == PH_MEASURE) {
            uint64_t end = opt_idle ? t_hold_end : t_measure_target;
            if (now >= end) { t_measure_end = end < now ? end : now; phase = PH_DONE; }
        }
    }
    for (int k = 0; k < ncpu_pids; k++) { cpu_end[k] = proc_cpu_seconds(cpu_pid[k]); rss_end[k] = proc_rss_kb(cpu_pid[k]); }
    double self_cpu = self_cpu_seconds() - self_cpu_start;

    int live = 0, stalled = 0, ok = 0;
    uint64_t conflated = 0;
    for (int i = 0; i < nconns; i++) {
        conn_t *c = &conns[i];
        if (c->state == ST_STALLED) stalled++;
        if (c->counted) {
            live++;
            conflated += c->conflated_total - c->conflated_at_start;
            if (c->state == ST_LIVE) ok++;
            if (opt_watch) {
                double w = 0;
                for (int j = 0; j < c->nw; j++) w += sym_weight[c->wsyms[j]];
                expected += opt_rate * w / total_weight;
            } else expected += opt_rate;
        }
    }
    double window = (double)(t_measure_end - t_measure_start) / 1e9;
    printf("mode=%s conns=%d stall=%d live=%d stalled=%d conns_ok=%d failed=%llu closed=%llu connect_s=%.1f window_s=%.2f "
           "deliveries=%llu rate=%.0f expected_rate=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f p999_us=%.0f max_us=%.0f "
           "gaps=%llu missing=%llu dups=%llu conflated=%llu snapshots=%llu stats_frames=%llu batches=%llu gap_frames=%llu "
           "errors=%llu unknown=%llu pings=%llu mb_s=%.1f all_messages=%llu",
           opt_mode, opt_conns, opt_stall, live, stalled, ok, (unsigned long long)st_failed,
           (unsigned long long)st_closed_live, (double)(t_connect_done - t_start) / 1e9, window,
           (unsigned long long)st_deliveries, window > 0 ? (double)st_deliveries / window : 0, expected,
           hist_pct_us(0.50), hist_pct_us(0.90), hist_pct_us(0.99), hist_pct_us(0.999), (double)hist_max / 1000.0,
           (unsigned long long)st_gaps, (unsigned long long)st_missing, (unsigned long long)st_dups,
           (unsigned long long)conflated, (unsigned long long)st_snapshots, (unsigned long long)st_stats_frames,
           (unsigned long long)st_batches, (unsigned long long)st_gap_frames, (unsigned long long)st_errors,
           (unsigned long long)st_unknown, (unsigned long long)st_pings, window > 0 ? (double)st_bytes / window / 1e6 : 0,
           (unsigned long long)st_messages_all);
    printf(" cpu=");
    for (int k = 0; k < ncpu_pids; k++)
        printf("%s%.3f", k ? "," : "", window > 0 && cpu_start[k] >= 0 && cpu_end[k] >= 0 ? (cpu_end[k] - cpu_start[k]) / window : -1.0);
    if (ncpu_pids == 0) printf("-");
    printf(" self_cpu=%.3f", window > 0 ? self_cpu / window : 0);
    printf(" rss_kb=");
    for (int k = 0; k < ncpu_pids; k++) printf("%s%ld", k ? "," : "", rss_end[k]);
    if (ncpu_pids == 0) printf("-");
    printf("\n");
    fflush(stdout);
    for (int i = 0; i < nconns; i++) if (conns[i].fd >= 0) conn_close(&conns[i], ST_CLOSED);
    return 0;
}

/* ---------------------------------------------------------------- publisher */

static int connect_blocking(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (int attempt = 0; attempt < 50; attempt++) {
        if (connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr) == 0) return fd;
        usleep(100000);
    }
    die("cannot connect to %s:%d: %s", opt_host, opt_port, strerror(errno));
    return -1;
}

static void write_all(int fd, const void *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            die("publish: %s", strerror(errno));
        }
        p = (const char *)p + w;
        n -= (size_t)w;
    }
}

static int run_publisher(int nats) {
    int fd = connect_blocking();
    char in[65536];
    size_t tail = 0; /* nats: bytes of a partial line kept at the start of `in` */
    if (nats) {
        /* INFO first, then CONNECT */
        ssize_t n = recv(fd, in, sizeof in - 1, 0);
        if (n <= 0 || strncmp(in, "INFO", 4) != 0) die("nats: no INFO");
        const char *connect = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";
        write_all(fd, connect, strlen(connect));
    }
    /* cumulative weights for a volume-weighted symbol choice, as the pricer does */
    double *cum = malloc(sizeof(double) * (size_t)nsym);
    double acc = 0;
    for (int i = 0; i < nsym; i++) { acc += sym_weight[i]; cum[i] = acc; }
    uint64_t *seq = calloc((size_t)nsym, sizeof(uint64_t));
    double *px = malloc(sizeof(double) * (size_t)nsym);
    for (int i = 0; i < nsym; i++) px[i] = sym_price[i];
    uint64_t rng = opt_seed ^ 0xABCDEF;
    uint64_t start = now_mono();
    uint64_t end = start + (uint64_t)(opt_duration * 1e9);
    uint64_t released = 0, skipped = 0;
    uint64_t max_catch_up = (uint64_t)(opt_rate / 10) + 1; /* 100 ms worth */
    size_t cap = 1 << 20;
    char *out = malloc(cap);
    for (;;) {
        uint64_t now = now_mono();
        if (now >= end) break;
        uint64_t scheduled = (uint64_t)((double)(now - start) * opt_rate / 1e9);
        uint64_t due = scheduled > released + skipped ? scheduled - released - skipped : 0;
        if (due > max_catch_up) { skipped += due - max_catch_up; due = max_catch_up; }
        size_t o = 0;
        for (uint64_t k = 0; k < due; k++) {
            double u = (double)(splitmix(&rng) >> 11) / 9007199254740992.0 * acc;
            int lo = 0, hi = nsym - 1;
            while (lo < hi) { int mid = (lo + hi) / 2; if (cum[mid] < u) lo = mid + 1; else hi = mid; }
            int s = lo;
            seq[s]++;
            double step = ((double)(splitmix(&rng) % 2001) - 1000.0) / 1000.0 * 0.0005;
            px[s] *= 1 + step;
            double last = px[s], spread = last * 0.0001 + 0.01;
            unsigned vol = (unsigned)(1 + splitmix(&rng) % 50) * 100;
            char payload[256];
            int pl = snprintf(payload, sizeof payload,
                              "{\"sym\":\"%s\",\"seq\":%llu,\"bid\":%.2f,\"ask\":%.2f,\"last\":%.2f,\"vol\":%u,\"ts\":%llu}",
                              sym_name[s], (unsigned long long)seq[s], last - spread / 2, last + spread / 2, last, vol,
                              (unsigned long long)now_real());
            char chan[64];
            int cl = opt_watch ? snprintf(chan, sizeof chan, "%s%s", opt_prefix, sym_name[s])
                               : snprintf(chan, sizeof chan, "%s", opt_channel);
            if (o + (size_t)pl + 128 > cap) break;
            if (nats) o += (size_t)snprintf(out + o, cap - o, "PUB %s %d\r\n%s\r\n", chan, pl, payload);
            else o += (size_t)snprintf(out + o, cap - o, "*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", cl, chan, pl, payload);
            released++;
        }
        if (o) write_all(fd, out, o);
        /* drain replies (redis :N, nats PING/-ERR) without blocking */
        for (;;) {
            ssize_t n = recv(fd, in + tail, sizeof in - 1 - tail, MSG_DONTWAIT);
            if (n == 0) die("server closed the publisher connection");
            if (n < 0) break;
            if (nats) {
                size_t len = tail + (size_t)n;
                in[len] = 0;
                char *p = in, *nl;
                while ((nl = memchr(p, '\n', (size_t)(in + len - p)))) {
                    if (strncmp(p, "PING", 4) == 0) write_all(fd, "PONG\r\n", 6);
                    else if (strncmp(p, "-ERR", 4) == 0) fprintf(stderr, "harness: nats publisher: %.*s", (int)(nl + 1 - p), p);
                    p = nl + 1;
                }
                tail = (size_t)(in + len - p);
                if (tail > 1024) tail = 0;
                memmove(in, p, tail);
            } else if (in[0] == '-') {
                fprintf(stderr, "harness: redis publisher: %.*s\n", (int)(n < 200 ? n : 200), in);
            }
        }
        /* sleep until the next quote is due */
        double next_ns = (double)(released + skipped + 1) * 1e9 / opt_rate;
        uint64_t at = start + (uint64_t)next_ns;
        now = now_mono();
        if (at > now) {
            struct timespec ts = {.tv_sec = (time_t)((at - now) / 1000000000ull), .tv_nsec = (long)((at - now) % 1000000000ull)};
            nanosleep(&ts, NULL);
        }
    }
    double secs = (double)(now_mono() - start) / 1e9;
    fprintf(stderr, "harness: published=%llu skipped=%llu rate=%.0f\n", (unsigned long long)released,
            (unsigned long long)skipped, (double)released / secs);
    close(fd);
    return 0;
}

/* ---------------------------------------------------------------- main */

static volatile sig_atomic_t stop_flag = 0;
static void on_term(int sig) { (void)sig; stop_flag = 1; _exit(3); }

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: harness ws|redis|nats|pub-redis|pub-nats [--port P] [--conns S] [--watch N] "
                        "[--duration S] [--warmup S] [--stall K] [--idle --ready-file F] [--query Q] [--cpu-pids a,b] "
                        "[--rate R] [--symbols-file F] [--nsymbols N] [--seed N] [--connect-batch N] "
                        "[--connect-timeout S] [--host H] [--channel C] [--prefix P]\n");
        return 2;
    }
    opt_mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && (v || (die("%s needs a value", name), 0)) && (i++, 1))
        if (strcmp(a, "--idle") == 0) opt_idle = 1;
        else if (OPT("--host")) opt_host = v;
        else if (OPT("--port")) opt_port = atoi(v);
        else if (OPT("--conns")) opt_conns = atoi(v);
        else if (OPT("--watch")) opt_watch = atoi(v);
        else if (OPT("--duration")) opt_duration = atof(v);
        else if (OPT("--warmup")) opt_warmup = atof(v);
        else if (OPT("--connect-timeout")) opt_connect_timeout = atof(v);
        else if (OPT("--connect-batch")) opt_connect_batch = atoi(v);
        else if (OPT("--stall")) opt_stall = atoi(v);
        else if (OPT("--ready-file")) opt_ready_file = v;
        else if (OPT("--query")) opt_query = v;
        else if (OPT("--cpu-pids")) opt_cpu_pids = v;
        else if (OPT("--symbols-file")) opt_symbols_file = v;
        else if (OPT("--nsymbols")) opt_nsymbols = atoi(v);
        else if (OPT("--seed")) opt_seed = strtoull(v, NULL, 10);
        else if (OPT("--rate")) opt_rate = atof(v);
        else if (OPT("--channel")) opt_channel = v;
        else if (OPT("--prefix")) opt_prefix = v;
        else die("unknown option %s", a);
#undef OPT
    }
    if (opt_port <= 0) die("--port is required");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_term);
    memset(&server_addr, 0, sizeof server_addr);
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((uint16_t)opt_port);
    if (inet_pton(AF_INET, opt_host, &server_addr.sin_addr) != 1) die("bad --host %s", opt_host);
    load_symbols();
    for (char *s = (char *)opt_cpu_pids; *s && ncpu_pids < MAX_PIDS;) {
        int pid = atoi(s);
        if (pid > 0) cpu_pid[ncpu_pids++] = pid;
        char *comma = strchr(s, ',');
        if (!comma) break;
        s = comma + 1;
    }
    if (strcmp(opt_mode, "pub-redis") == 0) return run_publisher(0);
    if (strcmp(opt_mode, "pub-nats") == 0) return run_publisher(1);
    mode_ws = strcmp(opt_mode, "ws") == 0;
    mode_redis = strcmp(opt_mode, "redis") == 0;
    mode_nats = strcmp(opt_mode, "nats") == 0;
    if (!mode_ws && !mode_redis && !mode_nats) die("unknown mode %s", opt_mode);
    if (opt_rate <= 0) opt_rate = 1;
    return run_subscribers();
}
