package dev.ferry.controller;

import dev.ferry.spi.ReclaimPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * How the controller core behaves; the process's flags feed it, and it is checked once, here.
 *
 * @param clusterName names this cluster in every cloud resource's tags
 * @param loadBalancerClass the {@code spec.loadBalancerClass} Ferry answers to
 * @param handleDefaultClass whether Services without a class are Ferry's too
 * @param nodePortRange the range Ferry allocates missing NodePorts from
 * @param workers how many provider calls are in the cloud at once; twice as many Services are
 *     reconciled at once, so that their Kubernetes writes do not keep the cloud waiting
 * @param nodeSyncDelay how long node changes are gathered before backends are updated
 * @param providerTimeout the deadline of one provider call; an overrunning call is abandoned
 * @param resyncPeriod how often every load balancer is checked against its plan (jittered ±10 %)
 * @param owner names this deployment on the Services it takes (its Lease, {@code namespace/name})
 * @param reclaimPolicy what becomes of a Service's address when it goes, unless its {@code
 *     ferry.dev/reclaim-policy} annotation says
 */
public record ControllerSettings(
    String clusterName,
    String loadBalancerClass,
    boolean handleDefaultClass,
    PortRange nodePortRange,
    int workers,
    Duration nodeSyncDelay,
    Duration providerTimeout,
    Duration resyncPeriod,
    String owner,
    ReclaimPolicy reclaimPolicy) {

  /** A provider call longer than this is abandoned unless {@code --provider-timeout} says. */
  public static final Duration DEFAULT_PROVIDER_TIMEOUT = Duration.ofMinutes(3);

  public static final Duration DEFAULT_RESYNC_PERIOD = Duration.ofMinutes(10);

  public static final String DEFAULT_CLASS = "ferry.dev/lb";

  public ControllerSettings {
    if (clusterName == null || !clusterName.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
      throw new IllegalArgumentException(
          "cluster name '"
              + clusterName
              + "' must be a DNS label: lower-case letters, digits, '-'; at most 63");
    }
    if (loadBalancerClass == null || loadBalancerClass.isBlank()) {
      throw new IllegalArgumentException("load balancer class must not be blank");
    }
    Objects.requireNonNull(nodePortRange, "nodePortRange");
    if (workers < 1 || workers > 64) {
      throw new IllegalArgumentException("workers must be from 1 to 64, not " + workers);
    }
    if (nodeSyncDelay == null || nodeSyncDelay.isNegative()) {
      throw new IllegalArgumentException("node sync delay must not be negative");
    }
    if (providerTimeout == null || providerTimeout.isNegative() || providerTimeout.isZero()) {
      throw new IllegalArgumentException("--provider-timeout must be positive");
    }
    if (resyncPeriod == null || resyncPeriod.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("--resync-period must be at least 1s");
    }
    if (owner == null || owner.isBlank()) {
      throw new IllegalArgumentException("the deployment's owner name must not be blank");
    }
    Objects.requireNonNull(reclaimPolicy, "reclaimPolicy");
  }

  /** The settings an operator gets without flags, for {@code clusterName}. */
  public static ControllerSettings defaults(String clusterName) {
    return new ControllerSettings(
        clusterName,
        DEFAULT_CLASS,
        true,
        PortRange.DEFAULT,
        2,
        Duration.ZERO,
        DEFAULT_PROVIDER_TIMEOUT,
        DEFAULT_RESYNC_PERIOD,
        "default/ferry-controller",
        ReclaimPolicy.Delete);
  }

  public ControllerSettings withNodeSyncDelay(Duration d) {
    return with(d, workers, providerTimeout, resyncPeriod, reclaimPolicy);
  }

  public ControllerSettings withWorkers(int n) {
    return with(nodeSyncDelay, n, providerTimeout, resyncPeriod, reclaimPolicy);
  }

  public ControllerSettings withProviderTimeout(Duration d) {
    return with(nodeSyncDelay, workers, d, resyncPeriod, reclaimPolicy);
  }

  public ControllerSettings withReclaimPolicy(ReclaimPolicy p) {
    return with(nodeSyncDelay, workers, providerTimeout, resyncPeriod, p);
  }

  public ControllerSettings withResyncPeriod(Duration d) {
    return with(nodeSyncDelay, workers, providerTimeout, d, reclaimPolicy);
  }

  /** These settings with the fields the withers change set to these values. */
  private ControllerSettings with(
      Duration delay, int n, Duration timeout, Duration resync, ReclaimPolicy policy) {
    return new ControllerSettings(
        clusterName,
        loadBalancerClass,
        handleDefaultClass,
        nodePortRange,
        n,
        delay,
        timeout,
        resync,
        owner,
        policy);
  }
}
