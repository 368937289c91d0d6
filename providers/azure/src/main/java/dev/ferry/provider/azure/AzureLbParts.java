package dev.ferry.provider.azure;

import com.azure.core.management.SubResource;
import com.azure.resourcemanager.network.fluent.models.BackendAddressPoolInner;
import com.azure.resourcemanager.network.fluent.models.FrontendIpConfigurationInner;
import com.azure.resourcemanager.network.fluent.models.LoadBalancingRuleInner;
import com.azure.resourcemanager.network.fluent.models.ProbeInner;
import com.azure.resourcemanager.network.fluent.models.PublicIpAddressInner;
import com.azure.resourcemanager.network.fluent.models.SubnetInner;
import com.azure.resourcemanager.network.models.IpAllocationMethod;
import com.azure.resourcemanager.network.models.LoadBalancerBackendAddress;
import com.azure.resourcemanager.network.models.LoadDistribution;
import com.azure.resourcemanager.network.models.TransportProtocol;
import dev.ferry.spi.Backend;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The parts of a load balancer a Service wants, built from its wish: frontends (an IPv4 one, and an
 * IPv6 one for a dual-stack Service), rules, pools of node addresses, probes. Pure, as {@link
 * AzureLbShape}, which puts them together.
 */
final class AzureLbParts {

  private AzureLbParts() {}

  static FrontendIpConfigurationInner frontend(
      String lbId, String name, AzureWish wish, String pipId, AzureSettings s) {
    FrontendIpConfigurationInner f = new FrontendIpConfigurationInner().withName(name);
    f.withId(lbId + "/frontendIPConfigurations/" + f.name());
    if (wish.internal()) {
      f.withSubnet((SubnetInner) new SubnetInner().withId(s.subnetId(wish.subnet())))
          .withPrivateIpAllocationMethod(
              wish.requestedIp().isPresent()
                  ? IpAllocationMethod.STATIC
                  : IpAllocationMethod.DYNAMIC);
      wish.requestedIp().ifPresent(f::withPrivateIpAddress);
    } else {
      f.withPublicIpAddress((PublicIpAddressInner) new PublicIpAddressInner().withId(pipId));
    }
    return f;
  }

  /** A dual-stack Service's IPv6 frontend, on its IPv6 public IP. */
  static FrontendIpConfigurationInner ipv6Frontend(String lbId, LoadBalancerRef ref, String pipId) {
    FrontendIpConfigurationInner f =
        new FrontendIpConfigurationInner().withName(AzureNames.ipv6(AzureNames.service(ref)));
    f.withId(lbId + "/frontendIPConfigurations/" + f.name());
    return f.withPublicIpAddress((PublicIpAddressInner) new PublicIpAddressInner().withId(pipId));
  }

  /** The probe {@code p} under another name (a family's own, for its rules). */
  static ProbeInner copy(ProbeInner p, String name) {
    return new ProbeInner()
        .withName(name)
        .withProtocol(p.protocol())
        .withPort(p.port())
        .withIntervalInSeconds(p.intervalInSeconds())
        .withNumberOfProbes(p.numberOfProbes())
        .withProbeThreshold(p.probeThreshold())
        .withRequestPath(p.requestPath());
  }

  static LoadBalancingRuleInner rule(
      String lbId,
      LoadBalancerRef ref,
      Listener l,
      AzureWish wish,
      String frontendId,
      String poolName,
      String probeId,
      AzureSettings s,
      boolean clientIp,
      IpFamily family) {
    boolean tcp = l.protocol() == Protocol.TCP;
    LoadBalancingRuleInner rule =
        new LoadBalancingRuleInner()
            .withName(AzureNames.of(AzureNames.rule(ref, l.protocol().name(), l.port()), family))
            .withFrontendIpConfiguration(new SubResource().withId(frontendId))
            .withBackendAddressPool(
                new SubResource().withId(lbId + "/backendAddressPools/" + poolName))
            .withProbe(new SubResource().withId(probeId))
            .withProtocol(tcp ? TransportProtocol.TCP : TransportProtocol.UDP)
            .withFrontendPort(l.port())
            // with floating IP the packets keep the frontend address and port, which kube-proxy
            // matches; without, they go to the node's own address, so to the NodePort
            .withBackendPort(wish.floatingIp() ? l.port() : l.nodePort())
            .withEnableFloatingIp(wish.floatingIp())
            .withIdleTimeoutInMinutes(wish.idleTimeout())
            .withDisableOutboundSnat(s.disableOutboundSnat())
            .withLoadDistribution(clientIp ? LoadDistribution.SOURCE_IP : LoadDistribution.DEFAULT);
    if (tcp) {
      rule.withEnableTcpReset(wish.tcpReset()); // TCP only, as upstream (UDP has no reset)
    }
    rule.withId(lbId + "/loadBalancingRules/" + rule.name());
    return rule;
  }

  /**
   * An IP-based pool of the nodes' addresses of {@code family} (a node without one is left out).
   */
  static BackendAddressPoolInner pool(
      String lbId, String name, List<Backend> backends, AzureSettings s, IpFamily family) {
    List<LoadBalancerBackendAddress> addresses = new ArrayList<>();
    for (Backend b : new TreeMap<>(byName(backends)).values()) {
      String ip = b.address(family);
      if (ip.isBlank()) {
        continue; // warned about by the provider (and the controller, per family)
      }
      addresses.add(
          new LoadBalancerBackendAddress()
              .withName(b.nodeName())
              .withIpAddress(ip)
              .withVirtualNetwork(new SubResource().withId(s.vnetId())));
    }
    BackendAddressPoolInner pool =
        new BackendAddressPoolInner().withName(name).withLoadBalancerBackendAddresses(addresses);
    pool.withId(lbId + "/backendAddressPools/" + name);
    return pool;
  }

  static Map<String, Backend> byName(List<Backend> backends) {
    Map<String, Backend> out = new LinkedHashMap<>();
    backends.forEach(b -> out.put(b.nodeName(), b));
    return out;
  }
}
