package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.ProviderException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The provider slots: how many callers wait on the cloud at once. */
class GuardedProviderTest {

  private final RecordingProvider cloud = new RecordingProvider();

  private static LoadBalancerRef ref(int i) {
    return new LoadBalancerRef("cluster", "ns", "svc-" + i, "uid-" + i);
  }

  @Test
  @DisplayName("eight callers, two slots: never more than two calls in the cloud, and all succeed")
  void boundsCallsInFlight() throws Exception {
    cloud.pace(Duration.ofMillis(50));
    GuardedProvider guarded =
        new GuardedProvider(cloud, new SimpleMeterRegistry(), Duration.ofSeconds(10), 2);
    ExecutorService callers = Executors.newFixedThreadPool(8);
    try {
      List<Future<Optional<LoadBalancerStatus>>> calls = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        int n = i;
        calls.add(callers.submit(() -> guarded.find(ref(n))));
      }
      for (Future<Optional<LoadBalancerStatus>> call : calls) {
        assertThat(call.get(10, TimeUnit.SECONDS)).isEmpty();
      }
    } finally {
      callers.shutdownNow();
    }
    assertThat(cloud.mostInCloud()).isEqualTo(2);
  }

  @Test
  @DisplayName(
      "an abandoned call gives its slot up at the deadline: the next caller goes ahead at once")
  void abandonedCallFreesItsSlot() throws Exception {
    CountDownLatch release = cloud.hang("ns/svc-1");
    GuardedProvider guarded =
        new GuardedProvider(cloud, new SimpleMeterRegistry(), Duration.ofMillis(200), 1);

    assertThatThrownBy(() -> guarded.find(ref(1)))
        .isInstanceOf(ProviderException.Transient.class)
        .hasMessageContaining("overran its deadline");
    cloud.pace(Duration.ofMillis(50));
    assertThat(guarded.find(ref(2))).isEmpty();
    assertThat(cloud.mostInCloud()).isEqualTo(2); // the abandoned call was still in the cloud
    // the same Service is not called again while its abandoned call has not returned
    assertThatThrownBy(() -> guarded.find(ref(1)))
        .isInstanceOf(ProviderException.Transient.class)
        .hasMessageContaining("has not returned yet");
    release.countDown();
  }

  @org.junit.jupiter.api.Test
  @org.junit.jupiter.api.DisplayName(
      "the guard forwards every method of the provider contract (a default left in place would"
          + " answer for the provider: 'cannot adopt' from a provider that can)")
  void forwardsEveryMethod() {
    for (java.lang.reflect.Method m : dev.ferry.spi.LoadBalancerProvider.class.getMethods()) {
      if (java.lang.reflect.Modifier.isStatic(m.getModifiers())) {
        continue;
      }
      org.assertj.core.api.Assertions.assertThatCode(
              () -> GuardedProvider.class.getDeclaredMethod(m.getName(), m.getParameterTypes()))
          .as(m.getName())
          .doesNotThrowAnyException();
    }
  }
}
