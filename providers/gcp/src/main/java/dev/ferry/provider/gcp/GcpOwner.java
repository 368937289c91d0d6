package dev.ferry.provider.gcp;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Ownership of Compute resources: a resource is a Service's when its description names the cluster,
 * the Service and its UID (every kind has a description; labels do not exist on all and are set
 * only after insert). Labels name the cluster and UID too, for people and billing.
 */
final class GcpOwner {

  private GcpOwner() {}

  /** The description of a Service's resources. */
  static String description(LoadBalancerRef ref) {
    JsonObject o = new JsonObject();
    o.addProperty("kubernetes.io/service-name", ref.serviceKey());
    o.addProperty("ferry.dev/service-uid", ref.uid());
    o.addProperty("ferry.dev/cluster", ref.cluster());
    return o.toString();
  }

  /** The description of the cluster's shared resources (groups, node check and its firewall). */
  static String shared(String cluster) {
    JsonObject o = new JsonObject();
    o.addProperty("ferry.dev/cluster", cluster);
    o.addProperty("shared", true);
    return o.toString();
  }

  /** The description of an address the cluster's Services with sharing key {@code key} use. */
  static String sharedAddress(String cluster, String key) {
    JsonObject o = new JsonObject();
    o.addProperty("ferry.dev/cluster", cluster);
    o.addProperty("ferry.dev/allow-shared-ip", key);
    return o.toString();
  }

  /** Whether {@code description} is that of an address shared in {@code cluster}. */
  static boolean sharedAddressOf(String description, String cluster) {
    try {
      JsonObject o = JsonParser.parseString(description).getAsJsonObject();
      return o.has("ferry.dev/allow-shared-ip")
          && o.has("ferry.dev/cluster")
          && cluster.equals(o.get("ferry.dev/cluster").getAsString());
    } catch (RuntimeException e) {
      return false;
    }
  }

  static Map<String, String> labels(LoadBalancerRef ref) {
    Map<String, String> out = new LinkedHashMap<>();
    out.put("ferry-cluster", label(ref.cluster()));
    out.put("ferry-service-uid", label(ref.uid()));
    return out;
  }

  /**
   * The labels of a Service's forwarding rules: also its families in order ({@code ipv4}, {@code
   * ipv6-ipv4}, ...), so {@link dev.ferry.spi.LoadBalancerProvider#find} answers the addresses in
   * the Service's order without a plan.
   */
  static Map<String, String> labels(LoadBalancerRef ref, java.util.List<IpFamily> families) {
    Map<String, String> out = labels(ref);
    out.put(
        FAMILIES,
        String.join("-", families.stream().map(f -> f.name().toLowerCase(Locale.ROOT)).toList()));
    return out;
  }

  static final String FAMILIES = "ferry-ip-families";

  private static String label(String value) {
    String v = value.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_-]", "-");
    return v.length() > 63 ? v.substring(0, 63) : v;
  }

  static boolean owned(String description, LoadBalancerRef ref) {
    return ownerOf(description, ref.cluster()).map(r -> r.uid().equals(ref.uid())).orElse(false);
  }

  /** Refuses to change a resource at Ferry's name that another owner made. */
  static void requireOwned(String description, LoadBalancerRef ref, String name)
      throws ProviderException {
    if (!owned(description, ref)) {
      throw new ProviderException.Transient(
          name + " exists but was not made by Ferry for this Service; Ferry leaves it alone", null);
    }
  }

  /** The Service a description names, if it names one of {@code cluster}'s. */
  static Optional<LoadBalancerRef> ownerOf(String description, String cluster) {
    if (description == null || !description.startsWith("{")) {
      return Optional.empty();
    }
    try {
      JsonObject o = JsonParser.parseString(description).getAsJsonObject();
      String service = text(o, "kubernetes.io/service-name");
      String uid = text(o, "ferry.dev/service-uid");
      if (!cluster.equals(text(o, "ferry.dev/cluster"))
          || uid.isEmpty()
          || !service.contains("/")) {
        return Optional.empty();
      }
      String[] ns = service.split("/", 2);
      return Optional.of(new LoadBalancerRef(cluster, ns[0], ns[1], uid));
    } catch (RuntimeException e) {
      return Optional.empty(); // another owner's free text
    }
  }

  private static String text(JsonObject o, String key) {
    return o.has(key) && o.get(key).isJsonPrimitive() ? o.get(key).getAsString() : "";
  }
}
