package dev.ferry.provider.azure;

import java.util.List;

/**
 * Where Ferry builds, as cloud-provider-azure's configuration names it, and on whose load balancer.
 *
 * @param securityGroup the cluster's network security group, empty for none (then a Service cannot
 *     restrict its clients)
 * @param join the load balancer of another controller that Ferry adds its Services to (AKS's {@code
 *     kubernetes}), empty when Ferry has load balancers of its own
 * @param disableOutboundSnat whether Ferry's load-balancing rules leave the nodes' outbound traffic
 *     alone (see docs/providers/azure.md: an outbound rule or NAT gateway, not a Service's address,
 *     should decide which address the nodes leave from)
 * @param limits Azure's limits Ferry plans within
 * @param legacyNames Ferry's own load balancers carry the names Ferry gave them before it had names
 *     of its own ({@code <cluster>}, {@code <cluster>-internal}, pool {@code <cluster>}): found so
 *     at start-up, and kept, since Azure renames nothing and the nodes cannot be behind a second
 *     public load balancer while the first holds them
 */
record AzureSettings(
    String subscription,
    String resourceGroup,
    String location,
    String vnetResourceGroup,
    String vnet,
    String subnet,
    String securityGroup,
    String join,
    boolean disableOutboundSnat,
    Limits limits,
    boolean legacyNames) {

  /**
   * Azure's limits for a Standard Load Balancer and a network security group
   * (https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#load-balancer
   * and #networking-limits).
   *
   * @param frontends frontend IP configurations per load balancer (600)
   * @param rulesPerNic load-balancing rules one NIC IP configuration is behind, across the public
   *     and the internal load balancer (300): every rule on the shared pool counts for every node
   * @param rulesPerLoadBalancer load-balancing plus inbound NAT rules per load balancer (1,500)
   * @param securityRules rules per network security group (1,000)
   */
  record Limits(int frontends, int rulesPerNic, int rulesPerLoadBalancer, int securityRules) {
    static final Limits AZURE = new Limits(600, 300, 1500, 1000);
  }

  boolean joined() {
    return !join.isEmpty();
  }

  /** The load balancer a Service of this scheme goes to. */
  String loadBalancer(String cluster, boolean internal) {
    if (joined()) {
      return internal ? AzureNames.joinedInternal(join) : join;
    }
    return legacyNames
        ? cluster + (internal ? "-internal" : "")
        : AzureNames.ownLoadBalancer(cluster, internal);
  }

  /** Every load balancer a Service of this cluster may be on (also after a change of mode). */
  List<String> loadBalancers(String cluster) {
    List<String> own =
        List.of(
            AzureNames.ownLoadBalancer(cluster, false), AzureNames.ownLoadBalancer(cluster, true));
    if (joined()) {
      return List.of(join, AzureNames.joinedInternal(join), own.get(0), own.get(1));
    }
    return List.of(loadBalancer(cluster, false), loadBalancer(cluster, true));
  }

  /** The pool the rules send to: the joined load balancer's own, or Ferry's. */
  String pool(String cluster) {
    return joined() ? join : legacyNames ? cluster : AzureNames.ownPool(cluster);
  }

  String network(String type, String resourceGroup, String name) {
    return "/subscriptions/"
        + subscription
        + "/resourceGroups/"
        + resourceGroup
        + "/providers/Microsoft.Network/"
        + type
        + "/"
        + name;
  }

  String loadBalancerId(String name) {
    return network("loadBalancers", resourceGroup, name);
  }

  String publicIpId(String resourceGroup, String name) {
    return network("publicIPAddresses", resourceGroup, name);
  }

  /** A resource group's public IPs, as a collection to list. */
  String publicIpsCollection(String group) {
    return network("publicIPAddresses", group, "").replaceAll("/$", "");
  }

  /** Every public IP of the subscription (Ferry's may be in a Service's own resource group). */
  String subscriptionPublicIps() {
    return "/subscriptions/" + subscription + "/providers/Microsoft.Network/publicIPAddresses";
  }

  String vnetId() {
    return network("virtualNetworks", vnetResourceGroup, vnet);
  }

  String subnetId(String name) {
    return vnetId() + "/subnets/" + name;
  }

  String securityRuleId(String rule) {
    return securityGroupId() + "/securityRules/" + rule;
  }

  String securityGroupId() {
    return network("networkSecurityGroups", resourceGroup, securityGroup);
  }
}
