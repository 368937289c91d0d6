package dev.ferry.provider.local;

import dev.ferry.spi.Backend;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.RetainedAddress;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The "cloud" of the local provider: the live load balancers of this JVM, keyed by Service UID, and
 * the address pools. A load balancer is one frontend per IP family of its plan (a dual-stack
 * Service has an IPv4 and an IPv6 one), each with its own address, listeners and that family's
 * backends and source ranges. Provider instances are handles onto it, so a new instance (a
 * controller restarted in the same JVM) finds what an earlier one made; a new process starts empty
 * and rebuilds every load balancer from the Services.
 */
final class LocalCloud {

  private static final Logger log = LoggerFactory.getLogger(LocalCloud.class);
  private static final Map<String, LocalCloud> SHARED = new ConcurrentHashMap<>();

  /** The pool's holder of an address shared by a key: this, the cluster and the key. */
  static final String SHARED_BY = "\u0000shared:";

  private final AddressPool addresses;
  private final AddressPool ipv6; // null: IPv4 only
  private final Optional<String> ipv6Off; // why there is no IPv6, when one was asked for
  private final Map<String, List<LocalBalancer>> balancers = new ConcurrentHashMap<>();
  // addresses kept after their Service went, with the Service they were kept from
  private final Map<InetAddress, LoadBalancerRef> retained = new ConcurrentHashMap<>();
  // load balancers no Service owns (local.existing), by name; and what each adopted one was
  private final Map<String, LocalBalancer> unmanaged = new ConcurrentHashMap<>();
  private final Map<String, String> adoptedFrom = new ConcurrentHashMap<>();
  // told of every change to this cloud, after it is made (tests count and crash on them)
  private volatile Consumer<String> changes = change -> {};
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("local-lb-timer").daemon().factory());

  LocalCloud(Cidr pool) {
    this(pool, Optional.empty());
  }

  LocalCloud(Cidr pool, Optional<Cidr> ipv6Pool) {
    this.addresses = new AddressPool(pool);
    Optional<String> off =
        ipv6Pool.flatMap(
            p -> LoopbackAddresses.unavailable(p.address(p.size() - 1))); // never handed out
    this.ipv6 = ipv6Pool.isPresent() && off.isEmpty() ? new AddressPool(ipv6Pool.get()) : null;
    this.ipv6Off = off;
    off.ifPresent(
        why ->
            log.info(
                "local provider: IPv4 only; the IPv6 pool {} cannot be made local: {}",
                ipv6Pool.get(),
                why));
  }

  /** The JVM's cloud for these pools. */
  static LocalCloud shared(Cidr pool, Optional<Cidr> ipv6Pool) {
    return SHARED.computeIfAbsent(
        pool + "|" + ipv6Pool.map(Cidr::toString).orElse(""), k -> new LocalCloud(pool, ipv6Pool));
  }

  static LocalCloud shared(Cidr pool) {
    return shared(pool, Optional.empty());
  }

  /** Makes the load balancers no Service owns that are not here yet (once per JVM and name). */
  synchronized void existing(Map<String, LoadBalancerPlan> plans, LocalSettings settings) {
    for (Map.Entry<String, LoadBalancerPlan> e : plans.entrySet()) {
      boolean adopted = adoptedFrom.containsValue(e.getKey());
      if (unmanaged.containsKey(e.getKey()) || adopted) {
        continue;
      }
      InetAddress address;
      try {
        address = InetAddress.getByName(e.getValue().requestedIp().orElseThrow());
        LoopbackAddresses.add(address);
      } catch (IOException ex) {
        throw new IllegalStateException("cannot make " + e.getKey() + "'s address local", ex);
      }
      LocalBalancer b = new LocalBalancer(e.getValue().ref(), address, settings, timer);
      b.apply(e.getValue());
      unmanaged.put(e.getKey(), b);
    }
  }

  /** The load balancer no Service owns named {@code name}, if any. */
  Optional<LocalBalancer> unmanaged(String name) {
    return Optional.ofNullable(unmanaged.get(name));
  }

  /** The Service's load balancer whose address is {@code text}, if any. */
  Optional<LocalBalancer> byAddress(String text) {
    return balancers.values().stream()
        .flatMap(List::stream)
        .filter(b -> Cidr.text(b.address()).equals(text))
        .findFirst();
  }

  /** Tells {@code hook} of every change made to this cloud, right after it is made. */
  void onChange(Consumer<String> hook) {
    changes = hook;
  }

  /** The IPv4 pool. */
  Cidr pool() {
    return addresses.block();
  }

  /** The families load balancers can have here. */
  Set<IpFamily> families() {
    return ipv6 == null ? EnumSet.of(IpFamily.IPv4) : EnumSet.of(IpFamily.IPv4, IpFamily.IPv6);
  }

  /** Why IPv6 was asked for but is off, if so. */
  Optional<String> ipv6Off() {
    return ipv6Off;
  }

  /** The pool of {@code family}; null when there is none. */
  AddressPool pool(IpFamily family) {
    return family == IpFamily.IPv4 ? addresses : ipv6;
  }

  /** The primary (first family's) frontend of {@code ref}'s load balancer. */
  Optional<LocalBalancer> get(LoadBalancerRef ref) {
    return frontends(ref).stream().findFirst();
  }

  /** {@code ref}'s frontends, one per family, in the plan's order; empty when there is none. */
  List<LocalBalancer> frontends(LoadBalancerRef ref) {
    List<LocalBalancer> b = balancers.get(ref.uid());
    return b != null && !b.isEmpty() && b.get(0).ref().equals(ref) ? b : List.of();
  }

  /** The status: an ingress entry per frontend, in the plan's order of families. */
  Optional<LoadBalancerStatus> status(LoadBalancerRef ref) {
    List<LocalBalancer> fronts = frontends(ref);
    if (fronts.isEmpty()) {
      return Optional.empty();
    }
    List<LoadBalancerStatus.Ingress> ingress = new ArrayList<>();
    fronts.forEach(f -> ingress.addAll(f.status().ingress()));
    LoadBalancerStatus primary = fronts.get(0).status();
    LoadBalancerStatus all = new LoadBalancerStatus(ingress);
    return Optional.of(
        primary
            .backendHealth()
            .map(h -> all.withBackendHealth(h.healthy(), h.total()))
            .orElse(all));
  }

  static IpFamily family(InetAddress a) {
    return a instanceof Inet6Address ? IpFamily.IPv6 : IpFamily.IPv4;
  }

  /**
   * Creates or updates the load balancer for {@code plan}'s ref: a frontend per family, made,
   * changed in place or removed.
   */
  synchronized List<LocalBalancer> apply(
      LoadBalancerPlan plan, Optional<InetAddress> requested, LocalSettings settings) {
    LoadBalancerRef ref = plan.ref();
    List<LocalBalancer> existing = frontends(ref);
    if (existing.isEmpty() && plan.adopt().isPresent()) {
      LocalBalancer taken = unmanaged.remove(plan.adopt().get());
      if (taken == null) {
        throw new IllegalStateException(
            "no load balancer '" + plan.adopt().get() + "' to adopt (another Service took it?)");
      }
      taken.handTo(ref);
      AddressPool holder = pool(family(taken.address()));
      if (holder != null && holder.block().contains(taken.address())) {
        holder.take(ref.uid(), Optional.of(taken.address()), List.of());
      }
      adoptedFrom.put(ref.uid(), plan.adopt().get());
      balancers.put(ref.uid(), List.of(taken));
      changes.accept("AdoptLoadBalancer");
      existing = List.of(taken);
    }
    List<LocalBalancer> next = new ArrayList<>();
    boolean changed = false;
    for (IpFamily family : plan.ipFamilies()) {
      AddressPool pool = pool(family);
      if (pool == null) {
        throw new IllegalStateException("the local provider has no " + family + " pool");
      }
      Optional<InetAddress> want = requested.filter(a -> family(a) == family);
      // a shared address is held by its key, any other by the Service
      String owner =
          plan.sharingKey().map(k -> SHARED_BY + ref.cluster() + "/" + k).orElse(ref.uid());
      LocalBalancer b =
          existing.stream().filter(f -> family(f.address()) == family).findFirst().orElse(null);
      if (b != null
          && (want.isPresent() && !want.get().equals(b.address())
              || pool.block().contains(b.address()) && !owner.equals(pool.holder(b.address())))) {
        close(b); // another address asked for, or the Service joined or left a shared one
        b = null;
      }
      boolean made = b == null;
      if (made && want.isPresent()) {
        LoadBalancerRef keptFor = retained.get(want.get());
        if (keptFor != null && !keptFor.cluster().equals(ref.cluster())) {
          throw new IllegalArgumentException(Cidr.text(want.get())); // another cluster's
        }
      }
      if (made) {
        InetAddress address = pool.take(owner, want, literals(plan.currentAddresses(), family));
        try {
          LoopbackAddresses.add(address);
        } catch (IOException e) {
          pool.release(address, owner);
          throw new IllegalStateException("cannot make " + Cidr.text(address) + " local", e);
        }
        b = new LocalBalancer(ref, address, settings, timer);
      }
      changed |= b.apply(project(plan, family)) || made;
      next.add(b);
    }
    for (LocalBalancer old : existing) {
      if (!next.contains(old)) {
        close(old); // a family the plan no longer has
        changed = true;
      }
    }
    balancers.put(ref.uid(), List.copyOf(next));
    if (existing.isEmpty()) {
      changes.accept("CreateLoadBalancer");
    } else if (changed) {
      changes.accept("UpdateLoadBalancer");
    }
    return next;
  }

  /** One family's part of a plan: that family's backends (by their address of it) and ranges. */
  static LoadBalancerPlan project(LoadBalancerPlan plan, IpFamily family) {
    return plan.toBuilder()
        .ipFamilies(List.of(family))
        .backends(project(plan.backends(), family))
        .sourceRanges(plan.sourceRanges(family))
        .build();
  }

  static List<Backend> project(List<Backend> backends, IpFamily family) {
    List<Backend> out = new ArrayList<>();
    for (Backend b : backends) {
      String address = b.address(family);
      if (!address.isEmpty()) {
        out.add(
            address.equals(b.address())
                ? b
                : new Backend(b.nodeName(), b.providerId(), address, b.zone(), b.addresses()));
      }
    }
    return out;
  }

  /** The IP literals of {@code family} among {@code addresses} (hostnames are never looked up). */
  private static List<InetAddress> literals(List<String> addresses, IpFamily family) {
    List<InetAddress> out = new ArrayList<>();
    for (String a : addresses) {
      if ((a.matches("[0-9.]+") || a.contains(":")) && IpFamily.of(a) == family) {
        try {
          out.add(InetAddress.getByName(a));
        } catch (java.net.UnknownHostException e) {
          // not a literal after all
        }
      }
    }
    return out;
  }

  private void close(LocalBalancer b) {
    b.close();
    boolean shared =
        balancers.values().stream()
            .flatMap(List::stream)
            .anyMatch(o -> o != b && o.address().equals(b.address()));
    if (shared) {
      return; // another Service serves on this address (a shared one): it stays
    }
    AddressPool pool = pool(family(b.address()));
    pool.free(b.address());
    if (retained.containsKey(b.address())) {
      pool.retain(b.address()); // a retained address outlives whoever serves on it
    }
    LoopbackAddresses.remove(b.address());
  }

  /**
   * Removes {@code ref}'s load balancer and keeps its addresses for its cluster (an address it
   * served on that was already retained stays retained for the Service it was kept from).
   */
  synchronized void retain(LoadBalancerRef ref) {
    String from = adoptedFrom.remove(ref.uid());
    if (from != null) {
      // an adopted load balancer is given back as it is: it serves on, no Service's
      for (LocalBalancer b : frontends(ref)) {
        b.handTo(ExistingBalancers.ref(from));
        AddressPool holder = pool(family(b.address()));
        if (holder != null) {
          holder.release(b.address(), ref.uid());
        }
        unmanaged.put(from, b);
      }
      balancers.remove(ref.uid());
      changes.accept("ReleaseLoadBalancer");
      return;
    }
    for (LocalBalancer b : frontends(ref)) {
      retained.putIfAbsent(b.address(), ref);
    }
    remove(ref);
  }

  /** The addresses retained for {@code cluster}. */
  List<RetainedAddress> retained(String cluster) {
    List<RetainedAddress> out = new ArrayList<>();
    retained.forEach(
        (address, ref) -> {
          if (ref.cluster().equals(cluster)) {
            String text = Cidr.text(address);
            boolean idle = pool(family(address)).idle(address);
            out.add(new RetainedAddress(text, text, ref.namespace(), ref.name(), !idle));
          }
        });
    out.sort(java.util.Comparator.comparing(RetainedAddress::id));
    return out;
  }

  /**
   * Lets {@code address}, retained for {@code cluster}, go back to the pool; nothing to do when no
   * one holds it.
   *
   * @throws IllegalArgumentException when a load balancer, or another cluster, holds it
   * @throws IllegalStateException when a Service serves on it
   */
  synchronized void deleteRetained(String cluster, InetAddress address) {
    LoadBalancerRef keptFor = retained.get(address);
    AddressPool pool = pool(family(address));
    if (keptFor == null && (pool == null || !pool.held(address))) {
      return; // gone
    }
    if (keptFor == null || !keptFor.cluster().equals(cluster)) {
      throw new IllegalArgumentException(Cidr.text(address) + " is not retained for " + cluster);
    }
    if (!pool.idle(address)) {
      throw new IllegalStateException(Cidr.text(address) + " is in use");
    }
    retained.remove(address);
    pool.release(address, AddressPool.RETAINED);
    changes.accept("DeleteRetainedAddress");
  }

  synchronized void remove(LoadBalancerRef ref) {
    adoptedFrom.remove(ref.uid());
    List<LocalBalancer> fronts = frontends(ref);
    if (!fronts.isEmpty()) {
      balancers.remove(ref.uid());
      fronts.forEach(this::close);
      changes.accept("DeleteLoadBalancer");
    }
  }

  /** Makes {@code ref}'s backends exactly {@code backends}; false when none exists. */
  boolean updateBackends(LoadBalancerRef ref, List<Backend> backends) {
    List<LocalBalancer> fronts = frontends(ref);
    boolean changed = false;
    for (LocalBalancer f : fronts) {
      changed |= f.updateBackends(project(backends, family(f.address())));
    }
    if (changed) {
      changes.accept("SetBackends");
    }
    return !fronts.isEmpty();
  }

  List<LoadBalancerRef> refs() {
    return balancers.values().stream().map(l -> l.get(0).ref()).toList();
  }
}
