"""TCP congestion control algorithms, one object per connection (as Linux's tcp_congestion_ops).

The connection (tcp.py) runs loss detection and recovery itself, the same for
every algorithm, as Linux's tcp_input.c does: fast retransmit after three
duplicate ACKs, NewReno's or Reno's fast recovery (RFC 6675's with SACK,
whatever the algorithm), and the loss state after a retransmission timeout. It asks its algorithm only two things:

  ssthresh()          the slow-start threshold after a loss (RFC 5681 eq. 4 for
                      Reno and NewReno; beta_cubic x cwnd for CUBIC)
  on_ack(acked, now)  grow cwnd for `acked` newly acknowledged bytes outside
                      recovery: slow start below ssthresh, then the
                      algorithm's congestion avoidance

and tells it of a timeout (on_timeout) so that CUBIC starts a new epoch.
Windows are in bytes, as RFC 5681 writes them; `mss` is the sender's SMSS.

  Reno, NewReno   RFC 5681 3.1: slow start adds the bytes acknowledged (at
                  most the distance to ssthresh; Linux's tcp_slow_start);
                  congestion avoidance adds one SMSS per cwnd of bytes
                  acknowledged (RFC 3465's byte counting, Linux's
                  tcp_cong_avoid_ai). They differ only in recovery (tcp.py).
  CUBIC           RFC 9438, Linux's default: after a loss the window follows
                  W_cubic(t) = C (t - K)^3 + W_max (4.2), with beta 0.7 (4.6),
                  C 0.4, K = cbrt(W_max (1 - beta) / C) (eq. 2), the target
                  W_cubic(t + RTT) clamped to [cwnd, 1.5 cwnd] (4.2), the
                  Reno-friendly region W_est (4.3), and fast convergence
                  (4.7). HyStart++ (RFC 9406, Linux's HyStart) is not done:
                  slow start ends at the first loss, as in RFC 5681.

The initial window is RFC 6928's: min(10 SMSS, max(2 SMSS, 14600 bytes)).
"""

from __future__ import annotations

NS = 1_000_000_000
INFINITE_SSTHRESH = 1 << 62


def initial_window(mss: int) -> int:
    """RFC 6928 2: min(10*MSS, max(2*MSS, 14600))."""
    return min(10 * mss, max(2 * mss, 14600))


class Reno:
    """RFC 5681 slow start and congestion avoidance; recovery is Reno's (tcp.py)."""

    name = "reno"
    newreno = False          # partial ACKs end recovery (RFC 5681) instead of retransmitting (RFC 6582)

    def __init__(self, mss: int):
        self.mss = mss
        self.cwnd = initial_window(mss)
        self.ssthresh = INFINITE_SSTHRESH
        self._acked_in_ca = 0            # bytes acknowledged towards the next SMSS of congestion avoidance

    def set_mss(self, mss: int) -> None:
        """The SMSS changed (the peer's MSS became known, or the path MTU shrank)."""
        if self.cwnd == initial_window(self.mss):
            self.cwnd = initial_window(mss)
        self.mss = mss

    def on_ack(self, acked: int, now_ns: int, srtt_ns: int | None) -> None:
        if self.cwnd < self.ssthresh:
            step = min(acked, self.ssthresh - self.cwnd)
            self.cwnd += step
            acked -= step
            if not acked:
                return
        self._congestion_avoidance(acked, now_ns, srtt_ns)

    def _congestion_avoidance(self, acked: int, now_ns: int, srtt_ns: int | None) -> None:
        self._acked_in_ca += acked
        if self._acked_in_ca >= self.cwnd:
            self._acked_in_ca -= self.cwnd
            self.cwnd += self.mss

    def ssthresh_after_loss(self, flight: int) -> int:
        """RFC 5681 eq. 4: max(FlightSize / 2, 2 * SMSS)."""
        return max(flight // 2, 2 * self.mss)

    def on_loss(self, flight: int, now_ns: int) -> int:
        """A loss was detected (fast retransmit or timeout): the new ssthresh."""
        self.ssthresh = self.ssthresh_after_loss(flight)
        self._acked_in_ca = 0
        return self.ssthresh

    def on_timeout(self, now_ns: int) -> None:
        self.cwnd = self.mss             # RFC 5681 3.1: the loss window is one segment

class NewReno(Reno):
    name = "newreno"
    newreno = True


class Cubic(Reno):
    """RFC 9438 (see the module docstring). Windows in bytes; the cubic function in segments."""

    name = "cubic"
    newreno = True           # Linux recovers the same way whatever the algorithm
    C = 0.4
    BETA = 0.7

    def __init__(self, mss: int):
        super().__init__(mss)
        self.w_max = 0.0                 # segments: the window before the last reduction
        self.epoch_ns: int | None = None  # when the current congestion-avoidance epoch began
        self.k = 0.0                     # seconds
        self.w_est = 0.0                 # segments: the Reno-friendly estimate
        self.cwnd_epoch = 0.0            # segments: cwnd when the epoch began

    def ssthresh_after_loss(self, flight: int) -> int:
        """4.6: ssthresh = cwnd * beta_cubic (at least 2 SMSS); 4.7 fast convergence for W_max."""
        segments = self.cwnd / self.mss
        if segments < self.w_max:
            self.w_max = segments * (1 + self.BETA) / 2
        else:
            self.w_max = segments
        self.epoch_ns = None
        return max(int(self.cwnd * self.BETA), 2 * self.mss)

    def on_timeout(self, now_ns: int) -> None:
        super().on_timeout(now_ns)
        self.epoch_ns = None

    def _congestion_avoidance(self, acked: int, now_ns: int, srtt_ns: int | None) -> None:
        mss = self.mss
        cwnd = self.cwnd / mss
        if self.epoch_ns is None:
            self.epoch_ns = now_ns
            self.cwnd_epoch = cwnd
            if cwnd < self.w_max:
                self.k = ((self.w_max - cwnd) / self.C) ** (1 / 3)       # eq. 2, with cwnd_epoch (4.8)
            else:
                self.k = 0.0
                self.w_max = cwnd
            self.w_est = cwnd
        rtt = (srtt_ns or 0) / NS
        t = (now_ns - self.epoch_ns) / NS
        target = self.C * (t + rtt - self.k) ** 3 + self.w_max              # W_cubic(t + RTT), eq. 1
        target = min(max(target, cwnd), 1.5 * cwnd)                          # 4.2
        alpha = 3 * (1 - self.BETA) / (1 + self.BETA)                        # 4.3
        self.w_est += alpha * (acked / mss) / cwnd
        if self.w_est > target:                                              # the Reno-friendly region
            grow = (self.w_est - cwnd) * mss
        else:
            grow = (target - cwnd) / cwnd * (acked / mss) * mss              # 4.4 and 4.5
        self._acked_in_ca += max(0.0, grow)
        if self._acked_in_ca >= 1:
            whole = int(self._acked_in_ca)
            self.cwnd += whole
            self._acked_in_ca -= whole


ALGORITHMS = {"reno": Reno, "newreno": NewReno, "cubic": Cubic}
DEFAULT = "cubic"


def make(name: str | None, mss: int):
    """The algorithm named `name` (default: CUBIC, as Linux)."""
    try:
        return ALGORITHMS[name or DEFAULT](mss)
    except KeyError:
        raise ValueError(f"unknown congestion control '{name}' (choose from {', '.join(ALGORITHMS)})") from None
