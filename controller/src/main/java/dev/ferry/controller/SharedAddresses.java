package dev.ferry.controller;

import dev.ferry.spi.PlanViolation;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Services that share an address ({@value #KEY}): the cluster's Services with the same key are
 * served on one address, each on its own ports, as MetalLB's {@code allow-shared-ip}. Of two that
 * cannot share (a port both serve, different requested IPs or schemes), the one made first keeps
 * the address and the other is refused, naming the first.
 */
final class SharedAddresses {

  static final String KEY = Planner.ANNOTATION_PREFIX + "allow-shared-ip";

  private static final String FIELD = "metadata.annotations[" + KEY + "]";

  private SharedAddresses() {}

  /** {@code service}'s sharing key, or null. */
  static String keyOf(Service service) {
    Map<String, String> a = service.getMetadata().getAnnotations();
    return a == null ? null : a.get(KEY);
  }

  /** Whether {@code key} is a key: 1 to 63 letters, digits, '.', '_' or '-'. */
  static boolean valid(String key) {
    return key.matches("[A-Za-z0-9._-]{1,63}");
  }

  /**
   * Why {@code service} cannot have its key's address: the Services of {@code all} with its key
   * that Ferry serves ({@code served}) and that were made before it, whose ports, requested IP or
   * scheme clash with its own. Empty when it can share.
   */
  static List<PlanViolation> conflicts(
      Service service, List<Service> all, Predicate<Service> served) {
    String key = keyOf(service);
    if (key == null) {
      return List.of();
    }
    List<Service> earlier =
        all.stream()
            .filter(o -> !Objects.equals(o.getMetadata().getUid(), service.getMetadata().getUid()))
            .filter(o -> key.equals(keyOf(o)) && served.test(o))
            .filter(o -> FIRST.compare(o, service) < 0)
            .sorted(FIRST)
            .toList();
    List<PlanViolation> out = new ArrayList<>();
    Set<String> mine = ports(service);
    for (Service o : earlier) {
      String other = o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
      Set<String> both = new TreeSet<>(ports(o));
      both.retainAll(mine);
      if (!both.isEmpty()) {
        out.add(
            new PlanViolation(
                FIELD,
                "port "
                    + String.join(", ", both)
                    + " is already served by "
                    + other
                    + " on the address shared as '"
                    + key
                    + "'; use other ports, or another key"));
      }
      String ip = requestedIp(service);
      if (!Objects.equals(ip, requestedIp(o))) {
        out.add(
            new PlanViolation(
                "spec.loadBalancerIP",
                "Services sharing the address '"
                    + key
                    + "' must ask for the same IP: "
                    + other
                    + " asks for "
                    + (requestedIp(o) == null ? "none" : requestedIp(o))
                    + ", this one for "
                    + (ip == null ? "none" : ip)));
      }
      if (!Objects.equals(scheme(service), scheme(o))) {
        out.add(
            new PlanViolation(
                FIELD,
                other + " shares '" + key + "' with another scheme (" + Planner.SCHEME + ")"));
      }
    }
    return out;
  }

  /** The Service made first: older creation, then namespace and name. */
  private static final Comparator<Service> FIRST =
      Comparator.comparing(
              (Service s) ->
                  s.getMetadata().getCreationTimestamp() == null
                      ? ""
                      : s.getMetadata().getCreationTimestamp())
          .thenComparing(s -> s.getMetadata().getNamespace() + "/" + s.getMetadata().getName());

  private static Set<String> ports(Service s) {
    Set<String> out = new TreeSet<>();
    if (s.getSpec() != null && s.getSpec().getPorts() != null) {
      for (ServicePort p : s.getSpec().getPorts()) {
        out.add(p.getPort() + "/" + (p.getProtocol() == null ? "TCP" : p.getProtocol()));
      }
    }
    return out;
  }

  private static String requestedIp(Service s) {
    String ip = s.getSpec() == null ? null : s.getSpec().getLoadBalancerIP();
    return ip == null || ip.isBlank() ? null : ip;
  }

  private static String scheme(Service s) {
    Map<String, String> a = s.getMetadata().getAnnotations();
    String v = a == null ? null : a.get(Planner.SCHEME);
    return v == null ? "external" : v.toLowerCase(java.util.Locale.ROOT);
  }
}
