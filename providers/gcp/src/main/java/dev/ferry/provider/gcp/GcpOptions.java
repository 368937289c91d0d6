package dev.ferry.provider.gcp;

import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.Scheme;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What a Service asks of GCP through upstream's annotations, read without any call; a value GKE
 * would not take is an {@link ProviderException.InvalidPlan} naming the annotation.
 *
 * @param subnet the internal load balancer's subnet the Service names, or empty
 * @param tier the network tier the Service asks for ({@code PREMIUM} / {@code STANDARD}), or empty
 */
record GcpOptions(boolean internal, String subnet, Optional<String> tier) {

  static final String LB_TYPE = "networking.gke.io/load-balancer-type";
  static final String LB_TYPE_LEGACY = "cloud.google.com/load-balancer-type";
  static final String SUBNET = "networking.gke.io/internal-load-balancer-subnet";
  static final String TIER = GcpAddresses.TIER;
  static final String TARGET_NODE_LABELS =
      "service.beta.kubernetes.io/aws-load-balancer-target-node-labels";

  static GcpOptions of(LoadBalancerPlan plan, String region) throws ProviderException.InvalidPlan {
    if (plan.annotations().containsKey(TARGET_NODE_LABELS)) {
      throw new ProviderException.InvalidPlan(
          "metadata.annotations[" + TARGET_NODE_LABELS + "]",
          "gcp's instance groups are shared by every Service of the cluster, so a Service cannot"
              + " pick its nodes; remove the annotation");
    }
    boolean internal = plan.scheme() == Scheme.INTERNAL;
    for (String key : List.of(LB_TYPE, LB_TYPE_LEGACY)) {
      String value = plan.annotations().get(key);
      if (value == null) {
        continue;
      }
      switch (value.trim().toLowerCase(Locale.ROOT)) {
        case "internal" -> internal = true;
        case "external" -> {}
        default ->
            throw new ProviderException.InvalidPlan(
                "metadata.annotations[" + key + "]",
                "'" + value + "' is neither Internal nor External");
      }
    }
    String subnet = "";
    String named = plan.annotations().get(SUBNET);
    if (named != null && !named.isBlank()) {
      if (!internal) {
        throw new ProviderException.InvalidPlan(
            "metadata.annotations[" + SUBNET + "]",
            "a subnet is for internal load balancers only; set "
                + LB_TYPE
                + ": Internal or remove the subnet");
      }
      if (!named.trim().matches("[a-z]([-a-z0-9]{0,61}[a-z0-9])?")) {
        throw new ProviderException.InvalidPlan(
            "metadata.annotations[" + SUBNET + "]",
            "'" + named + "' is not a subnet name of region " + region);
      }
      subnet = named.trim();
    }
    Optional<String> tier = Optional.empty();
    String asked = plan.annotations().get(TIER);
    if (asked != null) {
      String t = asked.trim().toUpperCase(Locale.ROOT);
      if (!t.equals("PREMIUM") && !t.equals("STANDARD")) {
        throw new ProviderException.InvalidPlan(
            "metadata.annotations[" + TIER + "]",
            "'" + asked + "' is neither Premium nor Standard");
      }
      if (internal) {
        throw new ProviderException.InvalidPlan(
            "metadata.annotations[" + TIER + "]",
            "a network tier is for external load balancers only; remove the annotation");
      }
      tier = Optional.of(t);
    }
    return new GcpOptions(internal, subnet, tier);
  }
}
