package dev.ferry.provider.local;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * An in-process L4 load balancer: real TCP and UDP proxies on addresses from a pool (127.0.0.0/8 by
 * default, which any Linux host routes to itself), active health checks, round-robin, ClientIP
 * affinity and source ranges. Status reports ipMode {@code Proxy}: clients' packets end here and
 * new connections go to the nodes.
 */
public final class LocalProvider implements LoadBalancerProvider {

  static final Capabilities CAPABILITIES =
      Capabilities.builder()
          .protocols(Protocol.TCP, Protocol.UDP)
          .mixedProtocols(true)
          .maxListeners(100)
          .sourceRanges(true)
          .requestedIp(true)
          .internal(true)
          .clientIpAffinity(true)
          .healthCheckInterval(Duration.ofMillis(50), Duration.ofHours(1))
          .build();

  private final LocalCloud cloud;
  private final LocalSettings settings;
  private final ProviderEvents events;

  LocalProvider(LocalCloud cloud, LocalSettings settings, ProviderEvents events) {
    this.cloud = cloud;
    this.settings = settings;
    this.events = events;
  }

  @Override
  public Capabilities capabilities() {
    return CAPABILITIES;
  }

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) {
    return cloud.get(ref).map(LocalBalancer::status);
  }

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
    CAPABILITIES.requireSupported(plan);
    Optional<InetAddress> requested = Optional.empty();
    if (plan.requestedIp().isPresent()) {
      requested = Optional.of(requestedAddress(plan.requestedIp().get()));
    }
    try {
      LocalBalancer balancer = cloud.apply(plan, requested, settings);
      balancer
          .bindFailures()
          .forEach(
              (l, cause) ->
                  events.warning(plan.ref(), "BindFailed", bindFailed(balancer, l, cause)));
      return balancer.status();
    } catch (IllegalArgumentException e) {
      throw new ProviderException.InvalidPlan(
          "spec.loadBalancerIP",
          e.getMessage()
              + " is taken or outside the local address pool "
              + cloud.pool()
              + "; choose a free address in it");
    } catch (IllegalStateException e) {
      throw new ProviderException.QuotaExceeded(e.getMessage(), e);
    }
  }

  private InetAddress requestedAddress(String ip) throws ProviderException.InvalidPlan {
    try {
      InetAddress address = InetAddress.getByName(ip); // a literal: the planner checked it
      if (!cloud.pool().contains(address)) {
        throw new ProviderException.InvalidPlan(
            "spec.loadBalancerIP",
            ip
                + " is outside the local address pool "
                + cloud.pool()
                + "; choose an address in it");
      }
      return address;
    } catch (UnknownHostException e) {
      throw new ProviderException.InvalidPlan(
          "spec.loadBalancerIP", "'" + ip + "' is not an IP address");
    }
  }

  @Override
  public void updateBackends(LoadBalancerRef ref, List<Backend> backends) throws ProviderException {
    if (!cloud.updateBackends(ref, backends)) {
      throw new ProviderException.Transient("no load balancer for " + ref.serviceKey(), null);
    }
  }

  @Override
  public void ensureDeleted(LoadBalancerRef ref) {
    cloud.remove(ref);
  }

  @Override
  public List<LoadBalancerRef> listOwned(String clusterName) {
    return cloud.refs().stream().filter(r -> r.cluster().equals(clusterName)).toList();
  }

  /**
   * The backends of {@code ref}'s load balancer that pass their health checks (for tests, tools).
   */
  public List<String> healthyBackends(LoadBalancerRef ref) {
    return cloud.get(ref).map(LocalBalancer::healthyBackends).orElse(List.of());
  }

  private static String bindFailed(LocalBalancer balancer, Listener l, String cause) {
    return "cannot listen on "
        + balancer.address().getHostAddress()
        + ":"
        + l.port()
        + "/"
        + l.protocol()
        + ": "
        + cause
        + (l.port() < 1024
            ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE in Ferry's process)"
            : "")
        + "; status.loadBalancer.ingress[].ports[] says "
        + LocalBalancer.BIND_FAILED
        + " for it, the other ports are served, and the next sync tries again";
  }
}
