package dev.ferry.provider.azure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the fake ARM holds, as it answers it: resources with the back-references Azure computes (a
 * public IP's {@code ipConfiguration}, a NIC-based pool's {@code backendIPConfigurations}), and the
 * account view the cross-resource rules read.
 */
final class ArmStore {

  private static final ObjectMapper JSON = ArmFake.JSON;

  // lower-cased resource id -> resource as ARM stores it
  final Map<String, ObjectNode> resources;
  final Map<String, ArmRules.Nic> nics;

  ArmStore(Map<String, ObjectNode> resources, Map<String, ArmRules.Nic> nics) {
    this.resources = resources;
    this.nics = nics;
  }

  /** A stored resource as ARM answers it: back-references computed. */
  ObjectNode answer(ObjectNode stored) {
    ObjectNode out = stored.deepCopy();
    String id = ArmRules.lower(out.path("id").asText());
    if (id.contains("/publicipaddresses/")) {
      for (ObjectNode lb : loadBalancers(null)) {
        for (JsonNode f : lb.path("properties").path("frontendIPConfigurations")) {
          if (ArmRules.lower(f.path("properties").path("publicIPAddress").path("id").asText())
              .equals(id)) {
            out.withObject("properties")
                .putObject("ipConfiguration")
                .put("id", f.path("id").asText());
          }
        }
      }
    }
    if (id.contains("/loadbalancers/")) {
      for (JsonNode pool : out.path("properties").path("backendAddressPools")) {
        String poolId = ArmRules.lower(pool.path("id").asText());
        ArrayNode configs = JSON.createArrayNode();
        nics.values().stream()
            .filter(n -> n.pools().contains(poolId))
            .forEach(n -> configs.addObject().put("id", n.id()));
        if (!configs.isEmpty()) {
          ((ObjectNode) pool).withObject("properties").set("backendIPConfigurations", configs);
        }
      }
    }
    return out;
  }

  List<ObjectNode> loadBalancers(ObjectNode replacing) {
    List<ObjectNode> out = new ArrayList<>();
    String replaced = replacing == null ? "" : ArmRules.lower(replacing.path("id").asText());
    resources.forEach(
        (id, r) -> {
          if (id.contains("/loadbalancers/") && !id.equals(replaced)) {
            out.add(r);
          }
        });
    if (replacing != null) {
      out.add(replacing);
    }
    return out;
  }

  ArmRules.Account account(ObjectNode replacing) {
    return new ArmRules.Account() {
      @Override
      public JsonNode resource(String id) {
        return resources.get(ArmRules.lower(id));
      }

      @Override
      public List<JsonNode> loadBalancers() {
        return new ArrayList<>(ArmStore.this.loadBalancers(replacing));
      }

      @Override
      public Map<String, ArmRules.Nic> nics() {
        return nics;
      }
    };
  }

  static boolean sameContent(ObjectNode a, ObjectNode b) {
    ObjectNode x = a.deepCopy();
    ObjectNode y = b.deepCopy();
    for (ObjectNode n : List.of(x, y)) {
      ArmDefaults.forget(n);
    }
    return x.equals(y);
  }

  /** Every reference inside a load balancer resolves (InvalidResourceReference). */
  ArmRules.Refusal references(ObjectNode lb) {
    Set<String> ids = new java.util.HashSet<>();
    for (String kind :
        List.of(
            "frontendIPConfigurations",
            "backendAddressPools",
            "probes",
            "loadBalancingRules",
            "outboundRules",
            "inboundNatRules")) {
      for (JsonNode sub : lb.path("properties").path(kind)) {
        if (!ids.add(ArmRules.lower(sub.path("id").asText()))) {
          return new ArmRules.Refusal(
              "InvalidRequestFormat", "two " + kind + " are named " + sub.path("name").asText());
        }
      }
    }
    for (JsonNode rule : lb.path("properties").path("loadBalancingRules")) {
      for (String ref : List.of("frontendIPConfiguration", "backendAddressPool", "probe")) {
        JsonNode target = rule.path("properties").path(ref).path("id");
        if (!target.isMissingNode() && !ids.contains(ArmRules.lower(target.asText()))) {
          return new ArmRules.Refusal(
              "InvalidResourceReference",
              "Resource "
                  + target.asText()
                  + " referenced by resource "
                  + rule.path("id").asText()
                  + " was not found.");
        }
      }
    }
    return null;
  }
}
