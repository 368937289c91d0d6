package dev.ferry.provider.gcp;

import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ResourceNames;

/**
 * Deterministic Compute Engine names, derived from the cluster and the Service UID, within GCE's
 * rule ({@code [a-z]([-a-z0-9]{0,61}[a-z0-9])?}, at most 63 characters), so a restarted controller
 * finds what it made without remembering anything:
 *
 * <ul>
 *   <li>a Service's address, health check (Local policy) and firewalls: {@code ferry-<24 hex of
 *       hash(cluster, uid)>} plus a suffix;
 *   <li>its backend service and forwarding rule per protocol: the same plus {@code -tcp} / {@code
 *       -udp};
 *   <li>a dual-stack Service's IPv6 address, rules and firewalls: the IPv4 ones' names plus {@code
 *       -ipv6};
 *   <li>the cluster's instance group (one per zone, shared by every Service) and node health check
 *       (Cluster policy, shared): {@code ferry-<16 hex of hash(cluster)>-nodes} (and {@code
 *       -nodes-2}, ... past 1,000 VMs a zone) / {@code -hc}, and the probers' firewall to it,
 *       {@code -node-hc}.
 * </ul>
 */
final class GcpNames {

  private GcpNames() {}

  static String service(LoadBalancerRef ref) {
    return "ferry-" + hash(ref.cluster() + "/" + ref.uid()).substring(0, 24);
  }

  static String forProtocol(LoadBalancerRef ref, String protocol) {
    return service(ref) + "-" + protocol.toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * The IPv6 twin of a name: a dual-stack Service's IPv6 address, forwarding rules and firewalls
   * are their IPv4 ones' names plus {@code -ipv6} (as GKE's NetLB names its IPv6 rule).
   */
  static String ipv6(String name) {
    return name + "-ipv6";
  }

  /** {@code name} for {@code family}: itself for IPv4, its {@link #ipv6} twin for IPv6. */
  static String of(String name, dev.ferry.spi.IpFamily family) {
    return family == dev.ferry.spi.IpFamily.IPv4 ? name : ipv6(name);
  }

  /** The address the cluster's Services with sharing key {@code key} use. */
  static String sharedAddress(String cluster, String key) {
    return "ferry-" + hash(cluster + "/shared-ip/" + key).substring(0, 24) + "-shared";
  }

  static String clientFirewall(LoadBalancerRef ref) {
    return service(ref) + "-clients";
  }

  static String healthFirewall(LoadBalancerRef ref) {
    return service(ref) + "-hc";
  }

  static String serviceHealthCheck(LoadBalancerRef ref) {
    return service(ref) + "-hc";
  }

  static String instanceGroup(String cluster) {
    return "ferry-" + hash(cluster).substring(0, 16) + "-nodes";
  }

  /** The cluster's firewall for Google's probers to kube-proxy's port, shared by its Services. */
  static String nodeHealthFirewall(String cluster) {
    return "ferry-" + hash(cluster).substring(0, 16) + "-node-hc";
  }

  /** The cluster's instance group {@code index} (from 0) of a zone: 1,000 VMs a group at most. */
  static String instanceGroup(String cluster, int index) {
    return index == 0 ? instanceGroup(cluster) : instanceGroup(cluster) + "-" + (index + 1);
  }

  static String nodeHealthCheck(String cluster) {
    return "ferry-" + hash(cluster).substring(0, 16) + "-hc";
  }

  private static String hash(String text) {
    return ResourceNames.hash(text);
  }
}
