package dev.ferry.provider.local;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One live load balancer: an address, a bound port per listener, the backends with their health
 * checks, source ranges and affinity. {@link #apply} changes it in place: listeners that stay keep
 * their connections.
 */
final class LocalBalancer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LocalBalancer.class);

  private volatile LoadBalancerRef ref;
  private final InetAddress address;
  private final LocalSettings settings;
  private final BackendPool pool = new BackendPool();
  private final HealthChecker health;
  private final Map<Listener, L4Proxy> listeners = new LinkedHashMap<>();

  /** The per-port error of a listener that could not be bound. */
  static final String BIND_FAILED = "ferry.dev/BindFailed";

  // the listeners that could not be bound, with the system's reason (the status says BIND_FAILED
  // for each; the provider's Warning event gives the reason)
  private final Map<Listener, String> bindFailures = new LinkedHashMap<>();
  private final ScheduledFuture<?> flowReaper;
  private volatile List<Cidr> sourceRanges = List.of();
  private volatile LoadBalancerPlan plan;

  LocalBalancer(
      LoadBalancerRef ref,
      InetAddress address,
      LocalSettings settings,
      ScheduledExecutorService timer) {
    this.ref = ref;
    this.address = address;
    this.settings = settings;
    this.health = new HealthChecker(ref.serviceKey(), pool, () -> plan.listeners(), timer);
    long reap = Math.max(1, settings.udpIdleTimeout().toMillis() / 2);
    this.flowReaper =
        timer.scheduleWithFixedDelay(this::expireFlows, reap, reap, TimeUnit.MILLISECONDS);
  }

  LoadBalancerRef ref() {
    return ref;
  }

  /** Hands this load balancer, serving as it is, to {@code owner} (adopted, or given back). */
  void handTo(LoadBalancerRef owner) {
    ref = owner;
  }

  InetAddress address() {
    return address;
  }

  LoadBalancerPlan plan() {
    return plan;
  }

  List<Backend> backends() {
    return pool.members().stream().map(BackendPool.Member::backend).toList();
  }

  /** The listeners bound now. */
  synchronized Set<Listener> boundListeners() {
    return Set.copyOf(listeners.keySet());
  }

  /**
   * Brings this load balancer in line with {@code next}; false when it already was (and every
   * listener is bound).
   */
  synchronized boolean apply(LoadBalancerPlan next) {
    if (plan != null
        && bindFailures.isEmpty()
        && plan.withCurrentAddresses(List.of()).equals(next.withCurrentAddresses(List.of()))) {
      return false;
    }
    sourceRanges = next.sourceRanges().stream().map(Cidr::parse).toList();
    pool.affinity(next.affinity());
    pool.replace(next.backends());
    plan = next;
    health.configure(next.healthCheck());
    // a listener that only got another name keeps its socket (an adopted load balancer's
    // connections go on); close listeners no longer wanted, then open the missing ones
    for (Listener l : next.listeners()) {
      Listener same =
          listeners.keySet().stream()
              .filter(
                  o ->
                      !o.equals(l)
                          && o.protocol() == l.protocol()
                          && o.port() == l.port()
                          && o.nodePort() == l.nodePort())
              .findFirst()
              .orElse(null);
      if (same != null && !listeners.containsKey(l)) {
        listeners.put(l, listeners.remove(same));
      }
    }
    listeners
        .entrySet()
        .removeIf(
            e -> {
              if (!next.listeners().contains(e.getKey())) {
                e.getValue().close();
                return true;
              }
              return false;
            });
    bindFailures.keySet().retainAll(next.listeners());
    for (Listener l : next.listeners()) {
      if (listeners.containsKey(l)) {
        continue;
      }
      try {
        listeners.put(l, open(l));
        bindFailures.remove(l);
      } catch (IOException e) {
        log.warn(
            "{}: cannot listen on {}:{}/{}: {}",
            ref.serviceKey(),
            Cidr.text(address),
            l.port(),
            l.protocol(),
            e.getMessage());
        bindFailures.put(l, String.valueOf(e.getMessage()));
      }
    }
    return true;
  }

  private L4Proxy open(Listener l) throws IOException {
    InetSocketAddress bind = new InetSocketAddress(address, l.port());
    Router router = new BackendRouter(l.nodePort());
    return switch (l.protocol()) {
      case TCP -> TcpProxy.open(bind, router, settings.connectTimeout());
      case UDP -> UdpProxy.open(bind, router, address, settings.udpIdleTimeout());
      case SCTP -> throw new IOException("SCTP is not supported by the local provider");
    };
  }

  /** Routes one listener's connections to the NodePort of a healthy backend. */
  private final class BackendRouter implements Router {
    private final int nodePort;

    BackendRouter(int nodePort) {
      this.nodePort = nodePort;
    }

    @Override
    public boolean admits(InetAddress client) {
      for (Cidr c : sourceRanges) {
        if (c.contains(client)) {
          return true;
        }
      }
      return false;
    }

    @Override
    public Optional<InetSocketAddress> route(InetAddress client, Set<InetSocketAddress> tried) {
      Set<String> triedNodes = new HashSet<>();
      pool.members()
          .forEach(
              m -> {
                if (tried.contains(new InetSocketAddress(m.backend().address(), nodePort))) {
                  triedNodes.add(m.backend().nodeName());
                }
              });
      return pool.pick(client, triedNodes).map(b -> new InetSocketAddress(b.address(), nodePort));
    }
  }

  /** Makes the backends exactly {@code backends}; false when they already were. */
  synchronized boolean updateBackends(List<Backend> backends) {
    if (Set.copyOf(plan.backends()).equals(Set.copyOf(backends))) {
      return false;
    }
    pool.replace(backends);
    plan = plan.withBackends(backends);
    return true;
  }

  /** The listeners that could not be bound at the last {@link #apply}, with the system's reason. */
  synchronized Map<Listener, String> bindFailures() {
    return Map.copyOf(bindFailures);
  }

  synchronized LoadBalancerStatus status() {
    List<LoadBalancerStatus.PortStatus> ports = new ArrayList<>();
    for (Listener l : plan.listeners()) {
      if (bindFailures.containsKey(l)) {
        ports.add(new LoadBalancerStatus.PortStatus(l.port(), l.protocol(), BIND_FAILED));
      }
    }
    return new LoadBalancerStatus(
            List.of(
                new LoadBalancerStatus.Ingress(
                    Optional.of(Cidr.text(address)),
                    Optional.empty(),
                    Optional.of(LoadBalancerStatus.IpMode.Proxy),
                    ports)))
        .withBackendHealth(healthyBackends().size(), pool.members().size());
  }

  /** Backends the health checks currently pass, by node name. */
  List<String> healthyBackends() {
    return pool.members().stream()
        .filter(m -> m.health().isHealthy())
        .map(m -> m.backend().nodeName())
        .toList();
  }

  private void expireFlows() {
    List<L4Proxy> current;
    synchronized (this) {
      current = List.copyOf(listeners.values());
    }
    current.forEach(
        l -> {
          if (l instanceof UdpProxy u) {
            u.expireIdle();
          }
        });
  }

  @Override
  public synchronized void close() {
    flowReaper.cancel(false);
    health.close();
    listeners.values().forEach(L4Proxy::close);
    listeners.clear();
  }
}
