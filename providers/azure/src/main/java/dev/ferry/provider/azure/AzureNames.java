package dev.ferry.provider.azure;

import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ResourceNames;
import java.util.Locale;

/**
 * Deterministic names from the cluster and the Service UID, so a restarted controller finds its
 * parts again without remembering anything, and names that never collide with cloud-provider-azure
 * (whose load balancers are {@code <cluster>} / {@code <cluster>-internal}, its frontends, rules
 * and probes {@code a<uid>…}, its security rules {@code a<uid>…} or {@code k8s-azure-lb_…}):
 *
 * <ul>
 *   <li>Ferry's own load balancers (self-managed clusters): {@code ferry-<cluster>} and {@code
 *       ferry-<cluster>-internal}, each with one node-IP pool {@code ferry-<cluster>};
 *   <li>on a load balancer Ferry joins (AKS's {@code kubernetes}), nothing of the load balancer's
 *       own: only the Service's parts below, beside AKS's;
 *   <li>a Service's public IP and frontend: {@code ferry-<24 hex of hash(cluster, uid)>}; its rules
 *       {@code <that>-<TCP|UDP>-<port>}, its own probe {@code <that>-hc}, its security rules {@code
 *       <that>-<tcp|udp>} (and {@code <that>-<tcp|udp>-<n>} per allowed service tag); the shared
 *       kube-proxy probe {@code ferry-kube-proxy};
 *   <li>a dual-stack Service's IPv6 parts, and Ferry's IPv6 pool: the IPv4 ones' names plus {@code
 *       -IPv6}.
 * </ul>
 */
final class AzureNames {

  static final String SHARED_PROBE = "ferry-kube-proxy";

  /** AKS's load balancers and pool, and cloud-provider-azure's default cluster name. */
  static final String AKS = "kubernetes";

  private AzureNames() {}

  /**
   * The frontend (and its public IP) that the cluster's Services with sharing key {@code key} use;
   * no Service's own, so none owns it.
   */
  static String sharedFrontend(String cluster, String key) {
    return "ferry-"
        + ResourceNames.hash(cluster + "/shared-ip/" + key).substring(0, 24)
        + "-shared";
  }

  /** Whether {@code name} is a shared frontend's (or its public IP's). */
  static boolean shared(String name) {
    return name != null && name.startsWith("ferry-") && name.endsWith("-shared");
  }

  /** The IPv4 frontend of {@code plan}'s Service: its key's, when it shares one, else its own. */
  static String frontend(dev.ferry.spi.LoadBalancerPlan plan) {
    return plan.sharingKey()
        .map(k -> sharedFrontend(plan.ref().cluster(), k))
        .orElse(service(plan.ref()));
  }

  static String service(LoadBalancerRef ref) {
    return "ferry-" + ResourceNames.hash(ref.cluster() + "/" + ref.uid()).substring(0, 24);
  }

  /**
   * The IPv6 twin of a part: a dual-stack Service's IPv6 public IP, frontend, rules, probe and
   * security rules, and Ferry's IPv6 pool, are the IPv4 ones' names plus {@code -IPv6}, as
   * cloud-provider-azure names its own (its AKS pool {@code kubernetes-IPv6}).
   */
  static String ipv6(String name) {
    return name + "-IPv6";
  }

  /** {@code name} for {@code family}: itself for IPv4, its {@link #ipv6} twin for IPv6. */
  static String of(String name, dev.ferry.spi.IpFamily family) {
    return family == dev.ferry.spi.IpFamily.IPv4 ? name : ipv6(name);
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

  /** The rule admitting an Azure service tag (each needs its own rule). */
  static String securityRule(LoadBalancerRef ref, String protocol, int tag) {
    return securityRule(ref, protocol) + "-" + tag;
  }

  /** A load balancer Ferry makes for itself on a self-managed cluster. */
  static String ownLoadBalancer(String cluster, boolean internal) {
    return "ferry-" + cluster + (internal ? "-internal" : "");
  }

  static String ownPool(String cluster) {
    return "ferry-" + cluster;
  }

  /** The internal companion of a joined public load balancer, as upstream names it. */
  static String joinedInternal(String joined) {
    return joined + "-internal";
  }

  /** Whether {@code name} is one of {@code ref}'s parts. */
  static boolean owns(LoadBalancerRef ref, String name) {
    return name != null && (name.equals(service(ref)) || name.startsWith(service(ref) + "-"));
  }

  /** Whether {@code name} is any Service's part or Ferry's shared probe. */
  static boolean ferrys(String name) {
    return name != null && name.startsWith("ferry-");
  }
}
