package dev.ferry.sim;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.ProviderMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A provider whose cloud is {@link SimCloud}: one API call per operation (ensure, updateBackends,
 * ensureDeleted, find, inStep, listOwned). Load balancers live in the cloud's memory, keyed by the
 * Service UID, with an address derived from it. When {@code pace} is on, the provider keeps its own
 * copy of the cloud's buckets and waits for a token before each call, as the real providers' rate
 * limiters do, so the cloud never has to refuse it. It keeps a quarter second's refill (at least
 * one token) of each bucket in hand, which covers a call that reaches the cloud that much later
 * than it took its token.
 */
final class SimProvider implements LoadBalancerProvider {

  private record Balancer(LoadBalancerRef ref, LoadBalancerStatus status, List<Backend> backends) {}

  private static final Capabilities CAPABILITIES =
      Capabilities.builder()
          .protocols(Protocol.TCP, Protocol.UDP)
          .mixedProtocols(true)
          .sourceRanges(true)
          .build();

  /** How much lag between a token taken and its call at the cloud the pacing covers. */
  private static final double SPARE_SECONDS = 0.25;

  private final SimCloud cloud;
  private final Budget pacing;
  private final ProviderMetrics metrics;
  private final Map<String, Balancer> balancers = new ConcurrentHashMap<>();

  SimProvider(SimCloud cloud, Budget pacing, ProviderMetrics metrics) {
    this.cloud = cloud;
    this.pacing = pacing;
    this.metrics = metrics;
  }

  @Override
  public Capabilities capabilities() {
    return CAPABILITIES;
  }

  private void call(String method, Budget.Kind kind) throws ProviderException {
    if (pacing != null) {
      for (TokenBucket b : pacing.of(kind)) {
        b.take(Math.max(1, b.ratePerSecond() * SPARE_SECONDS));
      }
    }
    try {
      cloud.call(method, kind);
      metrics.increment("cloud_calls", Map.of("operation", method, "result", "ok"));
    } catch (SimCloud.ThrottledException e) {
      metrics.increment("cloud_calls", Map.of("operation", method, "result", "throttled"));
      throw new ProviderException.Throttled(e.getMessage(), Duration.ofSeconds(1), e);
    }
  }

  static String addressOf(String uid) {
    int h = uid.hashCode();
    return "10." + ((h >>> 16) & 0xff) + "." + ((h >>> 8) & 0xff) + "." + Math.max(1, h & 0xfe);
  }

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) throws ProviderException {
    call("find", Budget.Kind.READ);
    return Optional.ofNullable(balancers.get(ref.uid())).map(Balancer::status);
  }

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
    capabilities().requireSupported(plan);
    call("ensure", Budget.Kind.CREATE);
    LoadBalancerStatus status =
        LoadBalancerStatus.ofIp(addressOf(plan.ref().uid()), LoadBalancerStatus.IpMode.VIP);
    balancers.put(plan.ref().uid(), new Balancer(plan.ref(), status, plan.backends()));
    return status;
  }

  @Override
  public void updateBackends(LoadBalancerRef ref, List<Backend> backends) throws ProviderException {
    Balancer b = balancers.get(ref.uid());
    if (b == null) {
      throw new ProviderException.Transient("no load balancer for " + ref.serviceKey(), null);
    }
    call("updateBackends", Budget.Kind.BACKENDS);
    balancers.put(ref.uid(), new Balancer(ref, b.status(), List.copyOf(backends)));
  }

  @Override
  public Map<LoadBalancerRef, LoadBalancerStatus> inStep(List<LoadBalancerPlan> plans)
      throws ProviderException {
    call("inStep", Budget.Kind.READ); // one describe for many, as the AWS provider batches
    Map<LoadBalancerRef, LoadBalancerStatus> in = new java.util.HashMap<>();
    for (LoadBalancerPlan p : plans) {
      Balancer b = balancers.get(p.ref().uid());
      if (b != null && b.backends().equals(p.backends())) {
        in.put(p.ref(), b.status());
      }
    }
    return in;
  }

  @Override
  public void ensureDeleted(LoadBalancerRef ref) throws ProviderException {
    call("ensureDeleted", Budget.Kind.DELETE);
    balancers.remove(ref.uid());
  }

  @Override
  public List<LoadBalancerRef> listOwned(String clusterName) throws ProviderException {
    call("listOwned", Budget.Kind.READ);
    List<LoadBalancerRef> owned = new ArrayList<>();
    for (Balancer b : balancers.values()) {
      if (b.ref().cluster().equals(clusterName)) {
        owned.add(b.ref());
      }
    }
    return owned;
  }

  /** The port of the cloud's {@code /stats}, -1 when it has none. */
  int statsPort() {
    return cloud.statsPort();
  }

  @Override
  public void close() {
    cloud.close();
  }
}
