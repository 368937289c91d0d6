package dev.ferry.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.ProviderException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SimProviderTest {

  private static LoadBalancerPlan plan(int i) {
    LoadBalancerRef ref = new LoadBalancerRef("bench", "default", "svc-" + i, "uid-" + i);
    HealthCheck check =
        new HealthCheck(
            HealthCheck.Type.HTTP,
            10256,
            "/healthz",
            Duration.ofSeconds(5),
            Duration.ofSeconds(2),
            2,
            3);
    return LoadBalancerPlan.builder(
            ref, List.of(new Listener("http", Protocol.TCP, 80, 30080)), check)
        .backends(List.of(new Backend("node-1", "", "10.0.0.1", "")))
        .build();
  }

  private static LoadBalancerProvider provider(Map<String, String> settings) {
    return new SimProviderFactory()
        .create(ProviderContext.builder("bench").settings(settings).build());
  }

  /** Makes {@code count} load balancers from 4 threads; answers how many were throttled. */
  private static int burst(LoadBalancerProvider p, int count) throws Exception {
    AtomicInteger throttled = new AtomicInteger();
    try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
      List<Future<?>> all = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        int n = i;
        all.add(
            pool.submit(
                () -> {
                  try {
                    p.ensure(plan(n));
                  } catch (ProviderException.Throttled t) {
                    throttled.incrementAndGet();
                  }
                  return null;
                }));
      }
      for (Future<?> f : all) {
        f.get();
      }
    }
    return throttled.get();
  }

  @Test
  void aPacedProviderIsNeverThrottledAndAnUnpacedOneIs() throws Exception {
    // ARM's write bucket: 200 at once, then 10/s; 230 creates need 3 s of refill
    try (LoadBalancerProvider paced =
        provider(Map.of("sim.buckets", "arm", "sim.stats-port", "-1"))) {
      long start = System.nanoTime();
      assertThat(burst(paced, 230)).isZero();
      assertThat((System.nanoTime() - start) / 1e9).isGreaterThan(2.8);
    }
    try (LoadBalancerProvider unpaced =
        provider(Map.of("sim.buckets", "arm", "sim.pace", "false", "sim.stats-port", "-1"))) {
      assertThat(burst(unpaced, 230)).isBetween(20, 30);
    }
  }

  @Test
  void statsCountCallsByMethodAndKind() throws Exception {
    try (LoadBalancerProvider p = provider(Map.of("sim.latency", "5ms"))) {
      p.ensure(plan(1));
      p.updateBackends(plan(1).ref(), List.of());
      assertThat(p.find(plan(1).ref())).isPresent();
      p.ensureDeleted(plan(1).ref());
      assertThat(p.find(plan(1).ref())).isEmpty();
      assertThatThrownBy(() -> p.updateBackends(plan(2).ref(), List.of()))
          .isInstanceOf(ProviderException.Transient.class);
      int port = ((SimProvider) p).statsPort();
      String json =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/stats")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(json)
          .contains("\"calls\":{\"ensure\":1,\"ensureDeleted\":1,\"find\":2,\"updateBackends\":1}")
          .contains("\"kinds\":{\"backends\":1,\"create\":1,\"delete\":1,\"read\":2}")
          .contains("\"throttled\":{}");
    }
  }

  @Test
  void badSettingsNameTheSetting() {
    assertThatThrownBy(() -> provider(Map.of("sim.buckets", "ibm")))
        .hasMessageContaining("sim.buckets");
    assertThatThrownBy(() -> provider(Map.of("sim.latency", "fast")))
        .hasMessageContaining("sim.latency");
  }
}
