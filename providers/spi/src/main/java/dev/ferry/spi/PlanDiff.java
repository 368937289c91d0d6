package dev.ferry.spi;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The differences between a load balancer as it is (described as a plan) and a plan, as lines for
 * people: listeners, backends, health check, source ranges. For {@link AdoptionPreview}s. Since
 * 1.4.
 */
public final class PlanDiff {

  private PlanDiff() {}

  /** What changes when {@code have} becomes {@code want}; empty when nothing does. */
  public static List<String> between(LoadBalancerPlan have, LoadBalancerPlan want) {
    List<String> out = new ArrayList<>();
    Map<String, Listener> before = byPort(have.listeners());
    Map<String, Listener> after = byPort(want.listeners());
    for (Map.Entry<String, Listener> e : after.entrySet()) {
      Listener was = before.get(e.getKey());
      if (was == null) {
        out.add("listener " + e.getKey() + ": added, to NodePort " + e.getValue().nodePort());
      } else if (was.nodePort() != e.getValue().nodePort()) {
        out.add(
            "listener "
                + e.getKey()
                + ": to NodePort "
                + e.getValue().nodePort()
                + " (was "
                + was.nodePort()
                + ")");
      }
    }
    for (String port : before.keySet()) {
      if (!after.containsKey(port)) {
        out.add("listener " + port + ": removed");
      }
    }
    Set<String> nodesBefore = addresses(have.backends());
    Set<String> nodesAfter = addresses(want.backends());
    Set<String> added = new TreeSet<>(nodesAfter);
    added.removeAll(nodesBefore);
    Set<String> removed = new TreeSet<>(nodesBefore);
    removed.removeAll(nodesAfter);
    if (!added.isEmpty()) {
      out.add("backends added: " + String.join(", ", added));
    }
    if (!removed.isEmpty()) {
      out.add("backends removed: " + String.join(", ", removed));
    }
    if (!have.healthCheck().equals(want.healthCheck())) {
      out.add(
          "health check: " + text(want.healthCheck()) + " (was " + text(have.healthCheck()) + ")");
    }
    if (!new TreeSet<>(have.sourceRanges()).equals(new TreeSet<>(want.sourceRanges()))) {
      out.add(
          "source ranges: "
              + String.join(", ", want.sourceRanges())
              + " (was "
              + String.join(", ", have.sourceRanges())
              + ")");
    }
    return out;
  }

  /** A check as people write it: {@code HTTP :10256/healthz every 8s, timeout 1s, 1/3}. */
  static String text(HealthCheck h) {
    return h.protocol()
        + " "
        + (h.port() == HealthCheck.TRAFFIC_PORT ? "the traffic port" : ":" + h.port())
        + h.path()
        + " every "
        + h.interval().toSeconds()
        + "s, timeout "
        + h.timeout().toSeconds()
        + "s, healthy after "
        + h.healthyThreshold()
        + ", unhealthy after "
        + h.unhealthyThreshold();
  }

  private static Map<String, Listener> byPort(List<Listener> listeners) {
    Map<String, Listener> out = new TreeMap<>();
    listeners.forEach(l -> out.put(l.port() + "/" + l.protocol(), l));
    return out;
  }

  private static Set<String> addresses(List<Backend> backends) {
    Set<String> out = new TreeSet<>();
    backends.forEach(b -> out.add(b.address()));
    return out;
  }
}
