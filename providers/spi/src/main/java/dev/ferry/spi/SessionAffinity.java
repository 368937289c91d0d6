package dev.ferry.spi;

import java.time.Duration;
import java.util.Objects;

/**
 * Whether a client sticks to one backend.
 *
 * @param clientIp true for {@code sessionAffinity: ClientIP}
 * @param timeout how long a client stays pinned after its last packet (zero when not sticky)
 */
public record SessionAffinity(boolean clientIp, Duration timeout) {

  public static final SessionAffinity NONE = new SessionAffinity(false, Duration.ZERO);

  public SessionAffinity {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("affinity timeout must not be negative");
    }
  }

  public static SessionAffinity clientIp(Duration timeout) {
    return new SessionAffinity(true, timeout);
  }

  // written out: see Backend.equals
  @Override
  public boolean equals(Object o) {
    return o == this
        || o instanceof SessionAffinity a && clientIp == a.clientIp && timeout.equals(a.timeout);
  }

  @Override
  public int hashCode() {
    return Boolean.hashCode(clientIp) * 31 + timeout.hashCode();
  }
}
