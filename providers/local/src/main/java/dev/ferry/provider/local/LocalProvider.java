package dev.ferry.provider.local;

import dev.ferry.spi.AdoptionPreview;
import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.PlanDiff;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.RetainedAddress;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * An in-process L4 load balancer: real TCP and UDP proxies on addresses from a pool (127.0.0.0/8 by
 * default, which any Linux host routes to itself; IPv6 from a unique-local block made local on the
 * loopback, when the process may), active health checks, round-robin, ClientIP affinity and source
 * ranges per family. Status reports ipMode {@code Proxy}: clients' packets end here and new
 * connections go to the nodes.
 */
public final class LocalProvider implements LoadBalancerProvider {

  private final LocalCloud cloud;
  private final LocalSettings settings;
  private final ProviderEvents events;
  private final Capabilities capabilities;

  LocalProvider(LocalCloud cloud, LocalSettings settings, ProviderEvents events) {
    this.cloud = cloud;
    this.settings = settings;
    this.events = events;
    this.capabilities = capabilities(cloud.families());
  }

  /** What it serves: both families at once when its IPv6 pool can be made local. */
  static Capabilities capabilities(Set<IpFamily> families) {
    Capabilities.Builder b =
        Capabilities.builder()
            .protocols(Protocol.TCP, Protocol.UDP)
            .mixedProtocols(true)
            .maxListeners(100)
            .sourceRanges(true)
            .requestedIp(true)
            .internal(true)
            .clientIpAffinity(true)
            .retain(true)
            .sharedAddresses(true)
            .adopt(true)
            .healthCheckInterval(Duration.ofMillis(50), Duration.ofHours(1));
    if (families.contains(IpFamily.IPv6)) {
      b.ipFamilies(IpFamily.IPv4, IpFamily.IPv6).dualStack(true);
    }
    return b.build();
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) {
    return cloud.status(ref);
  }

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
    capabilities.requireSupported(plan);
    Optional<InetAddress> requested = Optional.empty();
    if (plan.requestedIp().isPresent()) {
      requested = Optional.of(requestedAddress(plan.requestedIp().get()));
    }
    try {
      for (LocalBalancer balancer : cloud.apply(plan, requested, settings)) {
        balancer
            .bindFailures()
            .forEach(
                (l, cause) ->
                    events.warning(plan.ref(), "BindFailed", bindFailed(balancer, l, cause)));
      }
      return cloud.status(plan.ref()).orElseThrow();
    } catch (IllegalArgumentException e) {
      throw new ProviderException.InvalidPlan(
          "spec.loadBalancerIP",
          e.getMessage()
              + " is taken or outside the local address pool "
              + cloud.pool(IpFamily.of(e.getMessage())).block()
              + "; choose a free address in it");
    } catch (IllegalStateException e) {
      throw new ProviderException.QuotaExceeded(e.getMessage(), e);
    }
  }

  private InetAddress requestedAddress(String ip) throws ProviderException.InvalidPlan {
    try {
      InetAddress address = InetAddress.getByName(ip); // a literal: the planner checked it
      AddressPool pool = cloud.pool(LocalCloud.family(address));
      if (pool == null || !pool.block().contains(address)) {
        throw new ProviderException.InvalidPlan(
            "spec.loadBalancerIP",
            ip
                + " is outside the local address pools ("
                + cloud.pool()
                + (cloud.pool(IpFamily.IPv6) == null
                    ? ""
                    : ", " + cloud.pool(IpFamily.IPv6).block())
                + "); choose an address in one");
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

  /**
   * Adopts one of {@code local.existing}'s load balancers by name; a Service's (another cluster's,
   * or another Service's) is refused, naming it.
   */
  @Override
  public AdoptionPreview previewAdoption(LoadBalancerPlan plan, String id)
      throws ProviderException {
    Optional<LocalBalancer> found = cloud.unmanaged(id);
    if (found.isEmpty()) {
      Optional<LocalBalancer> owned = cloud.byAddress(id);
      throw new ProviderException.InvalidPlan(
          "metadata.annotations[ferry.dev/adopt]",
          owned
              .map(
                  b ->
                      "'"
                          + id
                          + "' is Ferry's load balancer of "
                          + b.ref().serviceKey()
                          + " in cluster "
                          + b.ref().cluster()
                          + ", not one to adopt")
              .orElse(
                  "no load balancer '"
                      + id
                      + "' exists to adopt (the local provider's are named in the setting "
                      + ExistingBalancers.SETTING
                      + ")"));
    }
    LocalBalancer b = found.get();
    LoadBalancerPlan want = LocalCloud.project(plan, LocalCloud.family(b.address()));
    return new AdoptionPreview(Cidr.text(b.address()), PlanDiff.between(b.plan(), want));
  }

  @Override
  public void ensureRetained(LoadBalancerRef ref) {
    cloud.retain(ref);
  }

  @Override
  public List<RetainedAddress> listRetained(String clusterName) {
    return cloud.retained(clusterName);
  }

  @Override
  public void deleteRetained(String clusterName, String id) throws ProviderException {
    InetAddress address;
    try {
      if (!id.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
        throw new UnknownHostException(id); // a literal only: never a name lookup
      }
      address = InetAddress.getByName(id);
    } catch (UnknownHostException e) {
      throw new ProviderException.InvalidPlan("id", "'" + id + "' is not an IP address");
    }
    try {
      cloud.deleteRetained(clusterName, address);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new ProviderException.InvalidPlan("id", e.getMessage());
    }
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
        + Cidr.text(balancer.address())
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
