package dev.ferry.provider.local;

import java.time.Duration;

final class Threads {
  private static final Duration JOIN_LIMIT = Duration.ofSeconds(5);

  private Threads() {}

  /** Waits, at most a few seconds, for {@code thread} to end. */
  static void joinQuietly(Thread thread) {
    if (thread == Thread.currentThread()) {
      return;
    }
    try {
      thread.join(JOIN_LIMIT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
