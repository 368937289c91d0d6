package dev.ferry.bench;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** The bench's clock arithmetic and bounded waits. */
final class Timing {
  private Timing() {}

  static boolean waitFor(BooleanSupplier condition, Duration limit) throws InterruptedException {
    return waitFor(condition, limit, Duration.ofMillis(20));
  }

  static boolean waitFor(BooleanSupplier condition, Duration limit, Duration poll)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(poll.toMillis());
    }
    return condition.getAsBoolean();
  }

  static double secs(long nanos) {
    return nanos / 1e9;
  }

  static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
