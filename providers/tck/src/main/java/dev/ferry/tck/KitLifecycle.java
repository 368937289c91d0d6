package dev.ferry.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderException;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit's cases for a load balancer's life: ensure, backends, delete, a restart of
 * the provider, what it owns, and what it refuses. Extend {@link ProviderConformanceKit}.
 */
public abstract class KitLifecycle extends KitFixture {

  @Nested
  @DisplayName("ensure")
  class Ensure {

    @Test
    @DisplayName("ensure twice makes one load balancer and returns the same status")
    void ensureTwice() throws Exception {
      LoadBalancerRef ref = newRef();
      LoadBalancerPlan plan = plan(ref, backends(2));
      LoadBalancerStatus first = provider.ensure(plan);
      LoadBalancerStatus second = provider.ensure(plan);
      assertThat(second.ingress()).isEqualTo(first.ingress());
      assertThat(first.ingress()).isNotEmpty();
      assertThat(cloud().loadBalancerCount(ref)).isEqualTo(1);
    }

    @Test
    @DisplayName("find after ensure returns the status ensure returned")
    void findAfterEnsure() throws Exception {
      LoadBalancerRef ref = newRef();
      LoadBalancerStatus status = provider.ensure(plan(ref, backends(1)));
      assertThat(provider.find(ref).map(LoadBalancerStatus::ingress)).contains(status.ingress());
    }

    @Test
    @DisplayName("find of a load balancer never made is empty")
    void findAbsent() throws Exception {
      assertThat(provider.find(newRef())).isEmpty();
    }

    @Test
    @DisplayName("ensure with changed listeners updates the same load balancer")
    void ensureChangedListeners() throws Exception {
      LoadBalancerRef ref = newRef();
      provider.ensure(plan(ref, backends(1)));
      provider.ensure(
          plan(
              ref,
              backends(1),
              new Listener("http", Protocol.TCP, servicePort(0), 30080),
              new Listener("admin", Protocol.TCP, servicePort(1), 30081)));
      assertThat(cloud().loadBalancerCount(ref)).isEqualTo(1);
      assertThat(provider.find(ref)).isPresent();
    }

    @Test
    @DisplayName("ensure registers exactly the plan's backends")
    void ensureRegistersBackends() throws Exception {
      LoadBalancerRef ref = newRef();
      List<Backend> backends = backends(3);
      provider.ensure(plan(ref, backends));
      assertThat(cloud().registeredBackends(ref)).isEqualTo(names(backends));
    }
  }

  @Nested
  @DisplayName("updateBackends")
  class UpdateBackends {

    @Test
    @DisplayName("updateBackends replaces the set exactly")
    void replacesExactly() throws Exception {
      LoadBalancerRef ref = newRef();
      List<Backend> all = backends(3);
      provider.ensure(plan(ref, all.subList(0, 2)));
      provider.updateBackends(ref, all.subList(1, 3));
      assertThat(cloud().registeredBackends(ref)).isEqualTo(names(all.subList(1, 3)));
      provider.updateBackends(ref, List.of());
      assertThat(cloud().registeredBackends(ref)).isEmpty();
      provider.updateBackends(ref, all);
      assertThat(cloud().registeredBackends(ref)).isEqualTo(names(all));
    }

    @Test
    @DisplayName("updateBackends with the same set twice changes nothing the second time")
    void idempotent() throws Exception {
      LoadBalancerRef ref = newRef();
      List<Backend> all = backends(2);
      provider.ensure(plan(ref, all));
      provider.updateBackends(ref, all);
      provider.updateBackends(ref, all);
      assertThat(cloud().registeredBackends(ref)).isEqualTo(names(all));
      assertThat(cloud().loadBalancerCount(ref)).isEqualTo(1);
    }
  }

  @Nested
  @DisplayName("ensureDeleted")
  class EnsureDeleted {

    @Test
    @DisplayName("ensureDeleted removes the load balancer and find is empty after")
    void deletes() throws Exception {
      LoadBalancerRef ref = newRef();
      provider.ensure(plan(ref, backends(2)));
      provider.ensureDeleted(ref);
      assertThat(cloud().loadBalancerCount(ref)).isZero();
      assertThat(provider.find(ref)).isEmpty();
    }

    @Test
    @DisplayName("ensureDeleted of the absent succeeds, twice")
    void absent() throws Exception {
      LoadBalancerRef ref = newRef();
      provider.ensureDeleted(ref);
      provider.ensureDeleted(ref);
      assertThat(cloud().loadBalancerCount(ref)).isZero();
    }

    @Test
    @DisplayName("ensureDeleted of one load balancer leaves the others alone")
    void onlyItsOwn() throws Exception {
      LoadBalancerRef keep = newRef();
      LoadBalancerRef drop = newRef();
      provider.ensure(plan(keep, backends(1)));
      provider.ensure(
          plan(drop, backends(1), new Listener("http", Protocol.TCP, servicePort(2), 30082)));
      provider.ensureDeleted(drop);
      assertThat(cloud().loadBalancerCount(keep)).isEqualTo(1);
      assertThat(provider.find(keep)).isPresent();
    }
  }

  @Nested
  @DisplayName("restart")
  class Restart {

    @Test
    @DisplayName("a fresh provider instance finds what the first made, with the same status")
    void freshInstanceFinds() throws Exception {
      LoadBalancerRef ref = newRef();
      LoadBalancerPlan plan = plan(ref, backends(2));
      LoadBalancerStatus status = provider.ensure(plan);
      try (LoadBalancerProvider restarted = newProvider()) {
        // the addresses are the same; a backend health figure may move between calls
        assertThat(restarted.find(ref).map(LoadBalancerStatus::ingress)).contains(status.ingress());
        assertThat(restarted.ensure(plan).ingress()).isEqualTo(status.ingress());
      }
      assertThat(cloud().loadBalancerCount(ref)).isEqualTo(1);
    }

    @Test
    @DisplayName("a fresh provider instance can delete what the first made")
    void freshInstanceDeletes() throws Exception {
      LoadBalancerRef ref = newRef();
      provider.ensure(plan(ref, backends(1)));
      try (LoadBalancerProvider restarted = newProvider()) {
        restarted.ensureDeleted(ref);
      }
      assertThat(cloud().loadBalancerCount(ref)).isZero();
    }
  }

  @Nested
  @DisplayName("ownership")
  class Ownership {

    @Test
    @DisplayName("listOwned returns this cluster's load balancers and no other's")
    void listOwned() throws Exception {
      LoadBalancerRef mine = newRef();
      LoadBalancerRef theirs = newRef(clusterName() + "-other");
      provider.ensure(plan(mine, backends(1)));
      provider.ensure(
          plan(
              theirs,
              otherClusterBackends(1),
              new Listener("http", Protocol.TCP, servicePort(3), 30083)));
      List<LoadBalancerRef> owned = provider.listOwned(clusterName());
      assertThat(owned).contains(mine).doesNotContain(theirs);
      assertThat(owned).allMatch(r -> r.cluster().equals(clusterName()));
    }
  }

  @Nested
  @DisplayName("validation")
  class Validation {

    @Test
    @DisplayName("a plan outside the capabilities fails as InvalidPlan before any change")
    void unsupportedPlan() throws Exception {
      Capabilities caps = provider.capabilities();
      LoadBalancerRef ref = newRef();
      LoadBalancerPlan unsupported = unsupportedPlan(ref, caps);
      Assumptions.assumeTrue(
          unsupported != null, "this provider supports every plan the kit can build");
      assertThat(caps.violations(unsupported)).isNotEmpty();
      assertThatThrownBy(() -> provider.ensure(unsupported))
          .isInstanceOf(ProviderException.InvalidPlan.class);
      assertThat(cloud().loadBalancerCount(ref)).isZero();
      assertThat(provider.find(ref)).isEmpty();
    }

    private LoadBalancerPlan unsupportedPlan(LoadBalancerRef ref, Capabilities caps) {
      for (Protocol p : Protocol.values()) {
        if (!caps.protocols().contains(p)) {
          return plan(ref, backends(1), new Listener("x", p, servicePort(0), 30080));
        }
      }
      if (caps.maxListeners() < 200) {
        Listener[] many = new Listener[caps.maxListeners() + 1];
        for (int i = 0; i < many.length; i++) {
          many[i] = new Listener("p" + i, Protocol.TCP, servicePort(10 + i), 30100 + i);
        }
        return plan(ref, backends(1), many);
      }
      return null;
    }
  }
}
