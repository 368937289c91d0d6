package dev.ferry.provider.aws;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.PlanViolation;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The desired AWS resources for a plan, computed without any call: listeners and their target
 * groups (TCP and UDP on one port become one TCP_UDP listener), the instance targets, the ownership
 * tags and the security-group rules: {@code rules} and {@code sharedRules} on the node groups for
 * an NLB made without security groups (before Ferry used them), {@code frontendRules} on the NLB's
 * own group (clients on the Service's ports).
 */
record AwsShape(
    String loadBalancerName,
    List<TargetGroupSpec> targetGroups,
    Set<String> instanceIds,
    List<String> skippedNodes,
    Map<String, String> tags,
    Set<Rule> rules,
    Set<Rule> sharedRules,
    Set<Rule> frontendRules) {

  static final String TAG_CLUSTER_PREFIX = "kubernetes.io/cluster/";
  static final String TAG_SERVICE_NAME = "kubernetes.io/service-name";
  static final String TAG_UID = "ferry.dev/service-uid";
  static final String TAG_CLUSTER = "ferry.dev/cluster";

  static final int KUBE_PROXY_HEALTH_PORT = 10256;

  private static final Pattern AWS_PROVIDER_ID = Pattern.compile("aws:///[^/]*/(i-[0-9a-zA-Z]+)");

  /** One listener port with its target group. */
  record TargetGroupSpec(String name, String protocol, int port, int nodePort) {}

  /** A security-group ingress rule: protocol ("tcp"/"udp"), port, source CIDR. */
  record Rule(String protocol, int port, String cidr) implements Comparable<Rule> {
    @Override
    public int compareTo(Rule o) {
      return (protocol + "/" + port + "/" + cidr)
          .compareTo(o.protocol + "/" + o.port + "/" + o.cidr);
    }
  }

  static AwsShape of(LoadBalancerPlan plan, AwsOptions options, List<String> vpcCidrs)
      throws ProviderException.InvalidPlan {
    return of(plan, options, vpcCidrs, false);
  }

  /**
   * As above; a {@code dualStack} NLB's frontend group also admits the Service's IPv6 ranges (its
   * IPv4 ones only otherwise: an IPv4 NLB has no IPv6 address to reach).
   */
  static AwsShape of(
      LoadBalancerPlan plan, AwsOptions options, List<String> vpcCidrs, boolean dualStack)
      throws ProviderException.InvalidPlan {
    LoadBalancerRef ref = plan.ref();
    Map<Integer, List<Listener>> byPort = new LinkedHashMap<>();
    plan.listeners().forEach(l -> byPort.computeIfAbsent(l.port(), p -> new ArrayList<>()).add(l));
    List<TargetGroupSpec> groups = new ArrayList<>();
    List<PlanViolation> violations = new ArrayList<>();
    for (Map.Entry<Integer, List<Listener>> e : byPort.entrySet()) {
      List<Listener> ls = e.getValue();
      Listener first = ls.get(0);
      String protocol = first.protocol().name();
      if (ls.size() > 1) {
        boolean tcpAndUdp =
            ls.size() == 2 && ls.stream().map(Listener::protocol).distinct().count() == 2;
        if (!tcpAndUdp || ls.get(0).nodePort() != ls.get(1).nodePort()) {
          violations.add(
              new PlanViolation(
                  "spec.ports",
                  "port "
                      + e.getKey()
                      + " appears for TCP and UDP with different nodePorts; an NLB needs one TCP_UDP target port: give both the same nodePort"));
          continue;
        }
        protocol = "TCP_UDP";
      }
      groups.add(
          new TargetGroupSpec(
              AwsNames.targetGroup(ref, protocol, first),
              protocol,
              first.port(),
              first.nodePort()));
    }
    if (!violations.isEmpty()) {
      throw new ProviderException.InvalidPlan(violations);
    }

    Set<String> instances = new TreeSet<>();
    List<String> skipped = new ArrayList<>();
    for (Backend b : plan.backends()) {
      String id = instanceId(b);
      if (id == null) {
        skipped.add(b.nodeName());
      } else {
        instances.add(id);
      }
    }

    Map<String, String> tags = new LinkedHashMap<>(options.extraTags());
    tags.put(TAG_CLUSTER_PREFIX + ref.cluster(), "owned");
    tags.put(TAG_SERVICE_NAME, ref.serviceKey());
    tags.put(TAG_UID, ref.uid());
    tags.put(TAG_CLUSTER, ref.cluster());

    Set<Rule> rules = new TreeSet<>();
    boolean open = plan.sourceRanges().contains("0.0.0.0/0");
    for (Listener l : plan.listeners()) {
      String proto = l.protocol() == Protocol.UDP ? "udp" : "tcp";
      plan.sourceRanges().stream()
          .filter(AwsShape::ipv4)
          .forEach(c -> rules.add(new Rule(proto, l.nodePort(), c)));
      if (!open && proto.equals("tcp")) {
        // the NLB's health checks come from its addresses in the VPC: every CIDR of the VPC
        vpcCidrs.forEach(cidr -> rules.add(new Rule("tcp", l.nodePort(), cidr)));
      }
    }
    Set<Rule> shared = new TreeSet<>();
    if (!options.healthCheck().port().equals("traffic-port")) {
      int port = Integer.parseInt(options.healthCheck().port());
      // kube-proxy's health port is the same on every node for every Service: one rule for the
      // cluster (AWS refuses a second rule for the same port and source), never revoked by one
      // Service's cleanup; a Local Service's healthCheckNodePort is its own
      for (String cidr : vpcCidrs) {
        (port == KUBE_PROXY_HEALTH_PORT ? shared : rules).add(new Rule("tcp", port, cidr));
      }
    }
    Set<Rule> frontend = new TreeSet<>();
    for (Listener l : plan.listeners()) {
      String proto = l.protocol() == Protocol.UDP ? "udp" : "tcp";
      plan.sourceRanges().stream()
          .filter(c -> dualStack || ipv4(c))
          .forEach(c -> frontend.add(new Rule(proto, l.port(), c)));
    }
    return new AwsShape(
        AwsNames.loadBalancer(ref),
        List.copyOf(groups),
        Set.copyOf(instances),
        List.copyOf(skipped),
        Map.copyOf(tags),
        Set.copyOf(rules),
        Set.copyOf(shared),
        Set.copyOf(frontend));
  }

  /** The EC2 instance ID in a backend's {@code aws:///zone/i-...} providerID, or null. */
  static String instanceId(Backend backend) {
    Matcher m = AWS_PROVIDER_ID.matcher(backend.providerId());
    return m.matches() ? m.group(1) : null;
  }

  /** True when {@code actual} tags say this resource belongs to {@code ref}. */
  static boolean owns(LoadBalancerRef ref, Map<String, String> actual) {
    return ref.uid().equals(actual.get(TAG_UID))
        && "owned".equals(actual.get(TAG_CLUSTER_PREFIX + ref.cluster()));
  }

  /** Security-group ranges here are IPv4 ({@code IpRanges}); IPv6 ones are left to IPv6 rules. */
  static boolean ipv4(String cidr) {
    return new inet.ipaddr.IPAddressString(cidr).isIPv4();
  }
}
