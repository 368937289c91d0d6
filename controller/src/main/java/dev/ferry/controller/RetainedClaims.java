package dev.ferry.controller;

import dev.ferry.spi.IpFamily;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.RetainedAddress;
import io.fabric8.kubernetes.api.model.Service;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns {@code ferry.dev/claim-retained: "true"} into a requested address: the one the provider
 * retained for the Service's namespace and name, in its primary family. An explicit {@code
 * spec.loadBalancerIP} wins. The provider is asked once per Service and process ({@code
 * listRetained}); the answer is kept until the Service is forgotten.
 */
final class RetainedClaims {

  private final GuardedProvider provider;
  private final String cluster;
  private final Map<String, RetainedAddress> claimed = new ConcurrentHashMap<>();

  private final boolean ips;

  /**
   * @param ips whether the provider serves IP addresses that a requested IP can name (else a
   *     retained address is claimed by its id alone, e.g. an NLB's hostname)
   */
  RetainedClaims(GuardedProvider provider, String cluster, boolean ips) {
    this.provider = provider;
    this.cluster = cluster;
    this.ips = ips;
  }

  /**
   * {@code plan} with the retained address it claims as its requested IP; {@code plan} itself when
   * the Service claims none, names its own, or none is retained for it (it gets a new address).
   */
  LoadBalancerPlan resolve(String key, Service service, LoadBalancerPlan plan)
      throws ProviderException {
    Map<String, String> annotations = service.getMetadata().getAnnotations();
    if (plan.requestedIp().isPresent()
        || annotations == null
        || !"true".equalsIgnoreCase(annotations.get(Planner.CLAIM_RETAINED))) {
      return plan;
    }
    RetainedAddress address = claimed.get(key);
    if (address == null) {
      address = pick(service, plan.ipFamilies().get(0)).orElse(null);
      if (address == null) {
        return plan;
      }
      claimed.put(key, address);
    }
    LoadBalancerPlan.Builder b = plan.toBuilder().claimRetained(Optional.of(address.id()));
    if (ips) {
      b.requestedIp(Optional.of(address.address()));
    }
    return b.build();
  }

  /** The address to claim: the one the Service shows, else one no Service serves on. */
  private Optional<RetainedAddress> pick(Service service, IpFamily family)
      throws ProviderException {
    String namespace = service.getMetadata().getNamespace();
    String name = service.getMetadata().getName();
    List<String> shown = IngressStatus.addressesOf(service);
    List<RetainedAddress> mine =
        provider.listRetained(cluster).stream()
            .filter(r -> r.namespace().equals(namespace) && r.name().equals(name))
            .filter(r -> !ips || r.address().contains(":") == (family == IpFamily.IPv6))
            .toList();
    return mine.stream()
        .filter(r -> shown.contains(r.address()) || !r.inUse())
        .min(
            Comparator.comparing((RetainedAddress r) -> !shown.contains(r.address()))
                .thenComparing(RetainedAddress::id));
  }

  void forget(String key) {
    claimed.remove(key);
  }

  void forgetAll() {
    claimed.clear();
  }
}
