package dev.ferry.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.ProviderException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Shared addresses on Azure: one frontend and public IP for a sharing key, each Service's rules on
 * it, both gone with the last Service; an internal Service cannot share.
 */
class AzureShareTest {

  private final ArmFake fake = AzureFixture.start();
  private final AzureProvider provider =
      AzureFixture.provider(fake, ProviderContext.builder("prod"));

  @AfterEach
  void close() {
    provider.close();
    fake.close();
  }

  private static LoadBalancerPlan plan(String name, int port, Map<String, String> annotations) {
    LoadBalancerRef ref = new LoadBalancerRef("prod", "shop", name, "uid-" + name);
    return LoadBalancerPlan.builder(
            ref,
            List.of(
                new dev.ferry.spi.Listener("p", dev.ferry.spi.Protocol.TCP, port, 30000 + port)),
            new dev.ferry.spi.HealthCheck(
                dev.ferry.spi.HealthCheck.Type.TCP,
                dev.ferry.spi.HealthCheck.TRAFFIC_PORT,
                "",
                java.time.Duration.ofSeconds(5),
                java.time.Duration.ofSeconds(5),
                1,
                2))
        .backends(AzureFixture.nodes(2))
        .annotations(annotations)
        .sharingKey(Optional.of("web"))
        .build();
  }

  private List<String> publicIps() {
    return fake.all("publicIPAddresses").stream().map(n -> n.path("name").asText()).toList();
  }

  @Test
  @DisplayName(
      "two Services with one key: one shared frontend and public IP, a rule each; the first deleted"
          + " leaves both, the last deleted takes both")
  void sharedFrontend() throws Exception {
    String a = provider.ensure(plan("a", 80, Map.of())).ingress().get(0).ip().orElseThrow();
    String b = provider.ensure(plan("b", 81, Map.of())).ingress().get(0).ip().orElseThrow();
    assertThat(b).isEqualTo(a);
    String shared = AzureNames.sharedFrontend("prod", "web");
    assertThat(publicIps()).containsExactly(shared);
    provider.ensureDeleted(plan("a", 80, Map.of()).ref());
    assertThat(publicIps()).containsExactly(shared);
    assertThat(provider.find(plan("b", 81, Map.of()).ref()).orElseThrow().ingress().get(0).ip())
        .hasValue(a);
    provider.ensureDeleted(plan("b", 81, Map.of()).ref());
    assertThat(publicIps()).isEmpty();
    assertThat(fake.all("loadBalancers").toString()).doesNotContain(shared);
  }

  @Test
  @DisplayName("an internal Service cannot share: refused naming the annotation, nothing made")
  void internalRefused() {
    assertThatThrownBy(
            () ->
                provider.ensure(
                    plan(
                        "c",
                        80,
                        Map.of(AzureWish.INTERNAL, "true", AzureWish.INTERNAL_SUBNET, "nodes"))))
        .isInstanceOf(ProviderException.InvalidPlan.class)
        .hasMessageContaining("ferry.dev/allow-shared-ip");
    assertThat(publicIps()).isEmpty();
  }
}
