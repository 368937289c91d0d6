package dev.ferry.provider.azure;

import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ResourceNames;
import java.util.Locale;

/**
 * Deterministic names from the cluster and the Service UID, so a restarted controller finds its
 * parts again on the shared load balancer without remembering anything:
 *
 * <ul>
 *   <li>the cluster's load balancers: {@code <cluster>} and {@code <cluster>-internal} (as
 *       cloud-provider-azure names them), with one shared backend pool {@code <cluster>} and the
 *       shared kube-proxy probe {@code ferry-kube-proxy};
 *   <li>a Service's public IP and frontend: {@code ferry-<24 hex of hash(cluster, uid)>}; its rules
 *       {@code <that>-<TCP|UDP>-<port>}, its own probe {@code <that>-hc}, its security rules {@code
 *       <that>-<tcp|udp>}. Everything of a Service starts with its prefix: nothing else on a shared
 *       load balancer is ever touched.
 * </ul>
 */
final class AzureNames {

  static final String SHARED_PROBE = "ferry-kube-proxy";

  private AzureNames() {}

  static String service(LoadBalancerRef ref) {
    return "ferry-" + ResourceNames.hash(ref.cluster() + "/" + ref.uid()).substring(0, 24);
  }

  static String rule(LoadBalancerRef ref, String protocol, int port) {
    return service(ref) + "-" + protocol.toUpperCase(Locale.ROOT) + "-" + port;
  }

  static String probe(LoadBalancerRef ref) {
    return service(ref) + "-hc";
  }

  static String securityRule(LoadBalancerRef ref, String protocol) {
    return service(ref) + "-" + protocol.toLowerCase(Locale.ROOT);
  }

  static String loadBalancer(String cluster, boolean internal) {
    return internal ? cluster + "-internal" : cluster;
  }

  static String pool(String cluster) {
    return cluster;
  }

  /** Whether {@code name} is one of {@code ref}'s parts. */
  static boolean owns(LoadBalancerRef ref, String name) {
    return name != null && (name.equals(service(ref)) || name.startsWith(service(ref) + "-"));
  }
}
