package dev.ferry.provider.azure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * What ARM adds to a resource it stores, as the recorded real traffic shows it (a load balancer's
 * empty lists and sub-resource ids, etags and types; a rule's and a probe's defaults; a public IP's
 * version, idle timeout, DDoS settings and address; an NSG's six default rules), and what ARM
 * computes itself and ignores in a request.
 */
final class ArmDefaults {

  private static final List<String> LB_PARTS =
      List.of(
          "frontendIPConfigurations",
          "backendAddressPools",
          "loadBalancingRules",
          "probes",
          "inboundNatRules",
          "outboundRules",
          "inboundNatPools");

  private ArmDefaults() {}

  /**
   * An IPv6 public address made from the next IPv4 one's counter, as Azure's look (a /64 of its
   * region's range, written as RFC 5952 does).
   */
  static String ipv6(String v4) {
    String[] o = v4.split("\\.");
    return "2603:1020:206:" + (o[2].equals("0") ? "" : o[2] + ":") + ":" + o[3];
  }

  static void apply(String type, ObjectNode r, String etag, Supplier<String> address) {
    String id = r.path("id").asText();
    references(r.path("properties"));
    ObjectNode p = r.withObject("properties");
    p.put("provisioningState", "Succeeded");
    p.put("resourceGuid", UUID.nameUUIDFromBytes(id.toLowerCase().getBytes()).toString());
    switch (type) {
      case "loadbalancers" -> {
        r.put("type", "Microsoft.Network/loadBalancers");
        ObjectNode sku = r.withObject("sku");
        sku.put("name", sku.path("name").asText("Basic"));
        sku.put("tier", sku.path("tier").asText("Regional"));
        for (String kind : LB_PARTS) {
          for (JsonNode sub : p.withArray(kind)) {
            ObjectNode o = (ObjectNode) sub;
            o.put("id", id + "/" + kind + "/" + o.path("name").asText());
            o.put("etag", etag);
            o.put("type", "Microsoft.Network/loadBalancers/" + kind);
            ObjectNode sp = o.withObject("properties");
            sp.put("provisioningState", "Succeeded");
            switch (kind) {
              case "frontendIPConfigurations" -> {
                if (!sp.has("privateIPAllocationMethod")) {
                  sp.put("privateIPAllocationMethod", "Dynamic");
                }
                if (sp.has("subnet") && !sp.hasNonNull("privateIPAddress")) {
                  sp.put(
                      "privateIPAddress",
                      "10.224.0." + (Math.floorMod(o.path("name").asText().hashCode(), 200) + 50));
                }
              }
              case "loadBalancingRules" -> {
                putIfAbsent(sp, "idleTimeoutInMinutes", 4);
                putIfAbsent(sp, "enableFloatingIP", false);
                putIfAbsent(sp, "enableTcpReset", false);
                putIfAbsent(sp, "disableOutboundSnat", false);
                if (!sp.has("loadDistribution")) {
                  sp.put("loadDistribution", "Default");
                }
                if (!sp.has("backendPort")) {
                  sp.set("backendPort", sp.path("frontendPort"));
                }
                if (sp.has("backendAddressPool") && !sp.has("backendAddressPools")) {
                  sp.putArray("backendAddressPools").add(sp.get("backendAddressPool").deepCopy());
                }
              }
              case "probes" -> {
                putIfAbsent(sp, "intervalInSeconds", 15);
                putIfAbsent(sp, "numberOfProbes", 2);
                putIfAbsent(sp, "probeThreshold", 1);
              }
              default -> {}
            }
          }
        }
      }
      case "publicipaddresses" -> {
        r.put("type", "Microsoft.Network/publicIPAddresses");
        ObjectNode sku = r.withObject("sku");
        sku.put("name", sku.path("name").asText("Basic"));
        sku.put("tier", sku.path("tier").asText("Regional"));
        if (!p.has("publicIPAddressVersion")) {
          p.put("publicIPAddressVersion", "IPv4");
        }
        if (!p.has("publicIPAllocationMethod")) {
          p.put("publicIPAllocationMethod", "Dynamic");
        }
        putIfAbsent(p, "idleTimeoutInMinutes", 4);
        if (!p.has("ipTags")) {
          p.putArray("ipTags");
        }
        if (sku.path("name").asText().equals("Standard") && !p.has("ddosSettings")) {
          p.putObject("ddosSettings").put("protectionMode", "VirtualNetworkInherited");
        }
        if (p.path("publicIPAllocationMethod").asText().equals("Static")
            && !p.hasNonNull("ipAddress")) {
          String v4 = address.get();
          p.put(
              "ipAddress",
              p.path("publicIPAddressVersion").asText().equals("IPv6") ? ipv6(v4) : v4);
        }
      }
      case "networksecuritygroups" -> {
        r.put("type", "Microsoft.Network/networkSecurityGroups");
        for (JsonNode rule : p.withArray("securityRules")) {
          ((ObjectNode) rule).put("id", id + "/securityRules/" + rule.path("name").asText());
          securityRule((ObjectNode) rule, etag);
        }
        ArrayNode defaults = p.putArray("defaultSecurityRules");
        // Azure's default rules, which every group has
        // (https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#default-security-rules)
        String[][] rules = {
          {
            "AllowVnetInBound",
            "65000",
            "Inbound",
            "Allow",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow inbound traffic from all VMs in VNET"
          },
          {
            "AllowAzureLoadBalancerInBound",
            "65001",
            "Inbound",
            "Allow",
            "AzureLoadBalancer",
            "*",
            "Allow inbound traffic from azure load balancer"
          },
          {"DenyAllInBound", "65500", "Inbound", "Deny", "*", "*", "Deny all inbound traffic"},
          {
            "AllowVnetOutBound",
            "65000",
            "Outbound",
            "Allow",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow outbound traffic from all VMs to all VMs in VNET"
          },
          {
            "AllowInternetOutBound",
            "65001",
            "Outbound",
            "Allow",
            "*",
            "Internet",
            "Allow outbound traffic from all VMs to Internet"
          },
          {"DenyAllOutBound", "65500", "Outbound", "Deny", "*", "*", "Deny all outbound traffic"}
        };
        for (String[] d : rules) {
          defaultRule(
              defaults, id, d[0], Integer.parseInt(d[1]), d[2], d[3], d[4], d[5], etag, d[6]);
        }
      }
      case "securityrules" -> securityRule(r, etag);
      default -> r.put("type", "Microsoft.Network/" + type);
    }
  }

  private static void securityRule(ObjectNode rule, String etag) {
    rule.put("type", "Microsoft.Network/networkSecurityGroups/securityRules");
    rule.put("etag", etag);
    ObjectNode p = rule.withObject("properties");
    p.put("provisioningState", "Succeeded");
    for (String list :
        List.of(
            "sourcePortRanges",
            "destinationPortRanges",
            "sourceAddressPrefixes",
            "destinationAddressPrefixes")) {
      if (!p.has(list)) {
        p.putArray(list);
      }
    }
  }

  private static void defaultRule(
      ArrayNode out,
      String nsg,
      String name,
      int priority,
      String direction,
      String access,
      String source,
      String destination,
      String etag,
      String description) {
    ObjectNode r = out.addObject();
    r.put("name", name)
        .put("id", nsg + "/defaultSecurityRules/" + name)
        .put("etag", etag)
        .put("type", "Microsoft.Network/networkSecurityGroups/defaultSecurityRules");
    r.putObject("properties")
        .put("provisioningState", "Succeeded")
        .put("sourcePortRange", "*")
        .put("destinationPortRange", "*")
        .put("sourceAddressPrefix", source)
        .put("destinationAddressPrefix", destination)
        .put("priority", priority)
        .put("protocol", "*")
        .put("description", description)
        .put("access", access)
        .put("direction", direction);
    ObjectNode p = (ObjectNode) r.get("properties");
    for (String list :
        List.of(
            "sourcePortRanges",
            "destinationPortRanges",
            "sourceAddressPrefixes",
            "destinationAddressPrefixes")) {
      p.putArray(list);
    }
  }

  /** Every provisioning state in an answer, as ARM shows them while its operation runs. */
  static void running(JsonNode node) {
    if (node instanceof ObjectNode o) {
      if (o.has("provisioningState")) {
        o.put("provisioningState", "Updating");
      }
      o.elements().forEachRemaining(ArmDefaults::running);
    } else if (node instanceof ArrayNode a) {
      a.forEach(ArmDefaults::running);
    }
  }

  /** A reference to another resource is its id only, whatever a client sent with it. */
  static void references(JsonNode node) {
    if (node instanceof ObjectNode o) {
      for (String ref :
          List.of(
              "publicIPAddress",
              "subnet",
              "frontendIPConfiguration",
              "backendAddressPool",
              "probe",
              "virtualNetwork",
              "publicIPPrefix")) {
        if (o.get(ref) instanceof ObjectNode ro && ro.has("id")) {
          ro.retain(java.util.List.of("id"));
        }
      }
      o.elements().forEachRemaining(ArmDefaults::references);
    } else if (node instanceof ArrayNode a) {
      a.forEach(ArmDefaults::references);
    }
  }

  private static void putIfAbsent(ObjectNode p, String key, Object value) {
    if (!p.has(key)) {
      if (value instanceof Integer i) {
        p.put(key, i);
      } else {
        p.put(key, (Boolean) value);
      }
    }
  }

  /** Keeps what ARM assigned before: a public IP's address, a frontend's private address. */
  static void keep(String type, ObjectNode stored, ObjectNode existing) {
    if (existing == null) {
      return;
    }
    if (type.equals("publicipaddresses") && existing.path("properties").hasNonNull("ipAddress")) {
      stored
          .withObject("properties")
          .put("ipAddress", existing.path("properties").path("ipAddress").asText());
    }
    if (type.equals("loadbalancers")) {
      for (JsonNode f : stored.path("properties").path("frontendIPConfigurations")) {
        for (JsonNode old : existing.path("properties").path("frontendIPConfigurations")) {
          if (old.path("name").asText().equals(f.path("name").asText())
              && f.path("properties").has("subnet")
              && "Dynamic".equals(f.path("properties").path("privateIPAllocationMethod").asText())
              && old.path("properties").hasNonNull("privateIPAddress")) {
            ((ObjectNode) f.path("properties"))
                .put("privateIPAddress", old.path("properties").path("privateIPAddress").asText());
          }
        }
      }
    }
  }

  /** Removes what ARM computes itself (and ignores when a client sends it back). */
  static void forget(JsonNode node) {
    if (node instanceof ObjectNode o) {
      for (String key :
          List.of(
              "etag",
              "provisioningState",
              "resourceGuid",
              "type",
              "ipConfiguration",
              "backendIPConfigurations",
              "defaultSecurityRules",
              "outboundRule")) {
        o.remove(key);
      }
      if (o.path("properties").has("publicIPAllocationMethod")) {
        ((ObjectNode) o.get("properties")).remove("ipAddress"); // a public IP's own address
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
        forget(it.next().getValue());
      }
    } else if (node instanceof ArrayNode a) {
      a.forEach(ArmDefaults::forget);
    }
  }
}
