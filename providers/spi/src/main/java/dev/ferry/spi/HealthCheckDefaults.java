package dev.ferry.spi;

import java.time.Duration;
import java.util.Objects;

/**
 * The health-check timings a provider's cloud uses when the Service sets none (see {@link
 * Capabilities#healthCheckDefaults()}); each one the Service's annotations set still wins.
 */
public record HealthCheckDefaults(
    Duration interval, Duration timeout, int healthyThreshold, int unhealthyThreshold) {

  public HealthCheckDefaults {
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.compareTo(interval) > 0 || healthyThreshold < 1 || unhealthyThreshold < 1) {
      throw new IllegalArgumentException(
          "a timeout within the interval and thresholds of at least 1, not " + this);
    }
  }
}
