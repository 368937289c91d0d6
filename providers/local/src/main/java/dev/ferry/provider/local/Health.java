package dev.ferry.provider.local;

/**
 * One backend's health: it turns unhealthy after {@code unhealthyThreshold} failed checks in a row
 * and healthy again after {@code healthyThreshold} passed checks in a row.
 */
final class Health {

  private boolean healthy = true;
  private int passes;
  private int failures;

  synchronized boolean isHealthy() {
    return healthy;
  }

  /** Records one check; returns true when the state flipped. */
  synchronized boolean record(boolean passed, int healthyThreshold, int unhealthyThreshold) {
    if (passed) {
      failures = 0;
      passes++;
      if (!healthy && passes >= healthyThreshold) {
        healthy = true;
        return true;
      }
    } else {
      passes = 0;
      failures++;
      if (healthy && failures >= unhealthyThreshold) {
        healthy = false;
        return true;
      }
    }
    return false;
  }
}
