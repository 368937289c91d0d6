package dev.ferry.provider.aws;

import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.PlanViolation;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.Scheme;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The AWS shape a plan asks for, read from the plan and the upstream {@code
 * service.beta.kubernetes.io/aws-load-balancer-*} annotations. Pure; every malformed value is a
 * violation naming its annotation.
 *
 * @param internal internal scheme instead of internet-facing
 * @param subnets subnet IDs or Name tags from the annotation; empty means discover by role tags
 * @param eipAllocations Elastic IP allocation IDs, one per subnet, in order
 * @param healthCheck the target-group health check
 * @param extraTags user tags from {@code -additional-resource-tags}
 * @param loadBalancerAttributes NLB attributes from {@code -attributes} and {@code
 *     -cross-zone-load-balancing-enabled}, set on every ensure
 * @param targetGroupAttributes target-group attributes from {@code -target-group-attributes} and
 *     {@code -proxy-protocol}, set on every ensure
 */
record AwsOptions(
    boolean internal,
    List<String> subnets,
    List<String> eipAllocations,
    NlbHealthCheck healthCheck,
    Map<String, String> extraTags,
    Map<String, String> loadBalancerAttributes,
    Map<String, String> targetGroupAttributes) {

  static final String PREFIX = "service.beta.kubernetes.io/aws-load-balancer-";
  static final String INTERNAL = PREFIX + "internal";
  static final String SCHEME = PREFIX + "scheme";
  static final String SUBNETS = PREFIX + "subnets";
  static final String EIPS = PREFIX + "eip-allocations";
  static final String EXTRA_TAGS = PREFIX + "additional-resource-tags";
  static final String HC = PREFIX + "healthcheck-";
  static final String ATTRIBUTES = PREFIX + "attributes";
  static final String TG_ATTRIBUTES = PREFIX + "target-group-attributes";
  static final String CROSS_ZONE = PREFIX + "cross-zone-load-balancing-enabled";
  static final String PROXY_PROTOCOL = PREFIX + "proxy-protocol";
  // the attributes an NLB and its target groups take (ELBv2 API reference)
  private static final Set<String> NLB_ATTRIBUTES =
      Set.of(
          "deletion_protection.enabled",
          "load_balancing.cross_zone.enabled",
          "access_logs.s3.enabled",
          "access_logs.s3.bucket",
          "access_logs.s3.prefix",
          "ipv6.deny_all_igw_traffic",
          "dns_record.client_routing_policy",
          "zonal_shift.config.enabled");
  private static final Set<String> NLB_TG_ATTRIBUTES =
      Set.of(
          "deregistration_delay.timeout_seconds",
          "deregistration_delay.connection_termination.enabled",
          "proxy_protocol_v2.enabled",
          "preserve_client_ip.enabled",
          "stickiness.enabled",
          "stickiness.type",
          "load_balancing.cross_zone.enabled",
          "target_health_state.unhealthy.connection_termination.enabled",
          "target_health_state.unhealthy.draining_interval_seconds",
          "target_failover.on_deregistration",
          "target_failover.on_unhealthy");

  /**
   * A target group's health check.
   *
   * @param protocol TCP, HTTP or HTTPS
   * @param port "traffic-port" or a port number
   */
  record NlbHealthCheck(
      String protocol,
      String port,
      String path,
      int intervalSeconds,
      int timeoutSeconds,
      int healthyThreshold,
      int unhealthyThreshold) {

    /**
     * The check for a target group of {@code groupProtocol}: a UDP group is never checked over TCP
     * on its own port (that always fails, so the NLB fails open and sends to every node): it gets
     * kube-proxy's HTTP {@code :10256/healthz}, as KEP-3836 recommends.
     */
    NlbHealthCheck forGroup(String groupProtocol) {
      if (groupProtocol.equals("UDP") && protocol.equals("TCP") && port.equals("traffic-port")) {
        return new NlbHealthCheck(
            "HTTP",
            String.valueOf(AwsShape.KUBE_PROXY_HEALTH_PORT),
            "/healthz",
            intervalSeconds,
            timeoutSeconds,
            healthyThreshold,
            unhealthyThreshold);
      }
      return this;
    }
  }

  static AwsOptions from(LoadBalancerPlan plan) throws ProviderException.InvalidPlan {
    Map<String, String> a = plan.annotations();
    List<PlanViolation> violations = new ArrayList<>();

    boolean internal = plan.scheme() == Scheme.INTERNAL;
    if (a.containsKey(INTERNAL)) {
      String v = a.get(INTERNAL).trim().toLowerCase(Locale.ROOT);
      if (v.equals("true") || v.equals("0.0.0.0/0")) {
        internal = true;
      } else if (!v.equals("false")) {
        violations.add(violation(INTERNAL, "'" + a.get(INTERNAL) + "' is neither true nor false"));
      }
    }
    if (a.containsKey(SCHEME)) {
      switch (a.get(SCHEME).trim()) {
        case "internal" -> internal = true;
        case "internet-facing" -> internal = false;
        default ->
            violations.add(
                violation(
                    SCHEME, "'" + a.get(SCHEME) + "' is neither internal nor internet-facing"));
      }
    }

    List<String> subnets = list(a.get(SUBNETS));
    List<String> eips = list(a.get(EIPS));
    for (String eip : eips) {
      if (!eip.matches("eipalloc-[0-9a-f]+")) {
        violations.add(
            violation(EIPS, "'" + eip + "' is not an allocation ID such as eipalloc-0123abcd"));
      }
    }
    if (!eips.isEmpty() && internal) {
      violations.add(
          violation(
              EIPS,
              "Elastic IPs need an internet-facing load balancer; remove them or the internal scheme"));
    }
    if (!eips.isEmpty() && !subnets.isEmpty() && eips.size() != subnets.size()) {
      violations.add(
          violation(
              EIPS,
              eips.size()
                  + " allocations for "
                  + subnets.size()
                  + " subnets; give one per subnet"));
    }

    Map<String, String> tags = new LinkedHashMap<>();
    for (String pair : list(a.get(EXTRA_TAGS))) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq).trim();
      if (key.isEmpty() || key.length() > 128 || key.startsWith("aws:")) {
        violations.add(
            violation(
                EXTRA_TAGS,
                "'"
                    + pair
                    + "' is not key=value with a key of 1-128 characters, not starting with aws:"));
      } else {
        tags.put(key, eq < 0 ? "" : pair.substring(eq + 1).trim());
      }
    }

    NlbHealthCheck hc = healthCheck(plan, a, violations);
    Map<String, String> lbAttributes = attributes(a, ATTRIBUTES, NLB_ATTRIBUTES, violations);
    String crossZone = a.get(CROSS_ZONE);
    if (crossZone != null) {
      if (!List.of("true", "false").contains(crossZone.trim())) {
        violations.add(violation(CROSS_ZONE, "'" + crossZone + "' is neither true nor false"));
      } else {
        lbAttributes.put("load_balancing.cross_zone.enabled", crossZone.trim());
      }
    }
    Map<String, String> tgAttributes = attributes(a, TG_ATTRIBUTES, NLB_TG_ATTRIBUTES, violations);
    String proxy = a.get(PROXY_PROTOCOL);
    if (proxy != null) {
      if (!proxy.trim().equals("*")) {
        violations.add(
            violation(
                PROXY_PROTOCOL, "'" + proxy + "' is not '*' (proxy protocol v2 on every port)"));
      } else {
        tgAttributes.put("proxy_protocol_v2.enabled", "true");
      }
    }
    if (!violations.isEmpty()) {
      throw new ProviderException.InvalidPlan(violations);
    }
    return new AwsOptions(
        internal,
        subnets,
        eips,
        hc,
        Map.copyOf(tags),
        Map.copyOf(lbAttributes),
        Map.copyOf(tgAttributes));
  }

  /** {@code key=value} pairs of an attributes annotation, each key one the resource takes. */
  private static Map<String, String> attributes(
      Map<String, String> a, String annotation, Set<String> known, List<PlanViolation> violations) {
    Map<String, String> out = new java.util.TreeMap<>();
    for (String pair : list(a.get(annotation))) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq).trim();
      if (eq < 0 || !known.contains(key)) {
        violations.add(
            violation(
                annotation,
                "'"
                    + pair
                    + "' is not key=value with a key a Network Load Balancer takes ("
                    + String.join(", ", new java.util.TreeSet<>(known))
                    + ")"));
      } else {
        out.put(key, pair.substring(eq + 1).trim());
      }
    }
    return out;
  }

  private static NlbHealthCheck healthCheck(
      LoadBalancerPlan plan, Map<String, String> a, List<PlanViolation> violations) {
    HealthCheck base = plan.healthCheck();
    String protocol =
        a.getOrDefault(HC + "protocol", base.protocol().name()).trim().toUpperCase(Locale.ROOT);
    if (!List.of("TCP", "HTTP", "HTTPS").contains(protocol)) {
      violations.add(
          violation(HC + "protocol", "'" + a.get(HC + "protocol") + "' is not TCP, HTTP or HTTPS"));
    }
    String port =
        a.getOrDefault(
                HC + "port", base.onTrafficPort() ? "traffic-port" : String.valueOf(base.port()))
            .trim();
    if (!port.equals("traffic-port") && !isPort(port)) {
      violations.add(violation(HC + "port", "'" + port + "' is not traffic-port or a port number"));
    }
    boolean udpOnlyPort =
        plan.listeners().stream()
            .anyMatch(
                l ->
                    l.protocol() == dev.ferry.spi.Protocol.UDP
                        && plan.listeners().stream()
                            .noneMatch(
                                o ->
                                    o.port() == l.port()
                                        && o.protocol() == dev.ferry.spi.Protocol.TCP));
    if (udpOnlyPort
        && protocol.equals("TCP")
        && port.equals("traffic-port")
        && (a.containsKey(HC + "protocol") || a.containsKey(HC + "port"))) {
      violations.add(
          violation(
              a.containsKey(HC + "protocol") ? HC + "protocol" : HC + "port",
              "a UDP port cannot be checked over TCP on its own port (the check always fails and"
                  + " the NLB sends to every node); use HTTP on 10256 (kube-proxy) or remove the"
                  + " annotation"));
    }
    String path =
        a.getOrDefault(HC + "path", base.path().isEmpty() ? "/healthz" : base.path()).trim();
    if (!protocol.equals("TCP") && !path.startsWith("/")) {
      violations.add(violation(HC + "path", "'" + path + "' must start with /"));
    }
    int interval =
        number(
            a,
            HC + "interval",
            (int) base.interval().toSeconds(),
            5,
            300,
            "metadata.annotations[ferry.dev/health-check-interval]",
            violations);
    int timeout =
        number(
            a,
            HC + "timeout",
            (int) base.timeout().toSeconds(),
            2,
            120,
            "metadata.annotations[ferry.dev/health-check-timeout]",
            violations);
    int healthy =
        number(
            a,
            HC + "healthy-threshold",
            base.healthyThreshold(),
            2,
            10,
            "metadata.annotations[ferry.dev/health-check-healthy-threshold]",
            violations);
    int unhealthy =
        number(
            a,
            HC + "unhealthy-threshold",
            base.unhealthyThreshold(),
            2,
            10,
            "metadata.annotations[ferry.dev/health-check-unhealthy-threshold]",
            violations);
    return new NlbHealthCheck(
        protocol, port, protocol.equals("TCP") ? "" : path, interval, timeout, healthy, unhealthy);
  }

  /** The annotation's value, else the plan's; either must lie within AWS's limits. */
  private static int number(
      Map<String, String> a,
      String key,
      int fromPlan,
      int min,
      int max,
      String planField,
      List<PlanViolation> violations) {
    String text = a.get(key);
    int value = fromPlan;
    String field = planField;
    if (text != null) {
      field = "metadata.annotations[" + key + "]";
      try {
        value = Integer.parseInt(text.trim());
      } catch (NumberFormatException e) {
        violations.add(new PlanViolation(field, "'" + text + "' is not a whole number"));
        return fromPlan;
      }
    }
    if (value < min || value > max) {
      violations.add(
          new PlanViolation(
              field,
              value
                  + " is outside AWS's range "
                  + min
                  + "-"
                  + max
                  + " for network load balancers"));
    }
    return value;
  }

  private static boolean isPort(String text) {
    try {
      int p = Integer.parseInt(text);
      return p >= 1 && p <= 65535;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static List<String> list(String text) {
    if (text == null) {
      return List.of();
    }
    return Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  private static PlanViolation violation(String annotation, String problem) {
    return new PlanViolation("metadata.annotations[" + annotation + "]", problem);
  }
}
