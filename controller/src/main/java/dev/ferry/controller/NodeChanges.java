package dev.ferry.controller;

import io.fabric8.kubernetes.api.model.Node;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's eligible nodes, and what a change of them sets off. The set is computed again only
 * after a Node event that can change it (not in every reconcile); node events are gathered for a
 * moment, and then every Service that can be affected is queued once: all of them when nodes came
 * or went, only those that pick their nodes by label when only labels changed.
 */
final class NodeChanges {

  private static final Logger log = LoggerFactory.getLogger(FerryController.class);

  /** Re-queues the handled Services; the argument is true when only node labels changed. */
  interface Requeue extends Consumer<Boolean> {}

  private record Snapshot(long version, NodeEligibility.Eligible nodes) {}

  private final Supplier<List<Node>> nodes;
  private final ScheduledExecutorService timer;
  private final Duration delay;
  private final Requeue requeue;
  private final AtomicLong events = new AtomicLong();
  private final AtomicReference<Snapshot> eligible = new AtomicReference<>();
  private final AtomicReference<NodeEligibility.Eligible> last = new AtomicReference<>();
  private final AtomicBoolean pending = new AtomicBoolean();

  NodeChanges(
      Supplier<List<Node>> nodes, ScheduledExecutorService timer, Duration delay, Requeue requeue) {
    this.nodes = nodes;
    this.timer = timer;
    this.delay = delay;
    this.requeue = requeue;
  }

  /** The eligible nodes now (computed again only after a Node event). */
  NodeEligibility.Eligible eligible() {
    long version = events.get();
    Snapshot cached = eligible.get();
    if (cached != null && cached.version() == version) {
      return cached.nodes();
    }
    NodeEligibility.Eligible now = NodeEligibility.Eligible.of(nodes.get());
    // kept only if no Node event came meanwhile (else the next caller computes it again)
    eligible.accumulateAndGet(
        new Snapshot(version, now),
        (old, mine) -> old == null || old.version() < mine.version() ? mine : old);
    return now;
  }

  /** Takes the synced cache's nodes as the ones the load balancers have. */
  NodeEligibility.Eligible prime() {
    NodeEligibility.Eligible now = eligible();
    last.set(now);
    return now;
  }

  /** A Node event that can change the set: gathered for a moment, then acted on once. */
  void changed(boolean ready) {
    events.incrementAndGet();
    if (!ready || !pending.compareAndSet(false, true)) {
      return;
    }
    timer.schedule(
        () -> {
          pending.set(false);
          NodeEligibility.Eligible now = eligible();
          NodeEligibility.Eligible before = last.getAndSet(now);
          if (now.equals(before)) {
            return; // neither the nodes nor their labels changed
          }
          // only labels changed: only Services that pick their nodes by label can be affected
          boolean labelsOnly = before != null && now.backends().equals(before.backends());
          if (!labelsOnly) {
            logChange(before, now);
          }
          requeue.accept(labelsOnly);
        },
        delay.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** One line per change: the count and the names that came and went (ten of each at most). */
  private static void logChange(NodeEligibility.Eligible before, NodeEligibility.Eligible now) {
    Set<String> was = new HashSet<>();
    if (before != null) {
      before.backends().forEach(b -> was.add(b.nodeName()));
    }
    Set<String> is = new HashSet<>();
    now.backends().forEach(b -> is.add(b.nodeName()));
    List<String> added = is.stream().filter(n -> !was.contains(n)).sorted().toList();
    List<String> removed = was.stream().filter(n -> !is.contains(n)).sorted().toList();
    log.info(
        "eligible nodes changed: {} now; added {}; removed {}",
        is.size(),
        firstTen(added),
        firstTen(removed));
  }

  private static String firstTen(List<String> names) {
    return names.size() <= 10
        ? names.toString()
        : names.subList(0, 10) + " and " + (names.size() - 10) + " more";
  }
}
