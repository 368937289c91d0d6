package dev.ferry.tck;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;

/**
 * The conformance kit's fixture: what a provider's test says (how to make a provider, its backends,
 * its cloud), the provider each case runs against, and the plans and refs the cases use. Extend
 * {@link ProviderConformanceKit}, which inherits this and every case.
 */
public abstract class KitFixture {

  /** A new provider instance over the same cloud; called again to simulate a restart. */
  protected abstract LoadBalancerProvider newProvider();

  /** The cloud, seen without the provider. */
  protected abstract CloudView cloud();

  /** {@code count} backends the provider can register (real instances, addresses, IDs). */
  protected abstract List<Backend> backends(int count);

  /**
   * {@code count} backends of another cluster: by default the same ones, which a cloud that lets
   * one VM serve many load balancers takes; a cloud that ties a VM to one load-balanced group
   * (Compute Engine) gives another cluster's own VMs. Since 1.2.
   */
  protected List<Backend> otherClusterBackends(int count) {
    return backends(count);
  }

  /**
   * {@code count} backends for the kit's dual-stack cases, each with an IPv4 and an IPv6 address
   * ({@link Backend#addresses()}); only asked of a provider that declares {@link
   * dev.ferry.spi.Capabilities#dualStack()}. By default {@link #backends}. Since 1.3.
   */
  protected List<Backend> dualStackBackends(int count) {
    return backends(count);
  }

  /** The cluster name the provider was made for. */
  protected String clusterName() {
    return "tck";
  }

  /** Service ports the kit uses; providers that bind real ports can move them. */
  protected int servicePort(int index) {
    return 18080 + index;
  }

  /** A hook for providers that need annotations (subnets, resource groups) in every plan. */
  protected LoadBalancerPlan customize(LoadBalancerPlan plan) {
    return plan;
  }

  /**
   * Counts the provider's mutating cloud calls; {@link #newProvider} wires it into every provider
   * instance it makes (see {@link CloudCalls}).
   */
  protected final CloudCalls cloudCalls = new CloudCalls();

  protected LoadBalancerProvider provider;
  private final List<LoadBalancerRef> made = new ArrayList<>();

  @BeforeEach
  void createProvider() {
    provider = newProvider();
  }

  @AfterEach
  void deleteWhatWasMade() throws Exception {
    cloudCalls.disarm();
    if (provider == null) {
      return; // set-up was skipped or failed; it made nothing
    }
    for (LoadBalancerRef ref : made) {
      provider.ensureDeleted(ref);
    }
    provider.close();
  }

  /** A fresh ref in this kit's cluster. */
  protected LoadBalancerRef newRef() {
    return newRef(clusterName());
  }

  protected LoadBalancerRef newRef(String cluster) {
    String uid = UUID.randomUUID().toString();
    LoadBalancerRef ref = new LoadBalancerRef(cluster, "tck", "svc-" + uid.substring(0, 8), uid);
    made.add(ref);
    return ref;
  }

  /** A fresh ref for a Service of {@code like}'s cluster, namespace and name (made again). */
  protected LoadBalancerRef newRef(LoadBalancerRef like) {
    LoadBalancerRef ref =
        new LoadBalancerRef(
            like.cluster(), like.namespace(), like.name(), UUID.randomUUID().toString());
    made.add(ref);
    return ref;
  }

  /** A TCP plan on one port with {@code backends}. */
  protected LoadBalancerPlan plan(
      LoadBalancerRef ref, List<Backend> backends, Listener... listeners) {
    List<Listener> ls =
        listeners.length == 0
            ? List.of(new Listener("http", Protocol.TCP, servicePort(0), 30080))
            : Arrays.asList(listeners);
    return customize(
        LoadBalancerPlan.builder(ref, ls, tcpCheck(Duration.ofSeconds(10)))
            .backends(backends)
            .tags(
                Map.of(
                    "ferry.dev/cluster",
                    ref.cluster(),
                    "ferry.dev/service",
                    ref.serviceKey(),
                    "ferry.dev/service-uid",
                    ref.uid()))
            .build());
  }

  /** A TCP check of each listener's NodePort every {@code interval}. */
  protected static HealthCheck tcpCheck(Duration interval) {
    return new HealthCheck(
        HealthCheck.Type.TCP, HealthCheck.TRAFFIC_PORT, "", interval, Duration.ofSeconds(5), 2, 3);
  }

  Set<String> names(List<Backend> backends) {
    Set<String> out = new HashSet<>();
    backends.forEach(b -> out.add(b.nodeName()));
    return out;
  }

  static Set<String> ports(Listener... listeners) {
    Set<String> out = new HashSet<>();
    for (Listener l : listeners) {
      out.add(l.protocol() + "/" + l.port());
    }
    return out;
  }

  void assumeCapable(boolean capable, String what) {
    Assumptions.assumeTrue(capable, "the provider does not declare " + what);
  }

  static Duration clamp(Duration d, Duration min, Duration max) {
    return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
  }
}
