package dev.ferry.provider.aws;

import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ResourceNames;

/**
 * Deterministic names within AWS's 32-character limit, derived from the cluster and the Service
 * UID, so a restarted controller finds what it made without remembering anything:
 *
 * <ul>
 *   <li>load balancer: {@code ferry-<26 hex of hash(cluster, uid)>}
 *   <li>target group: {@code fy<12 hex of hash(cluster, uid)>-<17 hex of hash(protocol, port,
 *       nodePort)>}; every target group of one load balancer starts with {@link #targetGroupPrefix}
 * </ul>
 */
final class AwsNames {

  private AwsNames() {}

  static String loadBalancer(LoadBalancerRef ref) {
    return "ferry-" + hash(ref.cluster() + "/" + ref.uid()).substring(0, 26);
  }

  static String targetGroupPrefix(LoadBalancerRef ref) {
    return "fy" + hash(ref.cluster() + "/" + ref.uid()).substring(0, 12) + "-";
  }

  /**
   * A target group per listener; a new NodePort or protocol makes a new name (the port is fixed).
   */
  static String targetGroup(LoadBalancerRef ref, String protocol, Listener listener) {
    return targetGroupPrefix(ref)
        + hash(protocol + "/" + listener.port() + "/" + listener.nodePort()).substring(0, 17);
  }

  /** The NLB's own (frontend) security group: the load balancer's name, unique in its VPC. */
  static String frontendGroup(LoadBalancerRef ref) {
    return loadBalancer(ref);
  }

  /** The cluster's backend security group, which every NLB carries and node groups admit. */
  static String backendGroup(String cluster) {
    return "ferry-backend-" + hash(cluster).substring(0, 24);
  }

  /** The description of the node rules that admit the cluster's backend group. */
  static String backendRuleDescription(String cluster) {
    return "ferry.dev/cluster=" + cluster + " load balancers";
  }

  /** The description marking security-group rules as this Service's. */
  static String ruleDescription(LoadBalancerRef ref) {
    return "ferry.dev/service-uid=" + ref.uid();
  }

  private static String hash(String text) {
    return ResourceNames.hash(text);
  }

  /** The description of rules the cluster's Services share (kube-proxy health checks). */
  static String sharedRuleDescription(String cluster) {
    return "ferry.dev/cluster=" + cluster + " kube-proxy health checks";
  }
}
