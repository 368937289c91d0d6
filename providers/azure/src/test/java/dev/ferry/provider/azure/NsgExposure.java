package dev.ferry.provider.azure;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What a network security group really admits, evaluated as Azure does
 * (https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#security-rules):
 * the inbound rules, custom and default, in priority order, the first that matches a flow decides;
 * {@code *} is any address, {@code Internet} any public one, {@code VirtualNetwork} and {@code
 * AzureLoadBalancer} the platform's (never an internet client), a CIDR its range, a service tag
 * only the flows of that tag. Tests ask it about flows, not about rule fields.
 */
public final class NsgExposure {

  private NsgExposure() {}

  /** Whether {@code nsg} lets a flow from {@code source} reach {@code destination:port}. */
  public static boolean admits(
      JsonNode nsg, String protocol, String source, String destination, int port) {
    List<JsonNode> rules = new ArrayList<>();
    nsg.path("properties").path("securityRules").forEach(rules::add);
    nsg.path("properties").path("defaultSecurityRules").forEach(rules::add);
    rules.sort(Comparator.comparingInt(r -> r.path("properties").path("priority").asInt()));
    for (JsonNode r : rules) {
      JsonNode p = r.path("properties");
      if (!"Inbound".equals(p.path("direction").asText())
          || !protocolMatches(p.path("protocol").asText(), protocol)
          || !any(p, "sourceAddressPrefix", "sourceAddressPrefixes", x -> addressMatches(x, source))
          || !any(
              p,
              "destinationAddressPrefix",
              "destinationAddressPrefixes",
              x -> addressMatches(x, destination))
          || !any(p, "destinationPortRange", "destinationPortRanges", x -> portMatches(x, port))) {
        continue;
      }
      return "Allow".equals(p.path("access").asText());
    }
    return false;
  }

  /**
   * What is wrong with the exposure of one frontend port: it must admit each of {@code allowed}
   * sources and none of {@code denied}, and the same rules must not open the port at {@code other}
   * (an address that is not this frontend's). Empty when all holds.
   */
  public static List<String> problems(
      JsonNode nsg,
      String protocol,
      String frontend,
      int port,
      List<String> allowed,
      List<String> denied,
      String other) {
    List<String> out = new ArrayList<>();
    for (String s : allowed) {
      if (!admits(nsg, protocol, s, frontend, port)) {
        out.add(protocol + " " + s + " -> " + frontend + ":" + port + " is refused");
      }
    }
    for (String s : denied) {
      if (admits(nsg, protocol, s, frontend, port)) {
        out.add(protocol + " " + s + " -> " + frontend + ":" + port + " is admitted");
      }
      if (admits(nsg, protocol, s, other, port)) {
        out.add(protocol + " " + s + " -> " + other + ":" + port + " is admitted");
      }
    }
    for (String s : allowed) {
      if (admits(nsg, protocol, s, other, port)) {
        out.add(
            protocol + " " + s + " -> " + other + ":" + port + " (not this frontend) is admitted");
      }
    }
    return out;
  }

  private static boolean any(
      JsonNode p, String one, String many, java.util.function.Predicate<String> test) {
    List<String> values = new ArrayList<>();
    if (p.hasNonNull(one) && !p.path(one).asText().isEmpty()) {
      values.add(p.path(one).asText());
    }
    p.path(many).forEach(v -> values.add(v.asText()));
    return values.stream().anyMatch(test);
  }

  private static boolean protocolMatches(String rule, String flow) {
    return rule.equals("*") || rule.equalsIgnoreCase(flow);
  }

  private static boolean portMatches(String rule, int port) {
    if (rule.equals("*")) {
      return true;
    }
    if (rule.contains("-")) {
      String[] r = rule.split("-");
      return port >= Integer.parseInt(r[0]) && port <= Integer.parseInt(r[1]);
    }
    return Integer.parseInt(rule) == port;
  }

  /** A flow's source or destination: an IPv4 address, or {@code tag:Name} for a service tag's. */
  private static boolean addressMatches(String rule, String address) {
    if (rule.equals("*")) {
      return true;
    }
    if (address.startsWith("tag:")) {
      return rule.equals(address.substring(4));
    }
    if (rule.equals("Internet")) {
      return !isPrivate(address);
    }
    if (!Character.isDigit(rule.charAt(0))) {
      return false; // VirtualNetwork, AzureLoadBalancer, another service tag
    }
    String[] cidr = rule.split("/");
    int bits = cidr.length == 1 ? 32 : Integer.parseInt(cidr[1]);
    long mask = bits == 0 ? 0 : (0xFFFFFFFFL << (32 - bits)) & 0xFFFFFFFFL;
    return (ip(cidr[0]) & mask) == (ip(address) & mask);
  }

  private static boolean isPrivate(String address) {
    long a = ip(address);
    return (a >>> 24) == 10 || (a >>> 20) == (172L << 4 | 1) || (a >>> 16) == (192L << 8 | 168);
  }

  private static long ip(String dotted) {
    long out = 0;
    for (String part : dotted.split("\\.")) {
      out = out << 8 | Integer.parseInt(part);
    }
    return out;
  }
}
