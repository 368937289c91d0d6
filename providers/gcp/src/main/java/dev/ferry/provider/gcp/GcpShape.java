package dev.ferry.provider.gcp;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.HealthCheckDefaults;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Scheme;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Compute Engine resources a plan wants, computed without any call. A regional external (or
 * internal) passthrough Network Load Balancer, backend-service based as GKE builds new ones:
 *
 * <ul>
 *   <li>one regional address, and per protocol one forwarding rule on it with the Service's ports
 *       (at most 5 listed, as a rule takes; more ports forward all ports, the firewall still
 *       admitting only the Service's) and one backend service of that protocol. One rule per
 *       protocol rather than one {@code L3_DEFAULT} rule: only the Service's protocols and ports
 *       reach the nodes, and a TCP-only Service keeps the simpler TCP backend service;
 *   <li>the backends are the cluster's unmanaged instance groups, one per zone, shared by every
 *       Service: a node joining or leaving is one group change per zone for the whole cluster;
 *   <li>the health check: kube-proxy's HTTP {@code :10256/healthz}, one shared by the cluster's
 *       Cluster-policy Services, or HTTP {@code /healthz} on the Service's healthCheckNodePort;
 *   <li>firewalls on the nodes' network tags, as GKE's NetLB builds them, one set per family
 *       (Compute takes one family a rule): clients (the Service's source ranges of that family; a
 *       family with none gets no client firewall, never an open one) to the Service's ports at the
 *       load balancer's address of that family only (passthrough keeps the destination address and
 *       port); Google's probers of that family to the health-check port: one firewall shared by the
 *       cluster for kube-proxy's port, or the Service's own for its healthCheckNodePort.
 * </ul>
 *
 * <p>A dual-stack Service has, beside the IPv4 ones, an IPv6 address, an IPv6 forwarding rule per
 * protocol on the same backend services (as GKE's NetLB does: the instance groups' VMs serve both
 * families) and IPv6 firewalls.
 */
record GcpShape(
    String address,
    List<IpFamily> families,
    List<RuleSpec> rules,
    ProbeSpec probe,
    List<FirewallSpec> firewalls,
    Map<String, List<String>> instancesByZone,
    List<String> skippedNodes,
    String description,
    boolean internal) {

  /**
   * Google's health-check probers for backend-service load balancers (GKE's {@code
   * L4LoadBalancerSrcRanges}; the 209.85 ranges are the legacy target-pool probers').
   */
  static final List<String> HEALTH_CHECK_RANGES = List.of("130.211.0.0/22", "35.191.0.0/16");

  /**
   * Google's IPv6 health-check probers for external passthrough Network Load Balancers (<a
   * href="https://cloud.google.com/load-balancing/docs/health-check-concepts#ip-ranges">probe IP
   * ranges</a>; GKE's {@code L4NetLBIPv6HCRange}).
   */
  static final List<String> IPV6_HEALTH_CHECK_RANGES = List.of("2600:1901:8001::/48");

  /** The probers of {@code family}. */
  static List<String> probers(IpFamily family) {
    return family == IpFamily.IPv4 ? HEALTH_CHECK_RANGES : IPV6_HEALTH_CHECK_RANGES;
  }

  private static final Pattern GCE_PROVIDER_ID = Pattern.compile("gce://([^/]+)/([^/]+)/([^/]+)");

  /**
   * A forwarding rule of a family, to its protocol's backend service (one for both families).
   *
   * @param ports the ports to forward; empty means all ports
   */
  record RuleSpec(String name, String protocol, List<Integer> ports, IpFamily family) {}

  /** A health check; {@code shared} when it is the cluster's node check. */
  record ProbeSpec(
      String name,
      boolean shared,
      int port,
      String path,
      int intervalSeconds,
      int timeoutSeconds,
      int healthy,
      int unhealthy) {}

  /**
   * A firewall rule: sources of one family to {@code protocol:ports} on the nodes (Compute takes
   * one family a rule).
   *
   * @param shared the cluster's node-check firewall (no destination: every Service's address), else
   *     the Service's own, which admits traffic to its load balancer's address of {@code family}
   *     only
   */
  record FirewallSpec(
      String name,
      List<String> sources,
      Map<String, List<Integer>> allowed,
      boolean shared,
      IpFamily family) {}

  /** kube-proxy's health endpoint on every node. */
  static final int KUBE_PROXY_PORT = 10256;

  /**
   * GKE NetLB's timings for the cluster's shared node check, a Cluster-policy Service's default.
   */
  static final HealthCheckDefaults NODE_CHECK =
      new HealthCheckDefaults(Duration.ofSeconds(8), Duration.ofSeconds(1), 1, 3);

  /**
   * GKE NetLB's timings for a Local-policy Service's own check (ingress-gce {@code
   * gceLocalHcCheckIntervalSeconds}, {@code gceLocalHcUnhealthyThreshold}): a node without
   * endpoints leaves after 6 s, not 24.
   */
  static final HealthCheckDefaults LOCAL_CHECK =
      new HealthCheckDefaults(Duration.ofSeconds(3), Duration.ofSeconds(1), 1, 2);

  /**
   * Nodes placed by their {@code gce://<project>/<zone>/<instance>} provider IDs.
   *
   * @param byZone instance names by zone
   * @param skipped the nodes without such an ID
   */
  record Nodes(Map<String, List<String>> byZone, List<String> skipped) {}

  static Nodes nodes(List<Backend> backends) {
    Map<String, List<String>> byZone = new TreeMap<>();
    List<String> skipped = new ArrayList<>();
    for (Backend b : backends) {
      Matcher m = GCE_PROVIDER_ID.matcher(b.providerId());
      if (m.matches()) {
        byZone.computeIfAbsent(m.group(2), z -> new ArrayList<>()).add(m.group(3));
      } else {
        skipped.add(b.nodeName());
      }
    }
    byZone.replaceAll((z, names) -> List.copyOf(new TreeSet<>(names)));
    return new Nodes(Map.copyOf(byZone), List.copyOf(skipped));
  }

  static GcpShape of(LoadBalancerPlan plan) {
    return of(plan, plan.scheme() == Scheme.INTERNAL);
  }

  static GcpShape of(LoadBalancerPlan plan, boolean internal) {
    return of(plan, internal, plan.ipFamilies());
  }

  /**
   * @param families the families served, in the Service's order: the plan's, or IPv4 alone where
   *     the cloud's configuration has no IPv6 ({@link GcpFamilies})
   */
  static GcpShape of(LoadBalancerPlan plan, boolean internal, List<IpFamily> families) {
    LoadBalancerRef ref = plan.ref();
    Map<String, TreeSet<Integer>> byProtocol = new TreeMap<>();
    for (Listener l : plan.listeners()) {
      byProtocol.computeIfAbsent(l.protocol().name(), k -> new TreeSet<>()).add(l.port());
    }
    List<RuleSpec> rules = new ArrayList<>();
    for (IpFamily family : families) {
      byProtocol.forEach(
          (protocol, ports) ->
              rules.add(
                  new RuleSpec(
                      GcpNames.of(GcpNames.forProtocol(ref, protocol), family),
                      protocol,
                      ports.size() <= 5 ? List.copyOf(ports) : List.of(),
                      family)));
    }

    HealthCheck hc = plan.healthCheck();
    // the traffic port of a passthrough rule is the Service port: Google probes the rule's address,
    // which kube-proxy forwards like client traffic
    int port = hc.onTrafficPort() ? plan.listeners().get(0).port() : hc.port();
    String path = hc.protocol() == HealthCheck.Type.HTTP ? hc.path() : "";
    int interval = (int) Math.max(1, hc.interval().toSeconds());
    int timeout = (int) Math.max(1, hc.timeout().toSeconds());
    ProbeSpec shared =
        new ProbeSpec(
            GcpNames.nodeHealthCheck(ref.cluster()),
            true,
            KUBE_PROXY_PORT,
            "/healthz",
            (int) NODE_CHECK.interval().toSeconds(),
            (int) NODE_CHECK.timeout().toSeconds(),
            NODE_CHECK.healthyThreshold(),
            NODE_CHECK.unhealthyThreshold());
    ProbeSpec own =
        new ProbeSpec(
            GcpNames.serviceHealthCheck(ref),
            false,
            port,
            path,
            interval,
            timeout,
            hc.healthyThreshold(),
            hc.unhealthyThreshold());
    // kube-proxy's check at the cluster's timings is shared by every such Service; a Service that
    // tunes it gets its own, so no two Services fight over one check
    ProbeSpec probe =
        shared.equals(
                new ProbeSpec(
                    shared.name(),
                    true,
                    port,
                    path,
                    interval,
                    timeout,
                    hc.healthyThreshold(),
                    hc.unhealthyThreshold()))
            ? shared
            : own;

    Map<String, List<Integer>> servicePorts = new TreeMap<>();
    byProtocol.forEach(
        (p, ports) -> servicePorts.put(p.toLowerCase(java.util.Locale.ROOT), List.copyOf(ports)));
    List<FirewallSpec> firewalls = new ArrayList<>();
    for (IpFamily family : families) {
      // a family without ranges of its own gets no client firewall: closed, never open
      List<String> sources = plan.sourceRanges(family);
      if (!sources.isEmpty()) {
        firewalls.add(
            new FirewallSpec(
                GcpNames.of(GcpNames.clientFirewall(ref), family),
                sources,
                servicePorts,
                false,
                family));
      }
      firewalls.add(
          probe.shared()
              ? new FirewallSpec(
                  GcpNames.of(GcpNames.nodeHealthFirewall(ref.cluster()), family),
                  probers(family),
                  Map.of("tcp", List.of(KUBE_PROXY_PORT)),
                  true,
                  family)
              : new FirewallSpec(
                  GcpNames.of(GcpNames.healthFirewall(ref), family),
                  probers(family),
                  Map.of("tcp", List.of(port)),
                  false,
                  family));
    }

    Nodes nodes = nodes(plan.backends());

    return new GcpShape(
        GcpNames.service(ref),
        List.copyOf(families),
        List.copyOf(rules),
        probe,
        List.copyOf(firewalls),
        nodes.byZone(),
        nodes.skipped(),
        GcpOwner.description(ref),
        internal);
  }
}
