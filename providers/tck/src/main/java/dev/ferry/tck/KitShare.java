package dev.ferry.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit's cases for shared addresses (since 1.4): for a provider that declares {@link
 * dev.ferry.spi.Capabilities#sharedAddresses()}, Services with the same sharing key get one
 * address, each with its own listeners, and the address stays while one of them is left. Skipped,
 * with the reason, for a provider that cannot share. Extend {@link ProviderConformanceKit}.
 */
public abstract class KitShare extends KitRetain {

  @Nested
  @DisplayName("shared addresses")
  class Share {

    @BeforeEach
    void onlyForSharing() {
      assumeCapable(provider.capabilities().sharedAddresses(), "shared addresses");
    }

    private LoadBalancerPlan shared(LoadBalancerRef ref, String key, int port, int nodePort) {
      return plan(ref, backends(1), new Listener("p" + port, Protocol.TCP, port, nodePort))
          .toBuilder()
          .sharingKey(Optional.of(key))
          .build();
    }

    @Test
    @DisplayName(
        "two Services with one key get one address, each its own listener; the address stays"
            + " with the one left when the other goes")
    void oneAddress() throws Exception {
      String key = "kit-" + UUID.randomUUID().toString().substring(0, 8);
      LoadBalancerRef a = newRef();
      LoadBalancerRef b = newRef();
      String first = KitRetain.address(provider.ensure(shared(a, key, servicePort(4), 31601)));
      String second = KitRetain.address(provider.ensure(shared(b, key, servicePort(5), 31602)));
      assertThat(second).as("one address for the key").isEqualTo(first);
      assertThat(cloud().listeners(a)).isEqualTo(ports(shared(a, key, servicePort(4), 31601)));
      assertThat(cloud().listeners(b)).isEqualTo(ports(shared(b, key, servicePort(5), 31602)));

      LoadBalancerRef alone = newRef();
      String own = KitRetain.address(provider.ensure(plan(alone, backends(1))));
      assertThat(own).as("a Service without the key has its own address").isNotEqualTo(first);

      provider.ensureDeleted(a);
      assertThat(provider.find(a)).isEmpty();
      assertThat(provider.find(b).map(KitRetain::address)).hasValue(first);
      assertThat(cloud().listeners(b)).isEqualTo(ports(shared(b, key, servicePort(5), 31602)));
      // ensured again, the one left keeps the address
      assertThat(KitRetain.address(provider.ensure(shared(b, key, servicePort(5), 31602))))
          .isEqualTo(first);
      provider.ensureDeleted(b);
      assertThat(provider.find(b)).isEmpty();
      assertThat(provider.listOwned(clusterName())).doesNotContain(a, b);
    }
  }

  private static java.util.Set<String> ports(LoadBalancerPlan plan) {
    return ports(plan.listeners().toArray(Listener[]::new));
  }
}
