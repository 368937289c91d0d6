package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The provider slots: how many callers wait on the cloud at once. */
class GuardedProviderTest {

  private static LoadBalancerRef ref(int i) {
    return new LoadBalancerRef("cluster", "ns", "svc-" + i, "uid-" + i);
  }

  /** A provider whose find sleeps, or waits for a latch it does not let an interrupt cut short. */
  private static final class Slow implements LoadBalancerProvider {
    private final RecordingProvider rest = new RecordingProvider();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger most = new AtomicInteger();
    volatile CountDownLatch hold;

    @Override
    public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) {
      most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      try {
        CountDownLatch h = hold;
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(h == null ? 50 : 10_000);
        while (System.nanoTime() < until && (h == null || h.getCount() > 0)) {
          try {
            Thread.sleep(5);
          } catch (InterruptedException ignored) {
            // a provider that ignores interrupts: the call stays in the cloud
          }
        }
        return Optional.empty();
      } finally {
        inFlight.decrementAndGet();
      }
    }

    @Override
    public Capabilities capabilities() {
      return rest.capabilities();
    }

    @Override
    public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
      return rest.ensure(plan);
    }

    @Override
    public void updateBackends(LoadBalancerRef ref, List<Backend> backends)
        throws ProviderException {
      rest.updateBackends(ref, backends);
    }

    @Override
    public void ensureDeleted(LoadBalancerRef ref) throws ProviderException {
      rest.ensureDeleted(ref);
    }

    @Override
    public List<LoadBalancerRef> listOwned(String clusterName) throws ProviderException {
      return rest.listOwned(clusterName);
    }
  }

  @Test
  @DisplayName("eight callers, two slots: never more than two calls in the cloud, and all succeed")
  void boundsCallsInFlight() throws Exception {
    Slow cloud = new Slow();
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
    assertThat(cloud.most.get()).isEqualTo(2);
  }

  @Test
  @DisplayName(
      "an abandoned call gives its slot up at the deadline: the next caller goes ahead at once")
  void abandonedCallFreesItsSlot() throws Exception {
    Slow cloud = new Slow();
    CountDownLatch release = new CountDownLatch(1);
    cloud.hold = release;
    GuardedProvider guarded =
        new GuardedProvider(cloud, new SimpleMeterRegistry(), Duration.ofMillis(200), 1);

    assertThatThrownBy(() -> guarded.find(ref(1)))
        .isInstanceOf(ProviderException.Transient.class)
        .hasMessageContaining("overran its deadline");
    cloud.hold = null; // calls from now on take 50 ms
    assertThat(guarded.find(ref(2))).isEmpty();
    assertThat(cloud.most.get()).isEqualTo(2); // the abandoned call was still in the cloud
    // the same Service is not called again while its abandoned call has not returned
    assertThatThrownBy(() -> guarded.find(ref(1)))
        .isInstanceOf(ProviderException.Transient.class)
        .hasMessageContaining("has not returned yet");
    release.countDown();
  }
}
