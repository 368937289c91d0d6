package dev.ferry.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.spi.AddressKind;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.ReclaimPolicy;
import dev.ferry.spi.RetainedAddress;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit's cases for retained addresses (since 1.4): for a provider that declares
 * {@link dev.ferry.spi.Capabilities#retain()}, {@code ensureRetained} removes the load balancer and
 * keeps its address, listed for the Service's namespace and name and for no other cluster; a later
 * Service that requests the address serves on it; the address stays retained when that Service
 * goes; {@code deleteRetained} refuses while it is in use, then removes it. Skipped, with the
 * reason, for a provider that retains nothing. Extend {@link ProviderConformanceKit}.
 */
public abstract class KitRetain extends KitLifecycle {

  private final List<String> kept = new java.util.ArrayList<>();

  /** The address a status shows first: its IP, else its hostname. */
  static String address(LoadBalancerStatus status) {
    LoadBalancerStatus.Ingress first = status.ingress().get(0);
    return first.ip().or(first::hostname).orElseThrow();
  }

  Optional<RetainedAddress> retained(String address) throws ProviderException {
    return provider.listRetained(clusterName()).stream()
        .filter(r -> r.address().equals(address))
        .findFirst();
  }

  @AfterEach
  void deleteRetained() throws Exception {
    if (provider != null) {
      for (String id : kept) {
        try {
          provider.deleteRetained(clusterName(), id);
        } catch (ProviderException e) {
          // already gone, or still in use by a ref the fixture deletes next
        }
      }
    }
  }

  @Nested
  @DisplayName("retain")
  class Retain {

    @BeforeEach
    void onlyForRetain() {
      assumeCapable(provider.capabilities().retain(), "retained addresses (reclaim policy Retain)");
    }

    @Test
    @DisplayName(
        "ensureRetained removes the load balancer and keeps its address, listed for the Service"
            + " and no longer owned; twice, and for the absent, it succeeds")
    void keepsTheAddress() throws Exception {
      LoadBalancerRef ref = newRef();
      LoadBalancerPlan plan =
          plan(ref, backends(2)).toBuilder().reclaimPolicy(ReclaimPolicy.Retain).build();
      String address = address(provider.ensure(plan));
      provider.ensureRetained(ref);
      Optional<RetainedAddress> r = retained(address);
      r.ifPresent(x -> kept.add(x.id()));
      assertThat(r).as("the address is retained").isPresent();
      assertThat(r.get().serviceKey()).isEqualTo(ref.serviceKey());
      assertThat(r.get().inUse()).isFalse();
      if (cloud().loadBalancerCount(ref) > 0) {
        // where the address is the load balancer's (an NLB's name), it stays, serving nothing
        assertThat(cloud().listeners(ref)).as("a retained load balancer serves nothing").isEmpty();
      }
      assertThat(provider.find(ref)).isEmpty();
      assertThat(provider.listOwned(clusterName())).doesNotContain(ref);
      assertThat(provider.listRetained(clusterName() + "-other"))
          .noneMatch(x -> x.address().equals(address));

      provider.ensureRetained(ref);
      provider.ensureRetained(newRef());
      assertThat(retained(address)).isPresent();
    }

    @Test
    @DisplayName(
        "a new Service that requests the retained address serves on it; when it goes the address"
            + " stays retained; deleteRetained refuses while it is in use, then removes it")
    void claimedAndGivenBack() throws Exception {
      LoadBalancerRef first = newRef();
      String address = address(provider.ensure(plan(first, backends(1))));
      provider.ensureRetained(first);
      String id = retained(address).orElseThrow().id();
      kept.add(id);

      // the Service made again: same name, new UID, claiming the address as the controller does
      LoadBalancerRef second = newRef(first);
      LoadBalancerPlan.Builder b =
          plan(second, backends(1)).toBuilder().claimRetained(Optional.of(id));
      if (provider.capabilities().requestedIp()
          && provider.capabilities().addressKind() == AddressKind.IP) {
        b.requestedIp(Optional.of(address));
      }
      LoadBalancerPlan claim = b.build();
      assertThat(address(provider.ensure(claim))).isEqualTo(address);
      assertThat(retained(address).map(RetainedAddress::inUse)).hasValue(true);
      assertThatThrownBy(() -> provider.deleteRetained(clusterName(), id))
          .as("refused while a Service serves on it")
          .isInstanceOf(ProviderException.InvalidPlan.class);

      assertThat(provider.find(second).map(KitRetain::address)).hasValue(address);
      provider.ensureDeleted(second);
      assertThat(provider.find(second)).isEmpty();
      assertThat(retained(address).map(RetainedAddress::inUse))
          .as("still retained, idle")
          .hasValue(false);

      provider.deleteRetained(clusterName(), id);
      assertThat(retained(address)).isEmpty();
      provider.deleteRetained(clusterName(), id); // gone: succeeds
    }

    @Test
    @DisplayName(
        "ensureRetained crashed after each of its mutating calls leaves the Service's load"
            + " balancer or the retained address, never neither; the next run retains it")
    void retainCrashPoints() throws Exception {
      LoadBalancerRef probe = newRef();
      String probed = address(provider.ensure(onPort(probe, 0)));
      int before = cloudCalls.count();
      provider.ensureRetained(probe);
      int calls = cloudCalls.count() - before;
      retained(probed).ifPresent(r -> kept.add(r.id()));
      assertThat(calls)
          .as("mutating calls of one ensureRetained (is CloudCalls wired?)")
          .isPositive();
      for (int n = 1; n <= calls; n++) {
        LoadBalancerRef ref = newRef();
        String address = address(provider.ensure(onPort(ref, n)));
        LoadBalancerProvider doomed = newProvider();
        cloudCalls.crashAfter(n);
        assertThatThrownBy(() -> doomed.ensureRetained(ref))
            .as("crash after mutating call %d", n)
            .isInstanceOf(SimulatedCrash.class);
        cloudCalls.disarm();
        try (LoadBalancerProvider restarted = newProvider()) {
          boolean served = restarted.find(ref).isPresent();
          Optional<RetainedAddress> kept = retained(address);
          kept.ifPresent(r -> this.keep(r.id()));
          assertThat(served || kept.isPresent())
              .as("crash point %d: the load balancer or the retained address is there", n)
              .isTrue();
          restarted.ensureRetained(ref);
          assertThat(retained(address)).as("crash point %d: retained", n).isPresent();
          retained(address).ifPresent(r -> this.keep(r.id()));
          assertThat(restarted.find(ref)).as("crash point %d", n).isEmpty();
          assertThat(restarted.listOwned(clusterName()))
              .as("crash point %d", n)
              .doesNotContain(ref);
        }
      }
    }

    private void keep(String id) {
      if (!kept.contains(id)) {
        kept.add(id);
      }
    }

    private LoadBalancerPlan onPort(LoadBalancerRef ref, int k) {
      return plan(ref, backends(1), new Listener("http", Protocol.TCP, servicePort(9), 31500 + k));
    }

    @Test
    @DisplayName("deleteRetained of what is not a retained address of the cluster is refused")
    void deleteOnlyRetained() throws Exception {
      LoadBalancerRef ref = newRef();
      String address = address(provider.ensure(plan(ref, backends(1))));
      String other = "ferry-not-retained-" + UUID.randomUUID().toString().substring(0, 8);
      for (String id : List.of(address, other)) {
        try {
          provider.deleteRetained(clusterName(), id);
        } catch (ProviderException.InvalidPlan expected) {
          // refused, as it should be
        }
      }
      assertThat(provider.find(ref)).as("the live load balancer is untouched").isPresent();
      assertThat(provider.find(ref).map(KitRetain::address)).hasValue(address);
    }
  }
}
