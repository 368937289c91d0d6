package dev.ferry.provider.azure;

import com.azure.json.JsonProviders;
import com.azure.json.JsonReader;
import com.azure.json.JsonSerializable;
import com.azure.json.JsonWriter;
import com.azure.resourcemanager.network.fluent.models.LoadBalancerInner;
import com.azure.resourcemanager.network.fluent.models.NetworkSecurityGroupInner;
import com.azure.resourcemanager.network.fluent.models.PublicIpAddressInner;
import com.azure.resourcemanager.network.fluent.models.SecurityRuleInner;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * A request body as ARM reads it: a member the API does not have is refused ("Could not find
 * member", found by what the vendor's own model class keeps of the body), then the API's
 * constraints ({@link ArmSchema}); what ARM computes itself is ignored.
 */
final class ArmValidation {

  // properties ARM sets itself: a client may send them back, and ARM ignores them
  static final Set<String> READ_ONLY =
      Set.of(
          "id",
          "name",
          "etag",
          "type",
          "provisioningState",
          "resourceGuid",
          "ipAddress",
          "ipConfiguration",
          "backendIPConfigurations",
          "outboundRule",
          "defaultSecurityRules",
          "networkInterfaces",
          "networkInterfaceIPConfiguration",
          "inboundNatRulesPortMapping");

  private ArmValidation() {}

  /** ARM's refusal of {@code body} as a message, or null when it is a valid {@code type}. */
  static String check(String type, byte[] body, ObjectNode input) throws IOException {
    String unknown = unknownField(input, tree(model(type, body)), "");
    if (unknown != null) {
      return "Cannot parse the request. Could not find member '" + unknown + "'.";
    }
    String invalid = ArmSchema.check(type, input);
    return invalid == null ? null : "Cannot parse the request. " + invalid;
  }

  static JsonSerializable<?> model(String type, byte[] body) throws IOException {
    try (JsonReader r = JsonProviders.createReader(body)) {
      return switch (type) {
        case "loadbalancers" -> LoadBalancerInner.fromJson(r);
        case "publicipaddresses" -> PublicIpAddressInner.fromJson(r);
        case "networksecuritygroups" -> NetworkSecurityGroupInner.fromJson(r);
        default -> SecurityRuleInner.fromJson(r);
      };
    }
  }

  /** A key of {@code input} the model dropped, as a path; null when the model kept all. */
  static String unknownField(JsonNode input, JsonNode kept, String at) {
    if (input.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = input.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (READ_ONLY.contains(e.getKey())) {
          continue;
        }
        JsonNode other = kept == null ? null : kept.get(e.getKey());
        if (other == null) {
          return at + e.getKey();
        }
        String deeper = unknownField(e.getValue(), other, at + e.getKey() + ".");
        if (deeper != null) {
          return deeper;
        }
      }
    } else if (input.isArray()) {
      for (int i = 0; i < input.size(); i++) {
        String deeper = unknownField(input.get(i), kept.get(i), at + i + ".");
        if (deeper != null) {
          return deeper;
        }
      }
    }
    return null;
  }

  static JsonNode tree(JsonSerializable<?> model) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonWriter w = JsonProviders.createWriter(out)) {
      model.toJson(w);
    }
    return ArmFake.JSON.readTree(out.toByteArray());
  }
}
