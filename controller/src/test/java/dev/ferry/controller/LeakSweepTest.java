package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.LoadBalancerRef;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The leak sweep's pace: minutes at most between sweeps, and a failed sweep tried again soon. */
class LeakSweepTest {

  @Test
  @DisplayName(
      "at the default 10 min resync a sweep runs every 5 min (an orphan goes within 10); a failed"
          + " sweep is tried again after 10 s, 20 s, 40 s ... up to that, and a success resets it")
  void pace() {
    AtomicInteger failing = new AtomicInteger(3);
    RecordingProvider cloud =
        new RecordingProvider() {
          @Override
          public synchronized List<LoadBalancerRef> listOwned(String clusterName) {
            if (failing.getAndDecrement() > 0) {
              throw new IllegalStateException("the cloud's list is down");
            }
            return super.listOwned(clusterName);
          }
        };
    LeakSweep sweep =
        new LeakSweep(
            new GuardedProvider(cloud, new SimpleMeterRegistry(), Duration.ofSeconds(10), 1),
            "test",
            Duration.ofMinutes(10),
            List::of,
            () -> true);
    assertThat(sweep.every()).isEqualTo(Duration.ofMinutes(5));
    assertThat(sweep.runOnce()).isEqualTo(Duration.ofSeconds(10));
    assertThat(sweep.runOnce()).isEqualTo(Duration.ofSeconds(20));
    assertThat(sweep.runOnce()).isEqualTo(Duration.ofSeconds(40));
    assertThat(sweep.runOnce()).as("it worked again").isEqualTo(Duration.ofMinutes(5));
    failing.set(100);
    for (int i = 0; i < 6; i++) {
      sweep.runOnce();
    }
    assertThat(sweep.runOnce())
        .as("never longer than a sweep's pace")
        .isEqualTo(Duration.ofMinutes(5));
  }
}
