package dev.ferry.provider.azure;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The request constraints of the Microsoft.Network 2024-05-01 API description
 * (Azure/azure-rest-api-specs, specification/network/resource-manager/Microsoft.Network/stable/
 * 2024-05-01/{loadBalancer,publicIpAddress,networkSecurityGroup,network}.json, read at commit
 * 18d4da03d76d5d3aeef3164a34e603cbe5554f58) for the properties Ferry sends: {@code required}, the
 * {@code x-ms-enum} values, and the ranges stated there. Fields the vendor's model does not know
 * are refused by {@link ArmFake} itself ("Could not find member").
 */
final class ArmSchema {

  /** A constraint on every value at {@code path} ({@code []} walks an array). */
  record Rule(String path, boolean required, Set<String> values, long min, long max) {
    static Rule required(String path) {
      return new Rule(path, true, Set.of(), Long.MIN_VALUE, Long.MAX_VALUE);
    }

    static Rule oneOf(String path, boolean required, String... values) {
      return new Rule(path, required, Set.of(values), Long.MIN_VALUE, Long.MAX_VALUE);
    }

    static Rule range(String path, boolean required, long min, long max) {
      return new Rule(path, required, Set.of(), min, max);
    }
  }

  private static final String RULES = "properties.loadBalancingRules[].properties.";
  private static final String PROBES = "properties.probes[].properties.";
  private static final String FRONTENDS = "properties.frontendIPConfigurations[].properties.";

  static final Map<String, List<Rule>> BY_TYPE =
      Map.of(
          "loadbalancers",
          List.of(
              // LoadBalancerSku.name, LoadBalancerSku.tier
              Rule.oneOf("sku.name", false, "Basic", "Standard", "Gateway"),
              Rule.oneOf("sku.tier", false, "Regional", "Global"),
              Rule.required("properties.frontendIPConfigurations[].name"),
              Rule.oneOf(FRONTENDS + "privateIPAllocationMethod", false, "Static", "Dynamic"),
              Rule.oneOf(FRONTENDS + "privateIPAddressVersion", false, "IPv4", "IPv6"),
              // LoadBalancingRulePropertiesFormat: required protocol, frontendPort
              Rule.oneOf(RULES + "protocol", true, "Udp", "Tcp", "All"),
              Rule.range(RULES + "frontendPort", true, 0, 65534),
              Rule.range(RULES + "backendPort", false, 0, 65535),
              // not "required" in the description, but ARM refuses a rule without a frontend
              Rule.required(RULES + "frontendIPConfiguration"),
              Rule.oneOf(
                  RULES + "loadDistribution", false, "Default", "SourceIP", "SourceIPProtocol"),
              // Standard Load Balancer TCP idle timeout: 4 to 100 minutes
              // (https://learn.microsoft.com/azure/load-balancer/load-balancer-tcp-idle-timeout)
              Rule.range(RULES + "idleTimeoutInMinutes", false, 4, 100),
              // ProbePropertiesFormat: required protocol, port; interval at least 5 s
              Rule.oneOf(PROBES + "protocol", true, "Http", "Tcp", "Https"),
              Rule.range(PROBES + "port", true, 1, 65535),
              Rule.range(PROBES + "intervalInSeconds", false, 5, Integer.MAX_VALUE),
              Rule.range(PROBES + "probeThreshold", false, 1, Integer.MAX_VALUE),
              Rule.required("properties.probes[].name"),
              Rule.required("properties.loadBalancingRules[].name"),
              Rule.required("properties.backendAddressPools[].name"),
              // OutboundRulePropertiesFormat: required backendAddressPool,
              // frontendIPConfigurations,
              // protocol (AKS's aksOutboundRule goes back in every write of its load balancer)
              Rule.oneOf(
                  "properties.outboundRules[].properties.protocol", true, "Tcp", "Udp", "All"),
              Rule.required("properties.outboundRules[].properties.backendAddressPool"),
              Rule.required("properties.outboundRules[].properties.frontendIPConfigurations")),
          "publicipaddresses",
          List.of(
              Rule.oneOf("sku.name", false, "Basic", "Standard"),
              Rule.oneOf("sku.tier", false, "Regional", "Global"),
              Rule.oneOf("properties.publicIPAllocationMethod", false, "Static", "Dynamic"),
              Rule.oneOf("properties.publicIPAddressVersion", false, "IPv4", "IPv6"),
              Rule.range("properties.idleTimeoutInMinutes", false, 4, 30)),
          "securityrules",
          List.of(
              // SecurityRulePropertiesFormat: required protocol, access, priority, direction
              Rule.oneOf("properties.protocol", true, "Tcp", "Udp", "Icmp", "Esp", "*", "Ah"),
              Rule.oneOf("properties.access", true, "Allow", "Deny"),
              Rule.range("properties.priority", true, 100, 4096),
              Rule.oneOf("properties.direction", true, "Inbound", "Outbound")),
          "networksecuritygroups",
          List.of());

  private ArmSchema() {}

  /** The first constraint {@code body} breaks, as ARM's message; null when it keeps them all. */
  static String check(String type, JsonNode body) {
    for (Rule rule : BY_TYPE.getOrDefault(type, List.of())) {
      String problem = check(body, rule.path().split("\\."), 0, "", rule);
      if (problem != null) {
        return problem;
      }
    }
    return null;
  }

  private static String check(JsonNode node, String[] steps, int i, String at, Rule rule) {
    if (i == steps.length) {
      if (node.isMissingNode() || node.isNull()) {
        return rule.required() ? "The required property '" + at + "' is missing." : null;
      }
      if (!rule.values().isEmpty() && !rule.values().contains(node.asText())) {
        return "The value '"
            + node.asText()
            + "' of '"
            + at
            + "' is not one of "
            + rule.values()
            + ".";
      }
      if (node.isNumber() && (node.asLong() < rule.min() || node.asLong() > rule.max())) {
        return "The value "
            + node.asLong()
            + " of '"
            + at
            + "' is outside "
            + rule.min()
            + " to "
            + rule.max()
            + ".";
      }
      return null;
    }
    String step = steps[i];
    boolean array = step.endsWith("[]");
    String key = array ? step.substring(0, step.length() - 2) : step;
    JsonNode next = node.path(key);
    String here = at.isEmpty() ? key : at + "." + key;
    if (!array) {
      return next.isMissingNode() && i < steps.length - 1
          ? null
          : check(next, steps, i + 1, here, rule);
    }
    int n = 0;
    for (JsonNode item : next) {
      String problem = check(item, steps, i + 1, here + "[" + n++ + "]", rule);
      if (problem != null) {
        return problem;
      }
    }
    return null;
  }
}
