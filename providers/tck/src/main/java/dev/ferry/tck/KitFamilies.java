package dev.ferry.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.AddressKind;
import dev.ferry.spi.Backend;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.IpFamilyPolicy;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit's dual-stack cases (since 1.3): for a provider that declares {@link
 * dev.ferry.spi.Capabilities#dualStack()}, both addresses in the order of the plan's families,
 * backends and source ranges per family, and a family dropped and added again; skipped, with the
 * reason, for one that serves a single family. Extend {@link ProviderConformanceKit}.
 */
public abstract class KitFamilies extends KitAdopt {

  /** {@code plan} for both families, in this order, every client of each let in. */
  LoadBalancerPlan dual(LoadBalancerPlan plan, IpFamily first, IpFamily second) {
    return plan.toBuilder()
        .ipFamilies(List.of(first, second))
        .ipFamilyPolicy(IpFamilyPolicy.RequireDualStack)
        .sourceRanges(List.of(first.everyAddress(), second.everyAddress()))
        .build();
  }

  /** The family of each ingress entry that has an IP, in order. */
  static List<IpFamily> families(LoadBalancerStatus status) {
    return status.ingress().stream()
        .map(LoadBalancerStatus.Ingress::ip)
        .flatMap(Optional::stream)
        .map(IpFamily::of)
        .toList();
  }

  static <T> T perFamily(Supplier<T> view) {
    try {
      return view.get();
    } catch (UnsupportedOperationException e) {
      Assumptions.abort(e.getMessage());
      return null;
    }
  }

  @Nested
  @DisplayName("dual-stack")
  class DualStack {

    @BeforeEach
    void onlyForDualStack() {
      assumeCapable(provider.capabilities().dualStack(), "dual-stack load balancers");
    }

    @Test
    @DisplayName("both families get an address, in the order of spec.ipFamilies")
    void bothAddresses() throws Exception {
      for (List<IpFamily> order :
          List.of(List.of(IpFamily.IPv4, IpFamily.IPv6), List.of(IpFamily.IPv6, IpFamily.IPv4))) {
        LoadBalancerRef ref = newRef();
        LoadBalancerStatus status =
            provider.ensure(dual(plan(ref, dualStackBackends(2)), order.get(0), order.get(1)));
        if (provider.capabilities().addressKind() == AddressKind.HOSTNAME) {
          assertThat(status.ingress()).as("one dual-stack name").hasSize(1);
        } else {
          assertThat(families(status)).as("an address per family, in order").isEqualTo(order);
        }
        assertThat(provider.find(ref).map(LoadBalancerStatus::ingress)).hasValue(status.ingress());
        assertThat(cloud().loadBalancerCount(ref)).isEqualTo(1);
      }
    }

    @Test
    @DisplayName(
        "each family's frontend has the nodes with an address of it; a node leaving or coming back"
            + " follows in each")
    void perFamilyBackends() throws Exception {
      Assumptions.assumeTrue(
          provider.capabilities().backendsByFamily(),
          "this provider reaches every family through the nodes' primary address"
              + " (Capabilities.backendsByFamily)");
      List<Backend> both = dualStackBackends(2);
      Backend v4 = both.get(1);
      Backend v4Only =
          new Backend(
              v4.nodeName(),
              v4.providerId(),
              v4.address(IpFamily.IPv4),
              v4.zone(),
              List.of(v4.address(IpFamily.IPv4)));
      List<Backend> backends = List.of(both.get(0), v4Only);
      LoadBalancerRef ref = newRef();
      provider.ensure(dual(plan(ref, backends), IpFamily.IPv4, IpFamily.IPv6));
      assertThat(perFamily(() -> cloud().registeredBackends(ref, IpFamily.IPv4)))
          .isEqualTo(names(backends));
      assertThat(perFamily(() -> cloud().registeredBackends(ref, IpFamily.IPv6)))
          .isEqualTo(names(List.of(both.get(0))));
      provider.updateBackends(ref, both);
      assertThat(cloud().registeredBackends(ref, IpFamily.IPv6)).isEqualTo(names(both));
      provider.updateBackends(ref, List.of(both.get(1)));
      assertThat(cloud().registeredBackends(ref, IpFamily.IPv6))
          .isEqualTo(names(List.of(both.get(1))));
    }

    @Test
    @DisplayName(
        "each family's frontend lets in that family's ranges; a family with no range of its own"
            + " admits no one")
    void perFamilyRanges() throws Exception {
      LoadBalancerRef ref = newRef();
      LoadBalancerPlan plan =
          dual(plan(ref, dualStackBackends(2)), IpFamily.IPv4, IpFamily.IPv6).toBuilder()
              .sourceRanges(List.of("203.0.113.0/24", "2001:db8::/32"))
              .build();
      provider.ensure(plan);
      assertThat(perFamily(() -> cloud().sourceRanges(ref, IpFamily.IPv4)))
          .containsExactly("203.0.113.0/24");
      assertThat(cloud().sourceRanges(ref, IpFamily.IPv6)).containsExactly("2001:db8::/32");
      provider.ensure(plan.toBuilder().sourceRanges(List.of("203.0.113.0/24")).build());
      assertThat(cloud().sourceRanges(ref, IpFamily.IPv6)).as("closed, never open").isEmpty();
      assertThat(cloud().sourceRanges(ref, IpFamily.IPv4)).containsExactly("203.0.113.0/24");
    }

    @Test
    @DisplayName("a family dropped and added again: one address, then two, then none")
    void familyDroppedAndReadded() throws Exception {
      LoadBalancerRef ref = newRef();
      LoadBalancerPlan v4 = plan(ref, dualStackBackends(2));
      LoadBalancerPlan both = dual(v4, IpFamily.IPv4, IpFamily.IPv6);
      provider.ensure(both);
      LoadBalancerStatus one = provider.ensure(v4);
      assertThat(one.ingress()).hasSize(1);
      assertThat(provider.find(ref).map(LoadBalancerStatus::ingress)).hasValue(one.ingress());
      if (provider.capabilities().addressKind() == AddressKind.IP) {
        assertThat(families(one)).containsExactly(IpFamily.IPv4);
        assertThat(families(provider.ensure(both))).containsExactly(IpFamily.IPv4, IpFamily.IPv6);
      } else {
        provider.ensure(both);
      }
      assertThat(cloud().loadBalancerCount(ref)).isEqualTo(1);
      provider.ensureDeleted(ref);
      assertThat(cloud().ownedResources(ref)).isZero();
      assertThat(Set.copyOf(provider.listOwned(clusterName()))).doesNotContain(ref);
    }
  }
}
