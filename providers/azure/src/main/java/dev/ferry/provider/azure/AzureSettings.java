package dev.ferry.provider.azure;

/**
 * Where Ferry builds, as cloud-provider-azure's configuration names it.
 *
 * @param securityGroup the cluster's network security group, empty for none (then a Service cannot
 *     restrict its clients)
 * @param maxFrontends frontend configurations one load balancer takes (Azure: 600)
 * @param maxRules load-balancing rules one load balancer takes (Azure: 1,500)
 */
record AzureSettings(
    String subscription,
    String resourceGroup,
    String location,
    String vnetResourceGroup,
    String vnet,
    String subnet,
    String securityGroup,
    int maxFrontends,
    int maxRules) {

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

  /** The resource group's public IPs, as a collection to list. */
  String publicIpsCollection() {
    return network("publicIPAddresses", resourceGroup, "").replaceAll("/$", "");
  }

  String vnetId() {
    return network("virtualNetworks", vnetResourceGroup, vnet);
  }

  String subnetId(String name) {
    return vnetId() + "/subnets/" + name;
  }

  String securityRuleId(String rule) {
    return network("networkSecurityGroups", resourceGroup, securityGroup)
        + "/securityRules/"
        + rule;
  }

  String securityGroupId() {
    return network("networkSecurityGroups", resourceGroup, securityGroup);
  }
}
