"""A TCP receiver's buffer and the window it offers, grown as Linux's autotuning grows it.

Linux (net/ipv4/tcp_input.c) starts a socket's receive buffer at tcp_rmem[1] = 128 KiB and offers half of
it as the window (tcp_adv_win_scale = 1: the other half pays for the buffers' overhead), about 64 KiB.
Once per round trip, as the receiver measures it, tcp_rcv_space_adjust compares what the application
read in that round trip with the round trip before: when it grew, the buffer becomes enough for twice
that (losses), plus 16 segments, plus the growth again twice over (a sender in slow start doubles its
window every round trip), up to tcp_rmem[2] = 6 MiB. The window offered follows the buffer. An
application that sets the buffer itself (SO_RCVBUF) locks it: no autotuning.

The receiver's RTT (tcp_rcv_rtt_measure and tcp_rcv_rtt_measure_ts): with timestamps, the age of the
echoed TSval of a full segment (a moving average, gain 1/8); without, the time the sender takes to fill
one window, the smallest seen.

What Linux does and this leaves out: the window is offered whole at once (Linux opens it segment by
segment up to the buffer, rcv_ssthresh, which matters only when the application's reads are slow or the
segments are tiny; here the application reads at once).
"""

from __future__ import annotations

__all__ = ["ReceiveBuffer", "TCP_RMEM_DEFAULT", "TCP_RMEM_MAX", "window_from_space", "space_from_window"]

TCP_RMEM_DEFAULT = 131072             # tcp_rmem[1]
TCP_RMEM_MAX = 6 * 1024 * 1024        # tcp_rmem[2]
TCP_INIT_CWND = 10                    # the first round trip's measure: the sender's initial window
NS = 1_000_000_000
MOD = 1 << 32


def window_from_space(space: int) -> int:
    """The window a buffer of `space` bytes offers (tcp_adv_win_scale = 1: half of it)."""
    return space - space // 2


def space_from_window(window: int) -> int:
    return 2 * window


class ReceiveBuffer:
    """One connection's receive buffer (sk_rcvbuf) with Linux's autotuning (rcvq_space, rcv_rtt_est)."""

    def __init__(self, size: int = TCP_RMEM_DEFAULT, limit: int = TCP_RMEM_MAX):
        self.size = size
        self.limit = limit
        self.locked = False
        self.rtt_ns = 0                   # the receiver's RTT estimate; 0 until measured
        self._space = 0                   # bytes read in the last measured round trip
        self._space_copied = 0            # bytes read in all when that round trip began
        self._space_time: int | None = None
        self._rtt_seq: int | None = None  # the window-based measure: when RCV.NXT reaches this ...
        self._rtt_time = 0                # ... one window took this long from here

    @property
    def window(self) -> int:
        """The largest window this buffer offers (Linux's window_clamp)."""
        return window_from_space(self.size)

    @property
    def shift_space(self) -> int:
        """What the window scale shift is chosen for (tcp_select_initial_window): the locked buffer's window,
        or else the largest buffer autotuning may reach (tcp_rmem[2]: shift 7 by default, as on Linux)."""
        return self.window if self.locked else max(self.size, self.limit)

    def lock(self, window: int) -> None:
        """The application chose the window (SO_RCVBUF): no autotuning from now on."""
        self.locked = True
        self.size = space_from_window(window)

    def start(self, now_ns: int, rcv_wnd: int, advmss: int) -> None:
        """tcp_init_buffer_space: the first round trip is compared with the sender's initial window."""
        self._space = min(rcv_wnd, TCP_INIT_CWND * advmss)
        self._space_time = now_ns

    # ------------------------------------------------------------------ the receiver's RTT

    def rtt_from_timestamp(self, sample_ns: int) -> None:
        """tcp_rcv_rtt_measure_ts: the echoed timestamp's age; a moving average with gain 1/8."""
        sample_ns = max(1, sample_ns)
        self.rtt_ns = sample_ns if not self.rtt_ns else self.rtt_ns + (sample_ns - self.rtt_ns) // 8

    def rtt_from_window(self, rcv_nxt: int, rcv_wnd: int, now_ns: int) -> None:
        """tcp_rcv_rtt_measure: how long the sender takes to send one window; the smallest sample is kept."""
        if self._rtt_seq is not None:
            if 0 < (self._rtt_seq - rcv_nxt) % MOD < MOD // 2:
                return                                        # the window is not filled yet
            sample = max(1, now_ns - self._rtt_time)
            self.rtt_ns = sample if not self.rtt_ns else min(self.rtt_ns, sample)
        self._rtt_seq = (rcv_nxt + rcv_wnd) % MOD
        self._rtt_time = now_ns

    # ------------------------------------------------------------------ autotuning

    def adjust(self, copied: int, now_ns: int, advmss: int) -> bool:
        """tcp_rcv_space_adjust after the application read (`copied`: all it read so far); True when the
        buffer grew."""
        if self._space_time is None or not self.rtt_ns or now_ns - self._space_time < self.rtt_ns:
            return False
        read = copied - self._space_copied
        grew = False
        if read > self._space:
            if not self.locked:
                window = 2 * read + 16 * advmss
                window += 2 * (window * (read - self._space) // max(1, self._space))
                size = min(space_from_window(window), self.limit)
                if size > self.size:
                    self.size = size
                    grew = True
            self._space = read
        self._space_copied = copied
        self._space_time = now_ns
        return grew
