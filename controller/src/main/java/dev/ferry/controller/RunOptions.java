package dev.ferry.controller;

import dev.ferry.spi.ReclaimPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options of {@code ferry run}, a picocli mixin so other launchers can reuse them. */
public final class RunOptions {

  @Option(
      names = "--kubeconfig",
      description =
          "Kubeconfig file; default: in-cluster config, else $KUBECONFIG or ~/.kube/config.")
  public Path kubeconfig;

  @Option(
      names = "--provider",
      defaultValue = "local",
      description = "Provider name (default: ${DEFAULT-VALUE}).")
  public String provider;

  @Option(
      names = "--plugin-path",
      paramLabel = "DIR",
      defaultValue = "${env:FERRY_PLUGIN_PATH}",
      split = ":",
      description =
          "Directories of provider plugins: each directory (or jar) below one is a plugin, loaded"
              + " in a class loader of its own (default: $FERRY_PLUGIN_PATH).")
  public List<Path> pluginPath = new ArrayList<>();

  @Option(
      names = "--provider-setting",
      paramLabel = "KEY=VALUE",
      description = "A provider setting; repeatable.")
  public Map<String, String> providerSettings = new LinkedHashMap<>();

  @Option(
      names = "--load-balancer-class",
      defaultValue = ControllerSettings.DEFAULT_CLASS,
      description = "The loadBalancerClass Ferry answers to (default: ${DEFAULT-VALUE}).")
  public String loadBalancerClass;

  @Option(
      names = "--handle-default-class",
      defaultValue = "true",
      negatable = true,
      fallbackValue = "true",
      description = "Also handle Services without a loadBalancerClass (default: ${DEFAULT-VALUE}).")
  public boolean handleDefaultClass;

  @Option(
      names = "--node-port-range",
      defaultValue = "30000-32767",
      description = "Range for NodePorts Ferry fills in (default: ${DEFAULT-VALUE}).")
  public String nodePortRange;

  @Option(
      names = "--workers",
      defaultValue = "2",
      description =
          "Provider calls in the cloud at once; twice as many Services are reconciled at once"
              + " (default: ${DEFAULT-VALUE}).")
  public int workers;

  @Option(
      names = "--cluster-name",
      defaultValue = "kubernetes",
      description = "Names this cluster in cloud resource tags (default: ${DEFAULT-VALUE}).")
  public String clusterName;

  @Option(
      names = "--metrics-port",
      defaultValue = "10262",
      description =
          "Port for /metrics, /healthz, /readyz; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  public int metricsPort;

  @Option(
      names = "--metrics-address",
      defaultValue = "0.0.0.0",
      description = "Address the metrics server binds (default: ${DEFAULT-VALUE}).")
  public String metricsAddress;

  @Option(
      names = "--leader-elect",
      defaultValue = "true",
      negatable = true,
      fallbackValue = "true",
      description = "Elect a leader on a Lease before reconciling (default: ${DEFAULT-VALUE}).")
  public boolean leaderElect;

  @Option(
      names = "--lease-namespace",
      description = "Namespace of the leader Lease (default: the pod's namespace, else 'default').")
  public String leaseNamespace;

  @Option(
      names = "--lease-name",
      defaultValue = "ferry-controller",
      description = "Name of the leader Lease (default: ${DEFAULT-VALUE}).")
  public String leaseName;

  @Option(
      names = "--lease-duration",
      defaultValue = "15s",
      description = "How long a lease holds without renewal (default: ${DEFAULT-VALUE}).")
  public String leaseDuration;

  @Option(
      names = "--provider-timeout",
      defaultValue = "3m",
      description =
          "Deadline of one provider call; a call that overruns it is abandoned and retried later"
              + " (default: ${DEFAULT-VALUE}).")
  public String providerTimeout;

  /**
   * @param owner names this deployment on the Services it takes: its Lease, {@code namespace/name}
   */
  @Option(
      names = "--resync-period",
      defaultValue = "10m",
      description =
          "How often every load balancer is checked against its Service (read-only unless it"
              + " drifted) and its status rewritten if it differs (default: ${DEFAULT-VALUE}).")
  public String resyncPeriod;

  @Option(
      names = "--reclaim-policy",
      defaultValue = "Delete",
      description =
          "What becomes of a Service's address when the Service is deleted or stops being a load"
              + " balancer, unless its ferry.dev/reclaim-policy annotation says: Delete, or Retain"
              + " (kept for the Service's namespace and name; see ferry gc) (default:"
              + " ${DEFAULT-VALUE}).")
  public ReclaimPolicy reclaimPolicy = ReclaimPolicy.Delete;

  ControllerSettings controllerSettings(String owner) {
    return new ControllerSettings(
        clusterName,
        loadBalancerClass,
        handleDefaultClass,
        PortRange.parse(nodePortRange),
        workers,
        Duration.ZERO, // node changes: at once; those that come while a sync is pending join it
        parseDuration(providerTimeout, "--provider-timeout"),
        parseDuration(resyncPeriod, "--resync-period"),
        owner,
        reclaimPolicy);
  }

  /** A duration as the options spell it: {@code 500ms}, {@code 15s}, {@code 10m}. */
  public static Duration parseDuration(String text, String option) {
    String t = text.trim().toLowerCase(java.util.Locale.ROOT);
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
      }
      if (t.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(option + " '" + text + "' is not a duration such as 15s");
  }
}
