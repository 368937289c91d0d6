package dev.ferry.provider.local;

import dev.ferry.spi.Backend;
import dev.ferry.spi.SessionAffinity;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The backends of one load balancer with their health, and the choice of a backend for a new
 * connection: round-robin over the healthy ones, or the client's pinned backend under ClientIP
 * affinity while it stays healthy and within the affinity timeout.
 */
final class BackendPool {

  /** A backend and its health as the checks see it. */
  record Member(Backend backend, Health health) {}

  private record Pin(String nodeName, long lastUsedNanos) {}

  private volatile List<Member> members = List.of();
  private volatile SessionAffinity affinity = SessionAffinity.NONE;
  private final AtomicInteger cursor = new AtomicInteger();
  private final Map<InetAddress, Pin> pins = new ConcurrentHashMap<>();

  List<Member> members() {
    return members;
  }

  void affinity(SessionAffinity affinity) {
    this.affinity = affinity;
    if (!affinity.clientIp()) {
      pins.clear();
    }
  }

  /**
   * Makes the set exactly {@code backends}. A backend that stays keeps its health; a new one starts
   * healthy, so traffic flows before the first check (a refused connection moves on to the next).
   */
  synchronized void replace(List<Backend> backends) {
    Map<Backend, Health> known = new HashMap<>();
    members.forEach(m -> known.put(m.backend(), m.health()));
    List<Member> next = new ArrayList<>();
    for (Backend b : backends) {
      next.add(new Member(b, known.getOrDefault(b, new Health())));
    }
    members = List.copyOf(next);
  }

  /** A healthy backend for {@code client}, not one of {@code tried}; empty when none is left. */
  Optional<Backend> pick(InetAddress client, Set<String> tried) {
    List<Member> healthy =
        members.stream()
            .filter(m -> m.health().isHealthy() && !tried.contains(m.backend().nodeName()))
            .toList();
    if (healthy.isEmpty()) {
      return Optional.empty();
    }
    SessionAffinity a = affinity;
    long now = System.nanoTime();
    if (a.clientIp()) {
      Pin pin = pins.get(client);
      if (pin != null && now - pin.lastUsedNanos() <= a.timeout().toNanos()) {
        for (Member m : healthy) {
          if (m.backend().nodeName().equals(pin.nodeName())) {
            pins.put(client, new Pin(pin.nodeName(), now));
            return Optional.of(m.backend());
          }
        }
      }
    }
    Backend chosen = healthy.get(Math.floorMod(cursor.getAndIncrement(), healthy.size())).backend();
    if (a.clientIp()) {
      pins.put(client, new Pin(chosen.nodeName(), now));
    }
    return Optional.of(chosen);
  }
}
