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
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.stream.Stream;

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
  // told of every change after it is made: tests count changes and crash after each
  private volatile Consumer<String> changes = change -> {};

  HaproxyProvider(Haproxy haproxy, Ipv4Pool pool, ProviderContext context) {
    this.haproxy = haproxy;
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
    return read(ref).map(this::status);
  }

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
    CAPABILITIES.requireSupported(plan);
    LoadBalancerRef ref = plan.ref();
    skippedNodes(plan);
    lock.lock();
    try {
      Optional<ServiceConfig> existing = read(ref);
      String address = address(plan, existing);
      ServiceConfig want = ServiceConfig.of(plan, address);
      String before = existing.map(ServiceConfig::render).orElse(null);
      if (!want.render().equals(before)) {
        write(ref, want.render());
        changed("WriteConfig");
        try {
          sync();
        } catch (ProviderException e) {
          // HAProxy refused it: put the file back so that it cannot hold up other Services
          restore(ref, before);
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
    for (ServiceConfig c : all()) {
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
          read(ref)
              .orElseThrow(
                  () ->
                      new ProviderException.Transient(
                          "no load balancer for " + ref.serviceKey(), null));
      ServiceConfig want = current.withBackends(backends);
      if (want.render().equals(current.render())) {
        sync();
        return;
      }
      boolean inStep = haproxy.running() && loaded().equals(digest());
      write(ref, want.render());
      changed("WriteConfig");
      if (inStep && applyAtRuntime(current, want)) {
        writeLoaded(); // the running HAProxy has what the files say, without a reload
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
      if (read(ref).isPresent()) {
        try {
          Files.delete(file(ref));
        } catch (IOException e) {
          throw new ProviderException.Transient("cannot delete " + file(ref) + ": " + e, e);
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
    return all().stream()
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
      writeLoaded();
    } else if (!loaded().equals(digest())) {
      haproxy.reload();
      changed("Reload");
      writeLoaded();
    }
  }

  private String loaded() throws ProviderException {
    Path marker = haproxy.services().resolveSibling("loaded");
    try {
      return Files.exists(marker) ? Files.readString(marker) : "";
    } catch (IOException e) {
      throw new ProviderException.Transient("cannot read " + marker + ": " + e, e);
    }
  }

  private void writeLoaded() throws ProviderException {
    atomicWrite(haproxy.services().resolveSibling("loaded"), digest());
  }

  /** A digest of every file under services/, names and contents. */
  private String digest() throws ProviderException {
    try (Stream<Path> files = Files.list(haproxy.services())) {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (Path f : files.filter(p -> p.toString().endsWith(".cfg")).sorted().toList()) {
        sha.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
        sha.update(Files.readAllBytes(f));
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (IOException e) {
      throw new ProviderException.Transient("cannot read " + haproxy.services() + ": " + e, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // --- the files ---

  private Path file(LoadBalancerRef ref) {
    return haproxy.services().resolve(ServiceConfig.fileName(ref));
  }

  private Optional<ServiceConfig> read(LoadBalancerRef ref) throws ProviderException {
    Path f = file(ref);
    try {
      if (!Files.exists(f)) {
        return Optional.empty();
      }
      // the file is named by UID; the ref inside must be this Service's in this cluster
      return ServiceConfig.parse(Files.readString(f)).filter(c -> c.ref().equals(ref));
    } catch (IOException e) {
      throw new ProviderException.Transient("cannot read " + f + ": " + e, e);
    }
  }

  private List<ServiceConfig> all() throws ProviderException {
    if (!Files.isDirectory(haproxy.services())) {
      return List.of();
    }
    List<ServiceConfig> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(haproxy.services())) {
      for (Path f : files.filter(p -> p.toString().endsWith(".cfg")).sorted().toList()) {
        ServiceConfig.parse(Files.readString(f)).ifPresent(out::add);
      }
    } catch (IOException e) {
      throw new ProviderException.Transient("cannot read " + haproxy.services() + ": " + e, e);
    }
    return out;
  }

  private void write(LoadBalancerRef ref, String content) throws ProviderException {
    atomicWrite(file(ref), content);
  }

  private void restore(LoadBalancerRef ref, String before) {
    try {
      if (before == null) {
        Files.deleteIfExists(file(ref));
      } else {
        atomicWrite(file(ref), before);
      }
    } catch (IOException | ProviderException e) {
      // the next call for this Service tries again
    }
  }

  private static void atomicWrite(Path target, String content) throws ProviderException {
    try {
      Files.createDirectories(target.getParent());
      Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
      Files.writeString(tmp, content);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new ProviderException.Transient("cannot write " + target + ": " + e, e);
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
