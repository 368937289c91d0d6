package dev.ferry.examples.haproxy;

import dev.ferry.spi.AddressKind;
import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

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

  static final Capabilities CAPABILITIES =
      Capabilities.builder()
          .protocols(Protocol.TCP) // the community edition proxies no UDP
          .maxListeners(100)
          .sourceRanges(true)
          .requestedIp(true)
          .clientIpAffinity(true)
          .healthCheckInterval(Duration.ofMillis(100), Duration.ofHours(1))
          .addressKind(AddressKind.IP)
          .build();

  private static final Map<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

  private final Haproxy haproxy;
  private final Ipv4Pool pool;
  private final ProviderContext context;
  private final ReentrantLock lock;
  private final ConfigFiles files;
  // told of every change after it is made: tests count changes and crash after each
  private volatile Consumer<String> changes = change -> {};

  HaproxyProvider(Haproxy haproxy, Ipv4Pool pool, ProviderContext context) {
    this.haproxy = haproxy;
    this.files = new ConfigFiles(haproxy.services());
    this.pool = pool;
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
    return CAPABILITIES;
  }

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) throws ProviderException {
    return files.read(ref).map(this::status);
  }

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
    CAPABILITIES.requireSupported(plan);
    LoadBalancerRef ref = plan.ref();
    skippedNodes(plan);
    lock.lock();
    try {
      Optional<ServiceConfig> existing = files.read(ref);
      String address = address(plan, existing);
      ServiceConfig want = ServiceConfig.of(plan, address);
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

  /** The Service's address: its own, the one requested, the one it had, or the first free. */
  private String address(LoadBalancerPlan plan, Optional<ServiceConfig> existing)
      throws ProviderException {
    Set<String> taken = new HashSet<>();
    for (ServiceConfig c : files.all()) {
      if (!c.ref().uid().equals(plan.ref().uid())) {
        taken.add(c.address());
      }
    }
    if (plan.requestedIp().isPresent()) {
      String ip = plan.requestedIp().get();
      if (!pool.contains(ip)) {
        throw new ProviderException.InvalidPlan(
            "spec.loadBalancerIP",
            ip + " is outside the HAProxy address pool " + pool + "; choose an address in it");
      }
      if (taken.contains(ip)) {
        throw new ProviderException.InvalidPlan(
            "spec.loadBalancerIP", ip + " is taken by another Service; choose a free address");
      }
      return ip;
    }
    if (existing.isPresent()) {
      return existing.get().address();
    }
    for (String current : plan.currentAddresses()) {
      if (pool.contains(current) && !taken.contains(current)) {
        return current;
      }
    }
    return pool.firstFree(taken)
        .orElseThrow(
            () ->
                new ProviderException.QuotaExceeded(
                    "the HAProxy address pool " + pool + " is used up", null));
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
    LoadBalancerStatus status =
        LoadBalancerStatus.ofIp(c.address(), LoadBalancerStatus.IpMode.Proxy);
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
