package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Subnetwork;
import dev.ferry.spi.FamilyFallback;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import java.util.List;
import java.util.Optional;

/**
 * Which families a Service's load balancer serves, as Compute allows them. An external IPv6
 * forwarding rule needs a subnet with external IPv6 access (the discovery document's
 * ForwardingRule.subnetwork; <a
 * href="https://cloud.google.com/load-balancing/docs/forwarding-rule-concepts#ip_address_specifications">IP
 * address specifications</a>) and the Premium tier (<a
 * href="https://cloud.google.com/network-tiers/docs/overview">Network Service Tiers</a>: IPv6 is
 * Premium only), as GKE's NetLB checks. The subnet is the nodes': the setting {@code
 * gcp.subnetwork}, else the network's one subnet in the region. Ferry builds IPv6 only for external
 * load balancers. Where IPv6 cannot be built, a {@code PreferDualStack} Service is served in IPv4
 * with a Normal event saying why; {@code RequireDualStack} or {@code SingleStack} IPv6 is refused
 * naming the field.
 */
final class GcpFamilies {

  private GcpFamilies() {}

  /** Reads the subnet an external IPv6 rule would be in. */
  interface SubnetLookup {
    /** The subnet, or an explanation why none can be named. */
    Subnetwork subnet() throws ProviderException;
  }

  /**
   * The families to serve, in the plan's order, and (when IPv6 is among them) the subnet's link.
   */
  record Served(List<IpFamily> families, String ipv6Subnet) {}

  static Served served(
      LoadBalancerPlan plan, GcpOptions options, SubnetLookup lookup, ProviderEvents events)
      throws ProviderException {
    if (!plan.ipFamilies().contains(IpFamily.IPv6)) {
      return new Served(plan.ipFamilies(), "");
    }
    Optional<String> requested = plan.requestedIp();
    if (requested.isPresent() && IpFamily.of(requested.get()) == IpFamily.IPv6) {
      throw new ProviderException.InvalidPlan(
          "spec.loadBalancerIP",
          requested.get()
              + " is IPv6: Ferry reserves a Service's IPv6 range itself on GCP; remove the field"
              + " (an IPv4 spec.loadBalancerIP still names the IPv4 address)");
    }
    String why = null;
    String subnetLink = "";
    if (options.internal()) {
      why = "Ferry's GCP provider builds IPv6 forwarding rules for external load balancers only";
    } else if (options.tier().orElse("PREMIUM").equals("STANDARD")) {
      why =
          "metadata.annotations["
              + GcpOptions.TIER
              + "] asks for STANDARD, and IPv6 is Premium tier only";
    } else {
      Subnetwork subnet;
      try {
        subnet = lookup.subnet();
      } catch (ProviderException.InvalidPlan e) {
        subnet = null;
        why =
            "no subnet is named for the IPv6 forwarding rule ("
                + e.getMessage()
                + "); set the provider setting gcp.subnetwork to the nodes' subnet";
      }
      if (subnet != null) {
        subnetLink = GcpContext.full(GcpContext.relative(subnet.getSelfLink()));
        boolean v6 =
            List.of("IPV4_IPV6", "IPV6_ONLY").contains(subnet.getStackType())
                && subnet.getIpv6AccessType().equals("EXTERNAL");
        if (!v6) {
          why =
              "subnet "
                  + subnet.getName()
                  + " has no external IPv6 range (stackType "
                  + (subnet.hasStackType() ? subnet.getStackType() : "IPV4_ONLY")
                  + (subnet.hasIpv6AccessType()
                      ? ", ipv6AccessType " + subnet.getIpv6AccessType()
                      : "")
                  + "), which an external IPv6 forwarding rule needs; make it IPV4_IPV6 with"
                  + " ipv6AccessType EXTERNAL, or set gcp.subnetwork to one that is";
        }
      }
    }
    if (why == null) {
      return new Served(plan.ipFamilies(), subnetLink);
    }
    return new Served(FamilyFallback.ipv4Only(plan, why, events), "");
  }
}
