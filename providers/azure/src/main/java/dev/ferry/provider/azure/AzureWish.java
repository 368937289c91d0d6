package dev.ferry.provider.azure;

import com.azure.resourcemanager.network.fluent.models.ProbeInner;
import com.azure.resourcemanager.network.models.ProbeProtocol;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.PlanViolation;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.Scheme;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a plan wants on Azure, from its fields and cloud-provider-azure's annotations (their names
 * and ranges as upstream defines them). Pure: every problem is a {@link PlanViolation} naming the
 * field; an upstream annotation Ferry does not implement is named in {@link #ignored()} (a
 * Warning).
 *
 * @param requestedIp {@code spec.loadBalancerIP} or {@code azure-load-balancer-ipv4}
 * @param pipGroup where the Service's public IP is (Ferry's own, or the user's)
 * @param pipTags the user's tags for Ferry's public IP ({@code azure-pip-tags})
 * @param probe the probe, named; {@code sharedProbe} when it is kube-proxy's shared one
 * @param idleTimeout minutes (4 to 100, default 4)
 * @param tcpReset send TCP resets on idle timeout (upstream's default: true)
 * @param floatingIp packets keep the frontend address (true) or go to the node's NodePort (false)
 * @param serviceTags Azure service tags admitted besides the source ranges
 * @param ignored upstream annotations set on the Service that Ferry does not implement
 * @param requestedFromAnnotation the address was asked for by {@code azure-load-balancer-ipv4}
 */
record AzureWish(
    boolean internal,
    String subnet,
    String pipName,
    String pipGroup,
    boolean usersPip,
    Optional<String> requestedIp,
    String dnsLabel,
    String pipPrefix,
    Map<String, String> pipTags,
    ProbeInner probe,
    boolean sharedProbe,
    int idleTimeout,
    boolean tcpReset,
    boolean floatingIp,
    List<String> serviceTags,
    List<String> ignored,
    boolean requestedFromAnnotation) {

  static final String PREFIX = "service.beta.kubernetes.io/azure-";
  static final String INTERNAL = PREFIX + "load-balancer-internal";
  static final String INTERNAL_SUBNET = PREFIX + "load-balancer-internal-subnet";
  static final String PIP_NAME = PREFIX + "pip-name";
  static final String DNS_LABEL = PREFIX + "dns-label-name";
  static final String PIP_RESOURCE_GROUP = PREFIX + "load-balancer-resource-group";
  static final String PIP_PREFIX = PREFIX + "pip-prefix-id";
  static final String PIP_TAGS = PREFIX + "pip-tags";
  static final String IPV4 = PREFIX + "load-balancer-ipv4";
  static final String IPV6 = PREFIX + "load-balancer-ipv6";
  static final String PROBE_PROTOCOL = PREFIX + "load-balancer-health-probe-protocol";
  static final String PROBE_INTERVAL = PREFIX + "load-balancer-health-probe-interval";
  static final String PROBE_COUNT = PREFIX + "load-balancer-health-probe-num-of-probe";
  static final String PROBE_PATH = PREFIX + "load-balancer-health-probe-request-path";
  static final String IDLE_TIMEOUT = PREFIX + "load-balancer-tcp-idle-timeout";
  static final String DISABLE_TCP_RESET = PREFIX + "load-balancer-disable-tcp-reset";
  static final String DISABLE_FLOATING_IP = PREFIX + "disable-load-balancer-floating-ip";
  static final String SERVICE_TAGS = PREFIX + "allowed-service-tags";

  /** The upstream annotations Ferry implements; any other {@code azure-} one is reported. */
  static final Set<String> SUPPORTED =
      Set.of(
          INTERNAL,
          INTERNAL_SUBNET,
          PIP_NAME,
          DNS_LABEL,
          PIP_RESOURCE_GROUP,
          PIP_PREFIX,
          PIP_TAGS,
          IPV4,
          PROBE_PROTOCOL,
          PROBE_INTERVAL,
          PROBE_COUNT,
          PROBE_PATH,
          IDLE_TIMEOUT,
          DISABLE_TCP_RESET,
          DISABLE_FLOATING_IP,
          SERVICE_TAGS);

  private static final Pattern IPV4_ADDRESS =
      Pattern.compile("((25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1?\\d?\\d)");
  private static final Pattern SERVICE_TAG = Pattern.compile("[A-Za-z][A-Za-z0-9.]*");
  private static final Pattern PREFIX_ID =
      Pattern.compile(
          "(?i)/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.Network/publicIPPrefixes/[^/]+");

  static AzureWish of(LoadBalancerPlan plan, AzureSettings s) throws ProviderException.InvalidPlan {
    Map<String, String> a = plan.annotations();
    List<PlanViolation> problems = new ArrayList<>();
    boolean internal = flag(a, INTERNAL, plan.scheme() == Scheme.INTERNAL, problems);
    String subnet = a.getOrDefault(INTERNAL_SUBNET, s.subnet());
    if (a.containsKey(INTERNAL_SUBNET) && !internal) {
      problems.add(
          violation(
              INTERNAL_SUBNET,
              "a subnet is for internal load balancers only; set "
                  + INTERNAL
                  + ": \"true\" or remove it"));
    }
    if (internal && subnet.isEmpty()) {
      problems.add(
          violation(
              INTERNAL_SUBNET,
              "an internal load balancer needs a subnet: name one, or set the provider setting azure.subnet"));
    }
    String pipName = a.get(PIP_NAME);
    boolean users = pipName != null && !pipName.isBlank();
    if (plan.sharingKey().isPresent() && (internal || users)) {
      problems.add(
          new PlanViolation(
              "metadata.annotations[ferry.dev/allow-shared-ip]",
              "Ferry's Azure provider shares a public frontend of its own only: remove "
                  + (internal ? INTERNAL : PIP_NAME)
                  + " or the sharing key"));
    }
    if (!users) {
      pipName = AzureNames.frontend(plan);
    }
    String pipGroup = a.getOrDefault(PIP_RESOURCE_GROUP, s.resourceGroup()).trim();
    Optional<String> requested = requestedIp(plan, a, problems);
    String prefix = a.getOrDefault(PIP_PREFIX, "").trim();
    if (!prefix.isEmpty() && !PREFIX_ID.matcher(prefix).matches()) {
      problems.add(
          violation(PIP_PREFIX, "'" + prefix + "' is not the resource id of a public IP prefix"));
    }
    if (!prefix.isEmpty() && (users || requested.isPresent())) {
      problems.add(
          violation(
              PIP_PREFIX,
              "a prefix is for the public IP Ferry makes; it cannot go with a public IP of your own"));
    }
    Map<String, String> pipTags = tags(a.get(PIP_TAGS), problems);

    HealthCheck hc = plan.healthCheck();
    boolean kubeProxy =
        !hc.onTrafficPort()
            && hc.port() == 10256
            && hc.protocol() == HealthCheck.Type.HTTP
            && "/healthz".equals(hc.path());
    int interval = number(a, PROBE_INTERVAL, (int) hc.interval().toSeconds(), 5, 119, problems);
    int count = number(a, PROBE_COUNT, hc.unhealthyThreshold(), 2, 59, problems);
    if (interval * count >= 120) {
      // Azure: "The total duration of all intervals cannot exceed 120 seconds" (upstream refuses
      // it)
      problems.add(
          violation(
              a.containsKey(PROBE_INTERVAL) ? PROBE_INTERVAL : PROBE_COUNT,
              "the probe interval ("
                  + interval
                  + " s) times the failures that take a node out ("
                  + count
                  + ") must stay under 120 s"));
    }
    String probeProtocol = a.getOrDefault(PROBE_PROTOCOL, "").trim().toLowerCase(Locale.ROOT);
    if (!probeProtocol.isEmpty() && !Set.of("tcp", "http", "https").contains(probeProtocol)) {
      problems.add(violation(PROBE_PROTOCOL, "'" + probeProtocol + "' is not tcp, http or https"));
    }
    int idle = number(a, IDLE_TIMEOUT, 4, 4, 100, problems);
    boolean tcpReset = !flag(a, DISABLE_TCP_RESET, false, problems);
    boolean floating = !flag(a, DISABLE_FLOATING_IP, false, problems);
    List<String> serviceTags = serviceTags(a.get(SERVICE_TAGS), problems);
    if (!problems.isEmpty()) {
      throw new ProviderException.InvalidPlan(problems);
    }
    List<String> ignored = new ArrayList<>();
    for (String key : a.keySet()) {
      if ((key.startsWith(PREFIX) || key.startsWith("service.beta.kubernetes.io/port_"))
          && !SUPPORTED.contains(key)) {
        ignored.add(key);
      }
    }
    boolean local = !kubeProxy && !hc.onTrafficPort();
    if (local && !probeProtocol.isEmpty()) {
      ignored.add(
          PROBE_PROTOCOL + " (externalTrafficPolicy Local probes the health check node port)");
      probeProtocol = "";
    }

    ProbeInner probe = new ProbeInner().withIntervalInSeconds(interval).withProbeThreshold(count);
    String path = a.getOrDefault(PROBE_PATH, hc.path());
    int trafficPort = plan.listeners().get(0).nodePort();
    switch (probeProtocol) {
      case "tcp" -> probe.withProtocol(ProbeProtocol.TCP).withPort(trafficPort);
      case "http", "https" ->
          probe
              .withProtocol(probeProtocol.equals("http") ? ProbeProtocol.HTTP : ProbeProtocol.HTTPS)
              .withPort(trafficPort)
              .withRequestPath(a.getOrDefault(PROBE_PATH, "/"));
      default -> {
        if (hc.onTrafficPort()) {
          probe.withProtocol(ProbeProtocol.TCP).withPort(trafficPort);
        } else if (hc.protocol() == HealthCheck.Type.HTTP) {
          probe.withProtocol(ProbeProtocol.HTTP).withPort(hc.port()).withRequestPath(path);
        } else {
          probe.withProtocol(ProbeProtocol.TCP).withPort(hc.port());
        }
      }
    }
    boolean shared =
        kubeProxy
            && probeProtocol.isEmpty()
            && "/healthz".equals(path)
            && interval == AzureProvider.DEFAULTS.interval().toSeconds()
            && count == AzureProvider.DEFAULTS.unhealthyThreshold();
    probe.withName(shared ? AzureNames.SHARED_PROBE : AzureNames.probe(plan.ref()));
    return new AzureWish(
        internal,
        subnet,
        pipName,
        pipGroup,
        users,
        requested,
        a.get(DNS_LABEL),
        prefix,
        pipTags,
        probe,
        shared,
        idle,
        tcpReset,
        floating,
        serviceTags,
        List.copyOf(ignored),
        !a.getOrDefault(IPV4, "").isBlank());
  }

  private static Optional<String> requestedIp(
      LoadBalancerPlan plan, Map<String, String> a, List<PlanViolation> problems) {
    String v4 = a.getOrDefault(IPV4, "").trim();
    if (v4.isEmpty()) {
      return plan.requestedIp();
    }
    if (!IPV4_ADDRESS.matcher(v4).matches()) {
      problems.add(violation(IPV4, "'" + v4 + "' is not an IPv4 address"));
      return Optional.empty();
    }
    if (plan.requestedIp().isPresent() && !plan.requestedIp().get().equals(v4)) {
      problems.add(
          violation(
              IPV4,
              "asks for "
                  + v4
                  + " but spec.loadBalancerIP asks for "
                  + plan.requestedIp().get()
                  + "; keep one (the annotation replaces the deprecated field)"));
    }
    return Optional.of(v4);
  }

  private static Map<String, String> tags(String text, List<PlanViolation> problems) {
    Map<String, String> out = new LinkedHashMap<>();
    if (text == null || text.isBlank()) {
      return out;
    }
    for (String pair : text.split(",")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair.trim() : pair.substring(0, eq).trim();
      String value = eq < 0 ? "" : pair.substring(eq + 1).trim();
      // Azure: tag names up to 512 characters, values up to 256, no < > % & \ ? /
      if (key.isEmpty()
          || key.length() > 512
          || value.length() > 256
          || key.matches(".*[<>%&\\\\?/].*")
          || key.toLowerCase(Locale.ROOT).startsWith("ferry.dev")) {
        problems.add(
            violation(
                PIP_TAGS,
                "'"
                    + pair.trim()
                    + "' is not key=value with a key Azure allows (no < > % & \\ ? /, not"
                    + " ferry.dev…)"));
        continue;
      }
      out.put(key, value);
    }
    return out;
  }

  private static List<String> serviceTags(String text, List<PlanViolation> problems) {
    List<String> out = new ArrayList<>();
    if (text == null || text.isBlank()) {
      return out;
    }
    for (String tag : text.split(",")) {
      String t = tag.trim();
      if (!SERVICE_TAG.matcher(t).matches()) {
        problems.add(violation(SERVICE_TAGS, "'" + t + "' is not an Azure service tag name"));
      } else if (!out.contains(t)) {
        out.add(t);
      }
    }
    return out;
  }

  private static boolean flag(
      Map<String, String> a, String key, boolean fallback, List<PlanViolation> problems) {
    String text = a.get(key);
    if (text == null) {
      return fallback;
    }
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> {
        problems.add(violation(key, "'" + text + "' is neither true nor false"));
        yield fallback;
      }
    };
  }

  private static int number(
      Map<String, String> a, String key, int fallback, int min, int max, List<PlanViolation> out) {
    String text = a.get(key);
    if (text == null) {
      return fallback;
    }
    try {
      int v = Integer.parseInt(text.trim());
      if (v >= min && v <= max) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    out.add(violation(key, "'" + text + "' is not a whole number from " + min + " to " + max));
    return fallback;
  }

  /** Where the Service asked for its address: the annotation, or the deprecated field. */
  String requestedIpField() {
    return requestedFromAnnotation ? "metadata.annotations[" + IPV4 + "]" : "spec.loadBalancerIP";
  }

  static PlanViolation violation(String annotation, String problem) {
    return new PlanViolation("metadata.annotations[" + annotation + "]", problem);
  }
}
