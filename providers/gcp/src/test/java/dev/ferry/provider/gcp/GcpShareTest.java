package dev.ferry.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.ForwardingRule;
import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderContext;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Shared addresses on GCP: the key's reserved address, a forwarding rule per Service on it (Compute
 * lets rules share an IP on different ports), the address gone with the last Service.
 */
class GcpShareTest {

  private final ComputeFake fake = GcpFixture.start();
  private final List<Backend> nodes = GcpFixture.nodes(fake, 2);
  private final GcpProvider provider = GcpFixture.provider(fake, ProviderContext.builder("prod"));

  @AfterEach
  void close() {
    provider.close();
    fake.close();
  }

  private LoadBalancerPlan plan(String name, int port) {
    return LoadBalancerPlan.builder(
            new LoadBalancerRef("prod", "shop", name, "uid-" + name),
            List.of(new Listener("p", Protocol.TCP, port, 30000 + port)),
            new HealthCheck(
                HealthCheck.Type.TCP,
                HealthCheck.TRAFFIC_PORT,
                "",
                Duration.ofSeconds(8),
                Duration.ofSeconds(1),
                1,
                3))
        .backends(nodes)
        .sharingKey(Optional.of("web"))
        .build();
  }

  private List<String> addresses() {
    return fake.ferrys("addresses", Address.class).stream().map(Address::getName).toList();
  }

  @Test
  @DisplayName(
      "two Services with one key: one address of the key's, a rule each on its IP; the first"
          + " deleted leaves the address in use, the last deleted takes it")
  void oneAddress() throws Exception {
    String a = provider.ensure(plan("a", 80)).ingress().get(0).ip().orElseThrow();
    String b = provider.ensure(plan("b", 81)).ingress().get(0).ip().orElseThrow();
    assertThat(b).isEqualTo(a);
    assertThat(addresses()).containsExactly(GcpNames.sharedAddress("prod", "web"));
    assertThat(fake.ferrys("forwardingRules", ForwardingRule.class))
        .hasSize(2)
        .allMatch(r -> r.getIPAddress().equals(a));
    provider.ensureDeleted(plan("a", 80).ref());
    assertThat(addresses()).containsExactly(GcpNames.sharedAddress("prod", "web"));
    provider.ensureDeleted(plan("b", 81).ref());
    assertThat(addresses()).isEmpty();
    assertThat(fake.ferrys("forwardingRules", ForwardingRule.class)).isEmpty();
  }
}
