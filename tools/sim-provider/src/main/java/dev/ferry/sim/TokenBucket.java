package dev.ferry.sim;

import java.util.concurrent.locks.LockSupport;

/**
 * A token bucket: {@code capacity} tokens, refilled at {@code ratePerSecond}, full at the start.
 * The cloud side asks {@link #tryTake} (a call over budget is refused); a client that paces itself
 * {@link #reserve}s a token and waits until it is due, as Go's {@code rate.Limiter.Reserve} does.
 *
 * <p>A client bucket of the same shape as the cloud's is not enough on its own: a reservation is
 * taken before its call reaches the cloud, and while the cloud's bucket is full that lag is refill
 * the cloud throws away and the client has counted. Under ARM's 10/s, a first call 100 ms late
 * leaves the cloud a token short of the client, and a paced burst was refused a call in CI. So a
 * client keeps some tokens in hand ({@code spare}): they cover that much lag.
 */
final class TokenBucket {

  private final String name;
  private final double capacity;
  private final double ratePerNano;
  private double tokens;
  private long last;

  TokenBucket(String name, double capacity, double ratePerSecond) {
    if (capacity < 1 || ratePerSecond <= 0) {
      throw new IllegalArgumentException(name + ": capacity >= 1 and rate > 0 are needed");
    }
    this.name = name;
    this.capacity = capacity;
    this.ratePerNano = ratePerSecond / 1e9;
    this.tokens = capacity;
    this.last = System.nanoTime();
  }

  String name() {
    return name;
  }

  double ratePerSecond() {
    return ratePerNano * 1e9;
  }

  double capacity() {
    return capacity;
  }

  private void refill(long now) {
    tokens = Math.min(capacity, tokens + (now - last) * ratePerNano);
    last = now;
  }

  /** Takes a token if one is there now. */
  synchronized boolean tryTake() {
    refill(System.nanoTime());
    // a client reservation that came due an instant ago is honoured (clock reads differ by ns)
    if (tokens >= 1 - 1e-6) {
      tokens -= 1;
      return true;
    }
    return false;
  }

  /**
   * Takes a token, possibly one not yet refilled, such that {@code spare} tokens stay in hand;
   * answers the nanoseconds until it is due.
   */
  synchronized long reserve(double spare) {
    refill(System.nanoTime());
    tokens -= 1;
    double shortBy = spare - tokens;
    return shortBy <= 0 ? 0 : (long) Math.ceil(shortBy / ratePerNano);
  }

  /** {@link #reserve}s a token and waits until it is due. */
  void take(double spare) {
    long due = System.nanoTime() + reserve(spare);
    // parkNanos may return early (a permit left by an earlier unpark): wait out the rest
    for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
      LockSupport.parkNanos(wait);
    }
  }
}
