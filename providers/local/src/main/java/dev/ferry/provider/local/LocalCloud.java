package dev.ferry.provider.local;

import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/**
 * The "cloud" of the local provider: the live load balancers of this JVM, keyed by Service UID, and
 * the address pool. Provider instances are handles onto it, so a new instance (a controller
 * restarted in the same JVM) finds what an earlier one made; a new process starts empty and
 * rebuilds every load balancer from the Services.
 */
final class LocalCloud {

  private static final Map<String, LocalCloud> SHARED = new ConcurrentHashMap<>();

  private final AddressPool addresses;
  private final Map<String, LocalBalancer> balancers = new ConcurrentHashMap<>();
  // told of every change to this cloud, after it is made (tests count and crash on them)
  private volatile Consumer<String> changes = change -> {};
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("local-lb-timer").daemon().factory());

  LocalCloud(Cidr pool) {
    this.addresses = new AddressPool(pool);
  }

  /** The JVM's cloud for {@code pool}. */
  static LocalCloud shared(Cidr pool) {
    return SHARED.computeIfAbsent(pool.toString(), k -> new LocalCloud(pool));
  }

  /** Tells {@code hook} of every change made to this cloud, right after it is made. */
  void onChange(Consumer<String> hook) {
    changes = hook;
  }

  Cidr pool() {
    return addresses.block();
  }

  Optional<LocalBalancer> get(LoadBalancerRef ref) {
    LocalBalancer b = balancers.get(ref.uid());
    return b != null && b.ref().equals(ref) ? Optional.of(b) : Optional.empty();
  }

  /** Creates or updates the load balancer for {@code plan}'s ref. */
  synchronized LocalBalancer apply(
      LoadBalancerPlan plan, Optional<InetAddress> requested, LocalSettings settings) {
    LoadBalancerRef ref = plan.ref();
    LocalBalancer existing = balancers.get(ref.uid());
    if (existing != null && requested.isPresent() && !requested.get().equals(existing.address())) {
      remove(ref);
      existing = null;
    }
    if (existing == null) {
      InetAddress address = addresses.take(ref.uid(), requested, literals(plan.currentAddresses()));
      existing = new LocalBalancer(ref, address, settings, timer);
      balancers.put(ref.uid(), existing);
      existing.apply(plan);
      changes.accept("CreateLoadBalancer");
    } else if (existing.apply(plan)) {
      changes.accept("UpdateLoadBalancer");
    }
    return existing;
  }

  /** The IP literals among {@code addresses} (hostnames are skipped, never looked up). */
  private static List<InetAddress> literals(List<String> addresses) {
    List<InetAddress> out = new ArrayList<>();
    for (String a : addresses) {
      if (a.matches("[0-9.]+") || a.contains(":")) {
        try {
          out.add(InetAddress.getByName(a));
        } catch (java.net.UnknownHostException e) {
          // not a literal after all
        }
      }
    }
    return out;
  }

  synchronized void remove(LoadBalancerRef ref) {
    LocalBalancer b = balancers.get(ref.uid());
    if (b != null && b.ref().equals(ref)) {
      balancers.remove(ref.uid());
      b.close();
      addresses.release(b.address(), ref.uid());
      changes.accept("DeleteLoadBalancer");
    }
  }

  /** Makes {@code ref}'s backends exactly {@code backends}; false when none exists. */
  boolean updateBackends(LoadBalancerRef ref, List<dev.ferry.spi.Backend> backends) {
    Optional<LocalBalancer> b = get(ref);
    if (b.isPresent() && b.get().updateBackends(backends)) {
      changes.accept("SetBackends");
    }
    return b.isPresent();
  }

  List<LoadBalancerRef> refs() {
    return balancers.values().stream().map(LocalBalancer::ref).toList();
  }
}
