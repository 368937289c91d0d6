package dev.ferry.examples.haproxy;

import dev.ferry.spi.AddressKind;
import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.ProviderException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Load balancers as HAProxy frontends. Everything the provider knows is on disk: one file per
 * Service under {@code services/} (see {@link ServiceConfig}), and {@code loaded}, a digest of the
 * files the running HAProxy was last brought in line with. A call writes the files it must, then
 * reloads HAProxy when the digest differs; a crash anywhere leaves a difference the next call
 * settles. Backend changes go through the runtime API (no reload, no connection touched); when that
 * fails, a reload, which leaves established connections with the old worker.
 *
 * <p>Calls are serialized per directory: HAProxy is one shared resource.
 */
final class HaproxyProvider implements LoadBalancerProvider {

  static final Capabilities CAPABILITIES = capabilities(false);

  /**
   * What this provider serves; both families, at once, when it has an IPv6 pool. A proxy reaches
   * the nodes over IPv4 for clients of either family, so backends are not per family.
   */
  static Capabilities capabilities(boolean ipv6) {
    Capabilities.Builder b =
        Capabilities.builder()
            .protocols(Protocol.TCP) // the community edition proxies no UDP
            .maxListeners(100)
            .sourceRanges(true)
            .requestedIp(true)
            .clientIpAffinity(true)
            .healthCheckInterval(Duration.ofMillis(100), Duration.ofHours(1))
            .addressKind(AddressKind.IP);
    if (ipv6) {
      b.ipFamilies(IpFamily.IPv4, IpFamily.IPv6).dualStack(true).backendsByFamily(false);
    }
    return b.build();
  }

  private static final Map<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

  private final Haproxy haproxy;
  private final Ipv4Pool pool;
  private final Optional<Ipv6Pool> pool6;
  private final Capabilities capabilities;
  private final ProviderContext context;
  private final ReentrantLock lock;
  private final ConfigFiles files;
  // told of every change after it is made: tests count changes and crash after each
  private volatile Consumer<String> changes = change -> {};

  HaproxyProvider(
      Haproxy haproxy, Ipv4Pool pool, Optional<Ipv6Pool> pool6, ProviderContext context) {
    this.haproxy = haproxy;
    this.files = new ConfigFiles(haproxy.services());
    this.pool = pool;
    this.pool6 = pool6;
    this.capabilities = capabilities(pool6.isPresent());
    this.context = context;
    this.lock =
        LOCKS.computeIfAbsent(
            haproxy.services().toAbsolutePath().normalize(), k -> new ReentrantLock());
  }

  void onChange(Consumer<String> hook) {
    this.changes = hook;
  }

  Haproxy haproxy() {
    return haproxy;
  }

  private void changed(String what) {
    context.metrics().increment("haproxy_changes", Map.of("change", what));
    changes.accept(what);
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) throws ProviderException {
    return files.read(ref).map(this::status);
  }

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
    capabilities.requireSupported(plan);
    LoadBalancerRef ref = plan.ref();
    skippedNodes(plan);
    lock.lock();
    try {
      Optional<ServiceConfig> existing = files.read(ref);
      List<String> addresses = new ArrayList<>();
      for (IpFamily family : plan.ipFamilies()) {
        addresses.add(address(plan, family, existing));
      }
      ServiceConfig want = ServiceConfig.of(plan, addresses);
      String before = existing.map(ServiceConfig::render).orElse(null);
      if (!want.render().equals(before)) {
        files.write(ref, want.render());
        changed("WriteConfig");
        try {
          sync();
        } catch (ProviderException e) {
          // HAProxy refused it: put the file back so that it cannot hold up other Services
          files.restore(ref, before);
          throw e;
        }
      } else {
        sync();
      }
      return status(want);
    } finally {
      lock.unlock();
    }
  }

  private void skippedNodes(LoadBalancerPlan plan) {
    for (Backend b : plan.backends()) {
      if (!b.address().matches("[0-9.]+")) {
        context
            .events()
            .warning(
                plan.ref(),
                "NodeNotRegistered",
                "node " + b.nodeName() + " has no IPv4 address; HAProxy cannot send it traffic");
      }
    }
  }

  /**
   * The Service's address of {@code family}: the one requested, the one it has, the one it had, or
   * the first free of the family's pool.
   */
  private String address(
      LoadBalancerPlan plan, IpFamily family, Optional<ServiceConfig> existing)
      throws ProviderException {
    Set<String> taken = new HashSet<>();
    for (ServiceConfig c : files.all()) {
      if (!c.ref().uid().equals(plan.ref().uid())) {
        taken.addAll(c.addresses());
      }
    }
    boolean v6 = family == IpFamily.IPv6;
    Predicate<String> inPool = v6 ? ip -> pool6.orElseThrow().contains(ip) : pool::contains;
    String poolText = v6 ? pool6.orElseThrow().toString() : pool.toString();
    Optional<String> requested =
        plan.requestedIp().filter(ip -> IpFamily.of(ip) == family).map(HaproxyProvider::canonical);
    if (requested.isPresent()) {
      String ip = requested.get();
      if (!inPool.test(ip)) {
        throw new ProviderException.InvalidPlan(
            "spec.loadBalancerIP",
            ip + " is outside the HAProxy address pool " + poolText + "; choose an address in it");
      }
      if (taken.contains(ip)) {
        throw new ProviderException.InvalidPlan(
            "spec.loadBalancerIP", ip + " is taken by another Service; choose a free address");
      }
      return ip;
    }
    List<String> had = new ArrayList<>(existing.map(ServiceConfig::addresses).orElse(List.of()));
    had.addAll(plan.currentAddresses());
    for (String current : had) {
      if (IpFamily.of(current) == family
          && inPool.test(current)
          && !taken.contains(canonical(current))) {
        return canonical(current);
      }
    }
    Optional<String> free = v6 ? pool6.orElseThrow().firstFree(taken) : pool.firstFree(taken);
    return free.orElseThrow(
        () ->
            new ProviderException.QuotaExceeded(
                "the HAProxy address pool " + poolText + " is used up", null));
  }

  private static String canonical(String ip) {
    return ip.contains(":") ? Ipv6Pool.canonical(ip) : ip;
  }

  @Override
  public void updateBackends(LoadBalancerRef ref, List<Backend> backends) throws ProviderException {
    lock.lock();
    try {
      ServiceConfig current =
          files.read(ref)
              .orElseThrow(
                  () ->
                      new ProviderException.Transient(
                          "no load balancer for " + ref.serviceKey(), null));
      ServiceConfig want = current.withBackends(backends);
      if (want.render().equals(current.render())) {
        sync();
        return;
      }
      boolean inStep = haproxy.running() && files.loaded().equals(files.digest());
      files.write(ref, want.render());
      changed("WriteConfig");
      if (inStep && applyAtRuntime(current, want)) {
        files.writeLoaded(); // the running HAProxy has what the files say, without a reload
      } else {
        sync();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Adds and removes servers through the runtime API; false when HAProxy refused a change (then a
   * reload does it). A removed server is drained: put in maintenance, deleted when it has no
   * connection left, else by the next reload.
   */
  private boolean applyAtRuntime(ServiceConfig from, ServiceConfig to) {
    Set<String> before = names(from.backends());
    Set<String> after = names(to.backends());
    try {
      for (Listener l : to.listeners()) {
        String backend = ServiceConfig.backendName(to.ref(), l);
        for (Backend b : from.backends()) {
          if (!after.contains(b.nodeName())) {
            haproxy.command("disable server " + backend + "/" + b.nodeName());
            haproxy.command("del server " + backend + "/" + b.nodeName());
            changed("RuntimeDelServer");
          }
        }
        for (Backend b : to.backends()) {
          if (!before.contains(b.nodeName())) {
            String answer =
                haproxy.command(
                    "add server " + backend + "/" + b.nodeName() + " " + to.serverArgs(b, l));
            changed("RuntimeAddServer");
            if (!answer.contains("New server registered")) {
              return false;
            }
            haproxy.command("enable health " + backend + "/" + b.nodeName());
            haproxy.command("enable server " + backend + "/" + b.nodeName());
          }
        }
      }
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static Set<String> names(List<Backend> backends) {
    Set<String> out = new HashSet<>();
    backends.forEach(b -> out.add(b.nodeName()));
    return out;
  }

  @Override
  public void ensureDeleted(LoadBalancerRef ref) throws ProviderException {
    lock.lock();
    try {
      if (files.read(ref).isPresent()) {
        try {
          Files.delete(files.file(ref));
        } catch (IOException e) {
          throw new ProviderException.Transient("cannot delete " + files.file(ref) + ": " + e, e);
        }
        changed("DeleteConfig");
      }
      sync();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public List<LoadBalancerRef> listOwned(String clusterName) throws ProviderException {
    return files.all().stream()
        .map(ServiceConfig::ref)
        .filter(r -> r.cluster().equals(clusterName))
        .toList();
  }

  // --- HAProxy in step with the files ---

  /** Starts HAProxy if it is not running, reloads it if it has not got the files on disk. */
  private void sync() throws ProviderException {
    if (!haproxy.running()) {
      haproxy.start();
      changed("StartHaproxy");
      files.writeLoaded();
    } else if (!files.loaded().equals(files.digest())) {
      haproxy.reload();
      changed("Reload");
      files.writeLoaded();
    }
  }

  // --- status ---

  private LoadBalancerStatus status(ServiceConfig c) {
    List<LoadBalancerStatus.Ingress> ingress = new ArrayList<>();
    for (String a : c.addresses()) {
      ingress.addAll(LoadBalancerStatus.ofIp(a, LoadBalancerStatus.IpMode.Proxy).ingress());
    }
    LoadBalancerStatus status = new LoadBalancerStatus(ingress);
    String backend = ServiceConfig.backendName(c.ref(), c.listeners().get(0));
    try {
      int up = 0;
      int total = 0;
      for (String row : haproxy.command("show stat").split("\n")) {
        String[] f = row.split(",", -1);
        if (f.length > 17 && f[0].equals(backend) && !f[1].equals("BACKEND")) {
          total++;
          up += f[17].startsWith("UP") ? 1 : 0;
        }
      }
      return status.withBackendHealth(up, total);
    } catch (IOException e) {
      return status; // HAProxy does not answer: no figure
    }
  }
}
