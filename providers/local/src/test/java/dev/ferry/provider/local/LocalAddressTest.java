package dev.ferry.provider.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderEvents;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Addresses survive a restart of the process that holds the local load balancers. */
class LocalAddressTest {

  private static final Cidr POOL = Cidr.parse("127.0.118.0/26"); // 62 usable: collisions happen

  private static LocalProvider newProcess() {
    return new LocalProvider(
        new LocalCloud(POOL),
        new LocalSettings(POOL, Duration.ofSeconds(1), Duration.ofSeconds(5)),
        ProviderEvents.NONE);
  }

  private static LoadBalancerPlan plan(int i) {
    String uid = "00000000-0000-0000-0000-" + String.format("%012d", i * 7919);
    return LoadBalancerPlan.builder(
            new LoadBalancerRef("addr", "a", "svc-" + i, uid),
            List.of(new Listener("p", Protocol.TCP, 18500 + i, 30000 + i)),
            new HealthCheck(
                HealthCheck.Type.TCP, 0, "", Duration.ofSeconds(5), Duration.ofSeconds(2), 2, 2))
        .build();
  }

  private static String ip(dev.ferry.spi.LoadBalancerStatus s) {
    return s.ingress().get(0).ip().orElseThrow();
  }

  @Test
  @DisplayName(
      "a new process given the addresses the Services show keeps every one, whatever the order")
  void restartKeepsAddresses() throws Exception {
    LocalProvider first = newProcess();
    Map<Integer, String> before = new HashMap<>();
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      before.put(i, ip(first.ensure(plan(i))));
      order.add(i);
    }
    for (int i = 0; i < 40; i++) {
      first.ensureDeleted(plan(i).ref()); // the old process is gone with its listeners
    }
    LocalProvider second = newProcess();
    Collections.shuffle(order, new Random(7));
    Map<Integer, String> after = new HashMap<>();
    for (int i : order) {
      after.put(i, ip(second.ensure(plan(i).withCurrentAddresses(List.of(before.get(i))))));
    }
    assertThat(after).isEqualTo(before);
    for (int i = 0; i < 40; i++) {
      second.ensureDeleted(plan(i).ref());
    }
  }
}
