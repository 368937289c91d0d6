package dev.ferry.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.spi.AdoptionPreview;
import dev.ferry.spi.Backend;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit's adoption cases (since 1.4): for a provider that declares {@link
 * dev.ferry.spi.Capabilities#adopt()} and a {@link CloudView} that can make a load balancer outside
 * Ferry, the preview reads only and names the address and the changes; {@code ensure} with the
 * adoption keeps the address and converges the load balancer; what is not there, or is Ferry's, is
 * refused. Skipped, with the reason, otherwise. Extend {@link ProviderConformanceKit}.
 */
public abstract class KitAdopt extends KitShare {

  @Nested
  @DisplayName("adopt")
  class Adopt {

    @BeforeEach
    void onlyForAdopt() {
      assumeCapable(provider.capabilities().adopt(), "adopting existing load balancers");
    }

    private String handMade(int port, int nodePort, List<Backend> backends) {
      return KitFamilies.perFamily(
          () ->
              cloud()
                  .handMade(
                      "kit-" + UUID.randomUUID().toString().substring(0, 8),
                      port,
                      nodePort,
                      backends));
    }

    @Test
    @DisplayName(
        "the preview reads only and names the address and the changes; ensure with the adoption"
            + " keeps that address, converges, and repeats nothing; deleted, it is gone")
    void adopts() throws Exception {
      int port = servicePort(6);
      String id = handMade(port, 31650, backends(1));
      LoadBalancerRef ref = newRef();
      LoadBalancerPlan plan =
          plan(ref, backends(2), new Listener("http", Protocol.TCP, port, 31650)).toBuilder()
              .adopt(Optional.of(id))
              .build();
      int before = cloudCalls.count();
      AdoptionPreview preview = provider.previewAdoption(plan, id);
      assertThat(cloudCalls.since(before)).as("the preview changes nothing").isEmpty();
      assertThat(preview.changes()).as("a node is added").isNotEmpty();
      assertThat(KitRetain.address(provider.ensure(plan))).isEqualTo(preview.address());
      assertThat(cloud().listeners(ref)).containsExactly("TCP/" + port);
      assertThat(cloud().registeredBackends(ref)).isEqualTo(names(backends(2)));
      int settled = cloudCalls.count();
      provider.ensure(plan);
      assertThat(cloudCalls.since(settled)).as("converged").isEmpty();
      provider.ensureDeleted(ref);
      assertThat(provider.find(ref)).isEmpty();
    }

    @Test
    @DisplayName(
        "adopting what does not exist, or a load balancer Ferry serves for another Service, is"
            + " refused naming ferry.dev/adopt")
    void refused() throws Exception {
      LoadBalancerRef other = newRef();
      String theirs = KitRetain.address(provider.ensure(plan(other, backends(1))));
      LoadBalancerRef ref = newRef();
      for (String id : List.of("no-such-load-balancer", theirs)) {
        LoadBalancerPlan plan = plan(ref, backends(1)).toBuilder().adopt(Optional.of(id)).build();
        assertThatThrownBy(() -> provider.previewAdoption(plan, id))
            .isInstanceOf(ProviderException.InvalidPlan.class)
            .hasMessageContaining("ferry.dev/adopt");
      }
      assertThat(provider.find(other).map(KitRetain::address)).hasValue(theirs);
    }
  }
}
