package dev.ferry.provider.azure;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The rules Azure enforces across resources, as its documentation states them, each checked when a
 * write would break it: the answer is ARM's 400 with the code real ARM sends (where it was seen in
 * recorded traffic or reported errors; codes marked "not seen" are named by us after the doc).
 * Pure: every check gets the state it needs and answers the refusal, or null.
 */
final class ArmRules {

  /** A refusal: ARM's error code and message. */
  record Refusal(String code, String message) {}

  /** What the rules read of the account (the fake's store). */
  interface Account {
    /** The resource with this id, or null. */
    JsonNode resource(String id);

    /** Every load balancer (the one being written as it would be). */
    List<JsonNode> loadBalancers();

    /** NIC IP configurations: id to private address, and the NIC-based pools holding each. */
    Map<String, Nic> nics();
  }

  /** A NIC IP configuration of a node, and the load balancer pools it was put in by its owner. */
  record Nic(String id, String privateIp, Set<String> pools) {}

  /** Azure's limits (azure-subscription-service-limits#load-balancer, #networking-limits). */
  static final int FRONTENDS = 600;

  static final int RULES_PER_LB = 1500;
  static final int RULES_PER_NIC = 300;
  static final int SECURITY_RULES = 1000;

  private ArmRules() {}

  static String lower(String s) {
    return s == null ? "" : s.toLowerCase(Locale.ROOT);
  }

  private static boolean internal(JsonNode lb) {
    for (JsonNode f : lb.path("properties").path("frontendIPConfigurations")) {
      if (f.path("properties").has("subnet")) {
        return true;
      }
    }
    return false;
  }

  /** Every rule for a load balancer write; {@code lb} is the load balancer as it would be. */
  static Refusal loadBalancer(JsonNode lb, Account account) {
    String id = lb.path("id").asText();
    JsonNode props = lb.path("properties");
    // Standard Load Balancer limits: 600 frontends, 1,500 rules (load-balancing + inbound NAT)
    // https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#load-balancer
    if (props.path("frontendIPConfigurations").size() > FRONTENDS) {
      return new Refusal( // code not seen
          "LoadBalancerFrontendIPConfigurationsLimitReached",
          "Load balancer " + id + " has more than " + FRONTENDS + " frontend IP configurations.");
    }
    int rules = props.path("loadBalancingRules").size() + props.path("inboundNatRules").size();
    if (rules > RULES_PER_LB) {
      return new Refusal( // code not seen
          "LoadBalancerRulesLimitReached",
          "Load balancer " + id + " has " + rules + " rules; the limit is " + RULES_PER_LB + ".");
    }
    Refusal r = publicIps(lb, account);
    if (r == null) {
      r = pools(lb, account);
    }
    if (r == null) {
      r = outboundSnat(lb);
    }
    if (r == null) {
      r = nics(account);
    }
    if (r == null) {
      r = ArmIpv6Rules.loadBalancer(lb, account);
    }
    return r;
  }

  /**
   * A public IP serves one IP configuration (PublicIPReferencedByMultipleIPConfigs); its SKU is the
   * load balancer's (PublicIPAndLBSkuDoNotMatch, "SKUs must match",
   * https://learn.microsoft.com/azure/virtual-network/ip-services/public-ip-addresses#sku); it must
   * be provisioned (ReferencedResourceNotProvisioned).
   */
  private static Refusal publicIps(JsonNode lb, Account account) {
    String id = lb.path("id").asText();
    Map<String, String> users = new HashMap<>();
    for (JsonNode other : account.loadBalancers()) {
      for (JsonNode f : other.path("properties").path("frontendIPConfigurations")) {
        String pip = lower(f.path("properties").path("publicIPAddress").path("id").asText(null));
        if (pip.isEmpty()) {
          continue;
        }
        String previous = users.put(pip, f.path("id").asText());
        if (previous != null) {
          return new Refusal(
              "PublicIPReferencedByMultipleIPConfigs",
              "Public ip address "
                  + f.path("properties").path("publicIPAddress").path("id").asText()
                  + " is referenced by multiple ipconfigs in resource "
                  + id
                  + ".");
        }
      }
    }
    for (JsonNode f : lb.path("properties").path("frontendIPConfigurations")) {
      String pipId = f.path("properties").path("publicIPAddress").path("id").asText(null);
      if (pipId == null) {
        continue;
      }
      JsonNode pip = account.resource(pipId);
      if (pip == null) {
        return new Refusal(
            "InvalidResourceReference",
            "Resource "
                + pipId
                + " referenced by resource "
                + f.path("id").asText()
                + " was not found.");
      }
      String lbSku = lb.path("sku").path("name").asText("Basic");
      String pipSku = pip.path("sku").path("name").asText("Basic");
      if (!lbSku.equalsIgnoreCase(pipSku)) {
        return new Refusal(
            "PublicIPAndLBSkuDoNotMatch",
            lbSku
                + " sku load balancer "
                + id
                + " cannot reference "
                + pipSku
                + " sku publicIP "
                + pipId
                + ".");
      }
      String state = pip.path("properties").path("provisioningState").asText("Succeeded");
      if (!state.equals("Succeeded")) {
        return new Refusal(
            "ReferencedResourceNotProvisioned",
            "Cannot proceed with operation because resource "
                + pipId
                + " used by resource "
                + id
                + " is not in Succeeded state. Resource is in "
                + state
                + " state and the last operation that updated/is updating the resource is"
                + " PutPublicIpAddressOperation.");
      }
    }
    return null;
  }

  /**
   * A pool holds NICs (put there by the NICs' owner) or IP addresses, never both
   * (https://learn.microsoft.com/azure/load-balancer/backend-pool-management: "you can't mix"),
   * code not seen.
   */
  private static Refusal pools(JsonNode lb, Account account) {
    for (JsonNode pool : lb.path("properties").path("backendAddressPools")) {
      String poolId = lower(pool.path("id").asText());
      boolean nicBased = account.nics().values().stream().anyMatch(n -> n.pools().contains(poolId));
      boolean ipBased = false;
      for (JsonNode a : pool.path("properties").path("loadBalancerBackendAddresses")) {
        ipBased |= a.path("properties").hasNonNull("ipAddress");
      }
      if (nicBased && ipBased) {
        return new Refusal(
            "BackendAddressPoolCannotMixNicAndIpAddresses",
            "Backend address pool "
                + pool.path("id").asText()
                + " holds network interface IP configurations and cannot take IP addresses too.");
      }
    }
    return null;
  }

  /**
   * A rule whose frontend an outbound rule uses must disable outbound SNAT
   * (https://learn.microsoft.com/azure/load-balancer/outbound-rules).
   */
  private static Refusal outboundSnat(JsonNode lb) {
    Set<String> outboundFrontends = new TreeSet<>();
    for (JsonNode o : lb.path("properties").path("outboundRules")) {
      for (JsonNode f : o.path("properties").path("frontendIPConfigurations")) {
        outboundFrontends.add(lower(f.path("id").asText()));
      }
    }
    for (JsonNode r : lb.path("properties").path("loadBalancingRules")) {
      JsonNode p = r.path("properties");
      if (outboundFrontends.contains(lower(p.path("frontendIPConfiguration").path("id").asText()))
          && !p.path("disableOutboundSnat").asBoolean(false)) {
        return new Refusal(
            "LoadBalancingRuleMustDisableSNATSinceSameFrontendIPConfigurationIsReferencedByOutboundRule",
            "Load Balancing Rules "
                + r.path("id").asText()
                + " must have disableOutboundSNAT set to true when same FrontendIPConfiguration "
                + p.path("frontendIPConfiguration").path("id").asText()
                + " is referenced by Outbound Rules.");
      }
    }
    return null;
  }

  /**
   * Per NIC IP configuration, across every load balancer: in the pools of at most one public and
   * one internal Standard Load Balancer (NetworkInterfaceUsesMultipleLoadBalancersOfSameType,
   * https://learn.microsoft.com/azure/load-balancer/load-balancer-multiple-ip "one public and one
   * internal"), and behind at most 300 load-balancing rules ("Rules per NIC (across all IPs on a
   * NIC)", the limits page; code not seen).
   */
  private static Refusal nics(Account account) {
    Map<String, String> byIp = new HashMap<>();
    account.nics().values().forEach(n -> byIp.put(n.privateIp(), n.id()));
    Map<String, Set<String>> publicLbs = new TreeMap<>();
    Map<String, Set<String>> internalLbs = new TreeMap<>();
    Map<String, Integer> rules = new TreeMap<>();
    for (JsonNode lb : account.loadBalancers()) {
      Map<String, List<String>> members = new HashMap<>();
      for (JsonNode pool : lb.path("properties").path("backendAddressPools")) {
        String poolId = lower(pool.path("id").asText());
        List<String> in = new ArrayList<>();
        account.nics().values().stream()
            .filter(n -> n.pools().contains(poolId))
            .forEach(n -> in.add(n.id()));
        for (JsonNode a : pool.path("properties").path("loadBalancerBackendAddresses")) {
          String nic = byIp.get(a.path("properties").path("ipAddress").asText(""));
          if (nic != null) {
            in.add(nic);
          }
        }
        members.put(poolId, in);
        for (String nic : in) {
          (internal(lb) ? internalLbs : publicLbs)
              .computeIfAbsent(nic, k -> new TreeSet<>())
              .add(lb.path("id").asText());
        }
      }
      for (JsonNode r : lb.path("properties").path("loadBalancingRules")) {
        String pool = lower(r.path("properties").path("backendAddressPool").path("id").asText());
        for (String nic : members.getOrDefault(pool, List.of())) {
          rules.merge(nic, 1, Integer::sum);
        }
      }
    }
    for (Map<String, Set<String>> kind : List.of(publicLbs, internalLbs)) {
      for (Map.Entry<String, Set<String>> e : kind.entrySet()) {
        if (e.getValue().size() > 1) {
          return new Refusal(
              "NetworkInterfaceUsesMultipleLoadBalancersOfSameType",
              "Network interface "
                  + e.getKey()
                  + " references more than one load balancer of the same type (internal or"
                  + " public): "
                  + String.join(", ", e.getValue())
                  + ".");
        }
      }
    }
    for (Map.Entry<String, Integer> e : rules.entrySet()) {
      if (e.getValue() > RULES_PER_NIC) {
        return new Refusal( // code not seen
            "LoadBalancingRulesPerNicIpConfigurationLimitReached",
            "IP configuration "
                + e.getKey()
                + " would be behind "
                + e.getValue()
                + " load balancing rules; the limit is "
                + RULES_PER_NIC
                + ".");
      }
    }
    return null;
  }

  /**
   * A security rule: priority 100 to 4096, unique per direction in its group
   * (SecurityRuleConflict); sources and destinations of one IP family (a rule "can't mix IPv4 and
   * IPv6",
   * https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#security-rules,
   * code not seen); at most 1,000 rules per group (limits page, code not seen).
   */
  static Refusal securityRule(JsonNode nsg, JsonNode rule) {
    JsonNode p = rule.path("properties");
    String name = rule.path("name").asText();
    int priority = p.path("priority").asInt();
    if (priority < 100 || priority > 4096) {
      return new Refusal(
          "SecurityRuleInvalidPriority",
          "Security rule "
              + name
              + " has invalid Priority. Value provided: "
              + priority
              + ". Allowed range 100-4096.");
    }
    int count = 1;
    for (JsonNode other : nsg.path("properties").path("securityRules")) {
      if (other.path("name").asText().equalsIgnoreCase(name)) {
        continue;
      }
      count++;
      JsonNode op = other.path("properties");
      if (op.path("priority").asInt() == priority
          && op.path("direction").asText().equals(p.path("direction").asText())) {
        return new Refusal(
            "SecurityRuleConflict",
            "Security rule "
                + other.path("name").asText()
                + " conflicts with rule "
                + name
                + ". Rules cannot have the same Priority and Direction.");
      }
    }
    if (count > SECURITY_RULES) {
      return new Refusal(
          "SecurityRulesLimitReached",
          "Network security group "
              + nsg.path("id").asText()
              + " would hold "
              + count
              + " security rules; the limit is "
              + SECURITY_RULES
              + ".");
    }
    Set<String> families = new TreeSet<>();
    for (String field :
        List.of(
            "sourceAddressPrefix",
            "sourceAddressPrefixes",
            "destinationAddressPrefix",
            "destinationAddressPrefixes")) {
      JsonNode v = p.path(field);
      List<JsonNode> values = new ArrayList<>();
      if (v.isArray()) {
        v.forEach(values::add);
      } else if (v.isTextual()) {
        values.add(v);
      }
      for (JsonNode x : values) {
        String t = x.asText();
        if (t.contains(":")) {
          families.add("IPv6");
        } else if (Character.isDigit(t.isEmpty() ? 'x' : t.charAt(0))) {
          families.add("IPv4");
        }
      }
    }
    if (families.size() > 1) {
      return new Refusal(
          "SecurityRuleParameterContainsIPv4AndIPv6Addresses",
          "Security rule "
              + name
              + " mixes IPv4 and IPv6 address prefixes; a rule takes one family.");
    }
    return null;
  }

  /** An attached public IP cannot be deleted (PublicIPAddressCannotBeDeleted). */
  static Refusal deletePublicIp(String pipId, Account account) {
    for (JsonNode lb : account.loadBalancers()) {
      for (JsonNode f : lb.path("properties").path("frontendIPConfigurations")) {
        if (lower(f.path("properties").path("publicIPAddress").path("id").asText())
            .equals(lower(pipId))) {
          return new Refusal(
              "PublicIPAddressCannotBeDeleted",
              "Public IP address "
                  + pipId
                  + " can not be deleted since it is still allocated to resource "
                  + f.path("id").asText()
                  + ". In order to delete the public IP, disassociate/detach the Public IP address"
                  + " from the resource.");
        }
      }
    }
    return null;
  }
}
