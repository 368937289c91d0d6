package dev.ferry.provider.azure;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.provider.azure.ArmRules.Account;
import dev.ferry.provider.azure.ArmRules.Refusal;
import java.util.Set;
import java.util.TreeSet;

/**
 * Azure's IP-version rules, as its documentation states them (codes marked "not seen" are named by
 * us after the doc). Pure, as {@link ArmRules}.
 */
final class ArmIpv6Rules {

  private ArmIpv6Rules() {}

  /**
   * A public IP's version and allocation: an IPv6 Standard public IP is Static (<a
   * href="https://learn.microsoft.com/azure/virtual-network/ip-services/public-ip-addresses#ip-address-version">public
   * IP address version</a>, "Standard SKU: static only", code not seen), a Basic IPv6 one Dynamic
   * (CannotSpecifyPublicIpAllocationMethodAsStaticForIpV6PublicIp, reported in MicrosoftDocs
   * azure-docs#2360).
   */
  static Refusal publicIp(JsonNode pip) {
    JsonNode p = pip.path("properties");
    if (!p.path("publicIPAddressVersion").asText("IPv4").equals("IPv6")) {
      return null;
    }
    boolean standard = pip.path("sku").path("name").asText("Basic").equals("Standard");
    String method = p.path("publicIPAllocationMethod").asText("Dynamic");
    if (!standard && method.equals("Static")) {
      return new Refusal(
          "CannotSpecifyPublicIpAllocationMethodAsStaticForIpV6PublicIp",
          "Cannot specify publicIpAllocationMethod as Static for IPv6 PublicIp "
              + pip.path("id").asText()
              + ".");
    }
    if (standard && !method.equals("Static")) {
      return new Refusal( // code not seen
          "StandardSkuPublicIPAddressMustBeStatic",
          "Standard sku publicIP " + pip.path("id").asText() + " must be Static.");
    }
    return null;
  }

  /**
   * A load balancer's families (<a
   * href="https://learn.microsoft.com/azure/load-balancer/load-balancer-ipv6-overview">IPv6 on Load
   * Balancer</a>: NAT44 and NAT66 only, no NAT64, as the Azure CLI maintainers say its rules
   * enforce, Azure/azure-cli#27013): a pool holds addresses of one version (the NIC form's code,
   * AllNicIpConfigurationsOfLbBackendPoolOnVMScaleSetMustHaveSamePrivateIpAddressVersion, is
   * kubernetes/kubernetes#93085's; the IP form's not seen), and a rule's frontend is of its pool's
   * version (code not seen).
   */
  static Refusal loadBalancer(JsonNode lb, Account account) {
    for (JsonNode pool : lb.path("properties").path("backendAddressPools")) {
      if (versions(pool, account).size() > 1) {
        return new Refusal(
            "BackendAddressPoolIpAddressesMustHaveSameIpVersion",
            "Backend address pool "
                + pool.path("id").asText()
                + " holds IPv4 and IPv6 addresses; a pool holds one IP version.");
      }
    }
    for (JsonNode rule : lb.path("properties").path("loadBalancingRules")) {
      JsonNode rp = rule.path("properties");
      String frontend = rp.path("frontendIPConfiguration").path("id").asText();
      String poolId = rp.path("backendAddressPool").path("id").asText();
      String front = null;
      Set<String> back = Set.of();
      for (JsonNode f : lb.path("properties").path("frontendIPConfigurations")) {
        if (f.path("id").asText().equalsIgnoreCase(frontend)) {
          front = version(f, account);
        }
      }
      for (JsonNode pool : lb.path("properties").path("backendAddressPools")) {
        if (pool.path("id").asText().equalsIgnoreCase(poolId)) {
          back = versions(pool, account);
        }
      }
      if (front != null && !back.isEmpty() && !back.contains(front)) {
        return new Refusal(
            "LoadBalancingRuleFrontendAndBackendIpVersionMismatch",
            "Load balancing rule "
                + rule.path("id").asText()
                + " has an "
                + front
                + " frontend IP configuration and a backend address pool of "
                + back
                + " addresses; a rule forwards within one IP version.");
      }
    }
    return null;
  }

  /** The version of a frontend: its public IP's, or its private address's. */
  private static String version(JsonNode frontend, Account account) {
    JsonNode p = frontend.path("properties");
    String pipId = p.path("publicIPAddress").path("id").asText(null);
    if (pipId != null) {
      JsonNode pip = account.resource(pipId);
      return pip == null
          ? null
          : pip.path("properties").path("publicIPAddressVersion").asText("IPv4");
    }
    if (p.has("privateIPAddressVersion")) {
      return p.path("privateIPAddressVersion").asText();
    }
    String ip = p.path("privateIPAddress").asText("");
    return ip.isEmpty() ? null : ip.contains(":") ? "IPv6" : "IPv4";
  }

  /** The versions of the addresses a pool holds (its own, or its NICs'). */
  private static Set<String> versions(JsonNode pool, Account account) {
    Set<String> out = new TreeSet<>();
    for (JsonNode a : pool.path("properties").path("loadBalancerBackendAddresses")) {
      String ip = a.path("properties").path("ipAddress").asText("");
      if (!ip.isEmpty()) {
        out.add(ip.contains(":") ? "IPv6" : "IPv4");
      }
    }
    String id = ArmRules.lower(pool.path("id").asText());
    for (ArmRules.Nic nic : account.nics().values()) {
      if (nic.pools().contains(id) && nic.privateIp() != null) {
        out.add(nic.privateIp().contains(":") ? "IPv6" : "IPv4");
      }
    }
    return out;
  }
}
