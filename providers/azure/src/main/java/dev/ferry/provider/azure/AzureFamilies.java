package dev.ferry.provider.azure;

import com.azure.resourcemanager.network.fluent.models.BackendAddressPoolInner;
import com.azure.resourcemanager.network.fluent.models.LoadBalancerInner;
import com.azure.resourcemanager.network.fluent.models.VirtualNetworkInner;
import dev.ferry.spi.FamilyFallback;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import java.util.List;
import java.util.Optional;

/**
 * Which families a Service's load balancer serves, as Azure allows them (<a
 * href="https://learn.microsoft.com/azure/load-balancer/load-balancer-ipv6-overview">IPv6 on Load
 * Balancer</a>: an IPv6 frontend forwards to an IPv6 pool only, no NAT64). Ferry builds IPv6 for
 * public Services: an IPv6 Standard public IP and frontend beside the IPv4 ones, rules and a probe
 * per family, and an IPv6 pool of the nodes' IPv6 addresses. That pool needs IPv6 in the cluster's
 * network: on Ferry's own load balancer, an IPv6 address space on the virtual network; on a joined
 * one (AKS), its owner's IPv6 pool ({@code kubernetes-IPv6}, which a dual-stack AKS cluster has).
 * Where IPv6 cannot be built, a {@code PreferDualStack} Service is served in IPv4 with a Normal
 * event saying why; {@code RequireDualStack} or {@code SingleStack} IPv6 is refused naming the
 * field.
 */
final class AzureFamilies {

  private AzureFamilies() {}

  static List<IpFamily> served(
      LoadBalancerPlan plan, AzureWish wish, AzureSettings s, Arm arm, ProviderEvents events)
      throws ProviderException {
    if (!plan.ipFamilies().contains(IpFamily.IPv6)) {
      return plan.ipFamilies();
    }
    Optional<String> requested = wish.requestedIp();
    if (requested.isPresent() && IpFamily.of(requested.get()) == IpFamily.IPv6) {
      throw new ProviderException.InvalidPlan(
          wish.requestedIpField(),
          requested.get()
              + " is IPv6: Ferry makes a Service's IPv6 public IP itself; remove it (an IPv4"
              + " address still names the IPv4 frontend's)");
    }
    String why = null;
    if (wish.internal()) {
      why = "Ferry's Azure provider builds IPv6 frontends for public load balancers only";
    } else if (s.joined()) {
      String name = s.loadBalancer(plan.ref().cluster(), false);
      String pool = AzureNames.ipv6(s.pool(plan.ref().cluster()));
      boolean has =
          arm
              .get("loadBalancers.get", s.loadBalancerId(name), LoadBalancerInner::fromJson)
              .map(lb -> AzureLbShape.list(lb.backendAddressPools()))
              .orElse(List.of())
              .stream()
              .map(BackendAddressPoolInner::name)
              .anyMatch(pool::equalsIgnoreCase);
      if (!has) {
        why =
            "load balancer "
                + name
                + " has no IPv6 backend pool "
                + pool
                + " (the cluster is not dual-stack)";
      }
    } else {
      Optional<VirtualNetworkInner> vnet =
          arm.get("virtualNetworks.get", s.vnetId(), VirtualNetworkInner::fromJson);
      List<String> prefixes =
          vnet.map(v -> v.addressSpace() == null ? null : v.addressSpace().addressPrefixes())
              .map(AzureLbShape::list)
              .orElse(List.of());
      if (prefixes.stream().noneMatch(p -> p.contains(":"))) {
        why =
            "virtual network "
                + AzureLbShape.last(s.vnetId())
                + (vnet.isEmpty()
                    ? " was not found"
                    : " has no IPv6 address space " + prefixes + ", so its nodes have no IPv6");
      }
    }
    if (why == null) {
      return plan.ipFamilies();
    }
    return FamilyFallback.ipv4Only(plan, why, events);
  }
}
