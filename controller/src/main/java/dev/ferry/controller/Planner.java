package dev.ferry.controller;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.HealthCheckDefaults;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.IpFamilyPolicy;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.PlanViolation;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ReclaimPolicy;
import dev.ferry.spi.Scheme;
import dev.ferry.spi.SessionAffinity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Computes the desired load balancer for a Service. Pure: reads its arguments, touches nothing, and
 * answers either a plan or every reason the Service cannot have one, each naming the field to fix.
 */
final class Planner {

  static final String ANNOTATION_PREFIX = "ferry.dev/";
  static final String SCHEME = ANNOTATION_PREFIX + "load-balancer-scheme";
  static final String HC_INTERVAL = ANNOTATION_PREFIX + "health-check-interval";
  static final String HC_TIMEOUT = ANNOTATION_PREFIX + "health-check-timeout";
  static final String HC_HEALTHY = ANNOTATION_PREFIX + "health-check-healthy-threshold";
  static final String HC_UNHEALTHY = ANNOTATION_PREFIX + "health-check-unhealthy-threshold";
  static final String SOURCE_RANGES_ANNOTATION =
      "service.beta.kubernetes.io/load-balancer-source-ranges";

  /** {@code Delete} or {@code Retain}: what becomes of the address when the Service goes. */
  static final String RECLAIM_POLICY = ANNOTATION_PREFIX + "reclaim-policy";

  /** {@code "true"}: a Service gets the address retained for its namespace and name, if any. */
  static final String CLAIM_RETAINED = ANNOTATION_PREFIX + "claim-retained";

  static final String TAG_CLUSTER = "ferry.dev/cluster";
  static final String TAG_SERVICE = "ferry.dev/service";
  static final String TAG_UID = "ferry.dev/service-uid";

  static final Duration DEFAULT_AFFINITY_TIMEOUT = Duration.ofSeconds(10800);

  /** kube-proxy's health endpoint on every node ({@code --healthz-bind-address}). */
  static final int KUBE_PROXY_HEALTH_PORT = 10256;

  /** What the planner needs besides the Service and nodes. */
  /**
   * @param clusterName the cluster's name in the cloud
   * @param healthCheckDefaults the provider's health-check timings for a Service that sets none;
   *     empty for Ferry's own (10 s, 5 s, 2, and 3 unhealthy, 2 for the Local policy)
   * @param localHealthCheckDefaults the same for an {@code externalTrafficPolicy: Local} Service
   * @param reclaimPolicy a Service's {@value #RECLAIM_POLICY} when it has none ({@code
   *     --reclaim-policy})
   */
  record Settings(
      String clusterName,
      Optional<HealthCheckDefaults> healthCheckDefaults,
      Optional<HealthCheckDefaults> localHealthCheckDefaults,
      ReclaimPolicy reclaimPolicy) {
    Settings(String clusterName) {
      this(clusterName, Optional.empty(), Optional.empty());
    }

    Settings(
        String clusterName,
        Optional<HealthCheckDefaults> healthCheckDefaults,
        Optional<HealthCheckDefaults> localHealthCheckDefaults) {
      this(clusterName, healthCheckDefaults, localHealthCheckDefaults, ReclaimPolicy.Delete);
    }

    Settings(String clusterName, Optional<HealthCheckDefaults> healthCheckDefaults) {
      this(clusterName, healthCheckDefaults, healthCheckDefaults);
    }
  }

  /** The planner's answer. */
  sealed interface Result permits Planned, Rejected {}

  record Planned(LoadBalancerPlan plan) implements Result {}

  record Rejected(List<PlanViolation> violations) implements Result {
    Rejected {
      violations = List.copyOf(violations);
    }
  }

  private Planner() {}

  /** The plan for {@code service} over every one of {@code backends} (nodes' labels unknown). */
  static Result plan(Service service, List<Backend> backends, Settings settings) {
    return plan(service, backends, Map.of(), settings);
  }

  /**
   * The plan for {@code service}: over {@code backends}, or over those whose node has every label
   * the Service's {@value #TARGET_NODE_LABELS} annotation names ({@code key=value}, or {@code key}
   * for any value), as upstream does.
   */
  static Result plan(
      Service service,
      List<Backend> allBackends,
      Map<String, Map<String, String>> nodeLabels,
      Settings settings) {
    List<PlanViolation> violations = new ArrayList<>();
    ServiceSpec spec = service.getSpec();
    Map<String, String> annotations =
        service.getMetadata().getAnnotations() == null
            ? Map.of()
            : service.getMetadata().getAnnotations();

    List<Listener> listeners = listeners(spec, violations);
    List<Backend> backends = byLabels(allBackends, nodeLabels, annotations, violations);
    boolean local = "Local".equals(spec.getExternalTrafficPolicy());
    HealthCheck healthCheck =
        HealthCheckPlanner.plan(
            spec,
            local,
            annotations,
            local ? settings.localHealthCheckDefaults() : settings.healthCheckDefaults(),
            violations);
    List<String> sourceRanges = sourceRanges(spec, annotations, violations);
    Optional<String> requestedIp = requestedIp(spec, violations);
    SessionAffinity affinity = affinity(spec);
    Scheme scheme = scheme(annotations, violations);
    ReclaimPolicy reclaim = reclaimPolicy(annotations, settings, violations);
    String sharing = annotations.get(SharedAddresses.KEY);
    if (sharing != null && !SharedAddresses.valid(sharing)) {
      violations.add(
          new PlanViolation(
              "metadata.annotations[" + SharedAddresses.KEY + "]",
              "'" + sharing + "' is not a sharing key: 1 to 63 letters, digits, '.', '_' or '-'"));
    }
    claimRetained(annotations, violations);

    if (!violations.isEmpty() || healthCheck == null) {
      return new Rejected(violations);
    }
    LoadBalancerRef ref = ref(service, settings);
    Map<String, String> tags =
        Map.of(
            TAG_CLUSTER, ref.cluster(),
            TAG_SERVICE, ref.serviceKey(),
            TAG_UID, ref.uid());
    return new Planned(
        LoadBalancerPlan.builder(ref, listeners, healthCheck)
            .scheme(scheme)
            .backends(backends)
            .sourceRanges(sourceRanges.isEmpty() ? null : sourceRanges)
            .requestedIp(requestedIp)
            .affinity(affinity)
            .annotations(annotations)
            .tags(tags)
            .ipFamilies(ipFamilies(spec))
            .ipFamilyPolicy(ipFamilyPolicy(spec))
            .reclaimPolicy(reclaim)
            .sharingKey(Optional.ofNullable(sharing))
            .build());
  }

  /**
   * The Service's reclaim policy: its {@value #RECLAIM_POLICY} annotation, else the controller's
   * default. At deletion an invalid value (which kept the Service from being planned) counts as the
   * default.
   */
  static ReclaimPolicy reclaimPolicy(Service service, Settings settings) {
    Map<String, String> annotations = service.getMetadata().getAnnotations();
    return reclaimPolicy(annotations == null ? Map.of() : annotations, settings, new ArrayList<>());
  }

  private static ReclaimPolicy reclaimPolicy(
      Map<String, String> annotations, Settings settings, List<PlanViolation> violations) {
    String value = annotations.get(RECLAIM_POLICY);
    if (value == null) {
      return settings.reclaimPolicy();
    }
    for (ReclaimPolicy p : ReclaimPolicy.values()) {
      if (p.name().equalsIgnoreCase(value.trim())) {
        return p;
      }
    }
    violations.add(
        new PlanViolation(
            "metadata.annotations[" + RECLAIM_POLICY + "]",
            "'" + value + "' is neither Delete nor Retain"));
    return settings.reclaimPolicy();
  }

  /** Whether the Service asks for the address retained for its name ({@value #CLAIM_RETAINED}). */
  static boolean claimRetained(Map<String, String> annotations, List<PlanViolation> violations) {
    String value = annotations.get(CLAIM_RETAINED);
    if (value == null || value.equalsIgnoreCase("false")) {
      return false;
    }
    if (value.equalsIgnoreCase("true")) {
      return true;
    }
    violations.add(
        new PlanViolation(
            "metadata.annotations[" + CLAIM_RETAINED + "]",
            "'" + value + "' is neither true nor false"));
    return false;
  }

  /**
   * The backends {@link #plan} gives {@code service} over {@code allBackends}, or null when its
   * {@value #TARGET_NODE_LABELS} annotation is invalid (planning rejects it).
   */
  static List<Backend> backends(
      Service service, List<Backend> allBackends, Map<String, Map<String, String>> nodeLabels) {
    Map<String, String> annotations = service.getMetadata().getAnnotations();
    List<PlanViolation> violations = new ArrayList<>();
    List<Backend> backends =
        byLabels(allBackends, nodeLabels, annotations == null ? Map.of() : annotations, violations);
    return violations.isEmpty() ? backends : null;
  }

  static final String TARGET_NODE_LABELS =
      "service.beta.kubernetes.io/aws-load-balancer-target-node-labels";

  /** True when {@code service} names the node labels its backends must have. */
  static boolean picksNodesByLabel(Service service) {
    Map<String, String> a = service.getMetadata().getAnnotations();
    return a != null && a.get(TARGET_NODE_LABELS) != null && !a.get(TARGET_NODE_LABELS).isBlank();
  }

  private static List<Backend> byLabels(
      List<Backend> backends,
      Map<String, Map<String, String>> nodeLabels,
      Map<String, String> annotations,
      List<PlanViolation> violations) {
    String wanted = annotations.get(TARGET_NODE_LABELS);
    if (wanted == null || wanted.isBlank()) {
      return backends;
    }
    Map<String, String> selector = new java.util.LinkedHashMap<>();
    for (String pair : wanted.split(",")) {
      String p = pair.trim();
      int eq = p.indexOf('=');
      String key = eq < 0 ? p : p.substring(0, eq).trim();
      if (key.isEmpty()) {
        violations.add(
            new PlanViolation(
                "metadata.annotations[" + TARGET_NODE_LABELS + "]",
                "'" + pair + "' is not key=value or key; list node labels such as role=edge"));
        continue;
      }
      selector.put(key, eq < 0 ? null : p.substring(eq + 1).trim());
    }
    return backends.stream()
        .filter(
            b -> {
              Map<String, String> labels = nodeLabels.getOrDefault(b.nodeName(), Map.of());
              return selector.entrySet().stream()
                  .allMatch(
                      e ->
                          labels.containsKey(e.getKey())
                              && (e.getValue() == null
                                  || e.getValue().equals(labels.get(e.getKey()))));
            })
        .toList();
  }

  /** {@code spec.ipFamilyPolicy} (the API server defaults it), SingleStack when absent. */
  private static IpFamilyPolicy ipFamilyPolicy(ServiceSpec spec) {
    String policy = spec.getIpFamilyPolicy();
    for (IpFamilyPolicy p : IpFamilyPolicy.values()) {
      if (p.name().equals(policy)) {
        return p;
      }
    }
    return IpFamilyPolicy.SingleStack;
  }

  /** {@code spec.ipFamilies} (the API server validates and defaults it), IPv4 when absent. */
  private static List<IpFamily> ipFamilies(ServiceSpec spec) {
    List<String> given = spec.getIpFamilies() == null ? List.of() : spec.getIpFamilies();
    List<IpFamily> families = new ArrayList<>();
    for (String family : given) {
      families.add("IPv6".equals(family) ? IpFamily.IPv6 : IpFamily.IPv4);
    }
    return families.isEmpty() ? List.of(IpFamily.IPv4) : families;
  }

  /**
   * The load balancer's name for {@code service}: cluster, namespace, name and UID. The cluster is
   * the one recorded on the Service when Ferry took it, so a later {@code --cluster-name} change
   * still finds its resources.
   */
  static LoadBalancerRef ref(Service service, Settings settings) {
    String recorded = ServiceClassifier.ownerCluster(service);
    return new LoadBalancerRef(
        recorded != null ? recorded : settings.clusterName(),
        service.getMetadata().getNamespace(),
        service.getMetadata().getName(),
        service.getMetadata().getUid());
  }

  private static List<Listener> listeners(ServiceSpec spec, List<PlanViolation> violations) {
    List<ServicePort> ports = spec.getPorts() == null ? List.of() : spec.getPorts();
    if (ports.isEmpty()) {
      violations.add(
          new PlanViolation("spec.ports", "a LoadBalancer Service needs at least one port"));
    }
    List<Listener> listeners = new ArrayList<>();
    for (int i = 0; i < ports.size(); i++) {
      ServicePort p = ports.get(i);
      String at = "spec.ports[" + i + "]";
      Protocol protocol = protocol(p.getProtocol());
      if (protocol == null) {
        violations.add(
            new PlanViolation(
                at + ".protocol",
                "'" + p.getProtocol() + "' is not a protocol; use TCP, UDP or SCTP"));
      }
      int port = p.getPort() == null ? 0 : p.getPort();
      if (port < 1 || port > 65535) {
        violations.add(new PlanViolation(at + ".port", port + " is outside 1-65535"));
      }
      int nodePort = p.getNodePort() == null ? 0 : p.getNodePort();
      if (nodePort < 1 || nodePort > 65535) {
        violations.add(
            new PlanViolation(at + ".nodePort", "no NodePort is allocated for this port yet"));
      }
      if (violations.isEmpty()) {
        listeners.add(new Listener(p.getName(), protocol, port, nodePort));
      }
    }
    return listeners;
  }

  private static Protocol protocol(String text) {
    if (text == null || text.isEmpty()) {
      return Protocol.TCP;
    }
    return Arrays.stream(Protocol.values())
        .filter(p -> p.name().equals(text))
        .findFirst()
        .orElse(null);
  }

  private static List<String> sourceRanges(
      ServiceSpec spec, Map<String, String> annotations, List<PlanViolation> violations) {
    List<String> ranges;
    String field;
    if (spec.getLoadBalancerSourceRanges() != null
        && !spec.getLoadBalancerSourceRanges().isEmpty()) {
      ranges = spec.getLoadBalancerSourceRanges().stream().map(String::trim).toList();
      field = "spec.loadBalancerSourceRanges";
    } else if (annotations.containsKey(SOURCE_RANGES_ANNOTATION)) {
      ranges =
          Arrays.stream(annotations.get(SOURCE_RANGES_ANNOTATION).split(","))
              .map(String::trim)
              .filter(s -> !s.isEmpty())
              .toList();
      field = "metadata.annotations[" + SOURCE_RANGES_ANNOTATION + "]";
    } else {
      return List.of(); // every client of each family the Service has
    }
    List<String> normalised = new ArrayList<>();
    for (String range : ranges) {
      String cidr = IpLiterals.cidr(range);
      if (cidr == null) {
        violations.add(
            new PlanViolation(field, "'" + range + "' is not a CIDR such as 203.0.113.0/24"));
      } else if (!normalised.contains(cidr)) {
        normalised.add(cidr);
      }
    }
    return List.copyOf(normalised);
  }

  private static Optional<String> requestedIp(ServiceSpec spec, List<PlanViolation> violations) {
    String ip = spec.getLoadBalancerIP();
    if (ip == null || ip.isBlank()) {
      return Optional.empty();
    }
    if (!IpLiterals.isIpLiteral(ip.trim())) {
      violations.add(new PlanViolation("spec.loadBalancerIP", "'" + ip + "' is not an IP address"));
    }
    return Optional.of(ip.trim());
  }

  private static SessionAffinity affinity(ServiceSpec spec) {
    if (!"ClientIP".equals(spec.getSessionAffinity())) {
      return SessionAffinity.NONE;
    }
    Integer seconds = null;
    if (spec.getSessionAffinityConfig() != null
        && spec.getSessionAffinityConfig().getClientIP() != null) {
      seconds = spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds();
    }
    return SessionAffinity.clientIp(
        seconds == null ? DEFAULT_AFFINITY_TIMEOUT : Duration.ofSeconds(seconds));
  }

  private static Scheme scheme(Map<String, String> annotations, List<PlanViolation> violations) {
    String value = annotations.get(SCHEME);
    if (value == null || value.equalsIgnoreCase("external")) {
      return Scheme.EXTERNAL;
    }
    if (value.equalsIgnoreCase("internal")) {
      return Scheme.INTERNAL;
    }
    violations.add(
        new PlanViolation(
            "metadata.annotations[" + SCHEME + "]",
            "'" + value + "' is neither external nor internal"));
    return Scheme.EXTERNAL;
  }
}
