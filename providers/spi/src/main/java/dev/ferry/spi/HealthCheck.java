package dev.ferry.spi;

import java.time.Duration;
import java.util.Objects;

/**
 * How the load balancer decides a backend is healthy.
 *
 * @param protocol TCP connect, or HTTP GET expecting 200
 * @param port the node port to probe, or {@link #TRAFFIC_PORT} for each listener's own NodePort
 * @param path the HTTP path (empty for TCP)
 */
public record HealthCheck(
    Type protocol,
    int port,
    String path,
    Duration interval,
    Duration timeout,
    int healthyThreshold,
    int unhealthyThreshold) {

  /** Probe each listener's NodePort rather than one fixed port. */
  public static final int TRAFFIC_PORT = 0;

  /** Probe protocol. */
  public enum Type {
    TCP,
    HTTP
  }

  public HealthCheck {
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(timeout, "timeout");
    path = path == null ? "" : path;
    if (port != TRAFFIC_PORT) {
      Listener.requirePort(port, "health check port");
    }
    if (interval.isNegative() || interval.isZero() || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("health check interval and timeout must be positive");
    }
    if (timeout.compareTo(interval) > 0) {
      throw new IllegalArgumentException("health check timeout must not exceed the interval");
    }
    if (healthyThreshold < 1 || unhealthyThreshold < 1) {
      throw new IllegalArgumentException("health check thresholds must be at least 1");
    }
    if (protocol == Type.HTTP && !path.startsWith("/")) {
      throw new IllegalArgumentException("an HTTP health check needs a path starting with /");
    }
  }

  /** True when each listener's own NodePort is probed. */
  public boolean onTrafficPort() {
    return port == TRAFFIC_PORT;
  }

  // written out: see Backend.equals
  @Override
  public boolean equals(Object o) {
    return o == this
        || o instanceof HealthCheck h
            && protocol == h.protocol
            && port == h.port
            && healthyThreshold == h.healthyThreshold
            && unhealthyThreshold == h.unhealthyThreshold
            && path.equals(h.path)
            && interval.equals(h.interval)
            && timeout.equals(h.timeout);
  }

  @Override
  public int hashCode() {
    int h = protocol.hashCode();
    h = h * 31 + port;
    h = h * 31 + path.hashCode();
    h = h * 31 + interval.hashCode();
    h = h * 31 + timeout.hashCode();
    h = h * 31 + healthyThreshold;
    return h * 31 + unhealthyThreshold;
  }
}
