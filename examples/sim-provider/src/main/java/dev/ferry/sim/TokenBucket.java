package dev.ferry.sim;

/**
 * A token bucket: {@code capacity} tokens, refilled at {@code ratePerSecond}, full at the start.
 * The cloud side asks {@link #tryTake} (a call over budget is refused); a client that paces itself
 * {@link #reserve}s a token and waits until it is due, as Go's {@code rate.Limiter.Reserve} does. A
 * client bucket of the same shape as the cloud's, started at the same time, is never ahead of it:
 * every call it lets through finds a token in the cloud's.
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

  /** Takes a token, possibly one not yet refilled; answers the nanoseconds until it is due. */
  synchronized long reserve() {
    refill(System.nanoTime());
    tokens -= 1;
    return tokens >= 0 ? 0 : (long) Math.ceil(-tokens / ratePerNano);
  }
}
