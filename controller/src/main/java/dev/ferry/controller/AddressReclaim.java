package dev.ferry.controller;

import io.fabric8.kubernetes.api.model.Service;
import java.time.Duration;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After the workers start (a restart, a new leader), the Services whose status shows an address
 * take theirs back before any Service that has none is served: an address a Service shows is that
 * Service's until it is released. A provider that picks addresses itself (the local provider, a
 * bare-metal plugin) may have lost what it handed out; were a new Service served first, it could
 * get an address another Service still shows. The queue's order cannot promise this (the informer
 * queues keys as it lists them, and workers run in parallel), so a Service without an address waits
 * -- requeued, no failure counted -- until every Service that showed one has been reconciled once
 * (its outcome done, not a retry), or until {@code bound} has passed: a provider that cannot serve
 * the old Services then does not hold up the new ones forever.
 */
final class AddressReclaim {

  private static final Logger log = LoggerFactory.getLogger(AddressReclaim.class);

  /** How often a waiting Service looks again. */
  static final Duration WAIT = Duration.ofMillis(250);

  private final Set<String> pending = ConcurrentHashMap.newKeySet();
  private final Duration bound;
  private volatile long deadline;

  AddressReclaim(Duration bound) {
    this.bound = bound;
  }

  /** The Services that show an address now reclaim it first. */
  void start(Collection<String> keysWithAddress) {
    pending.clear();
    pending.addAll(keysWithAddress);
    deadline = System.nanoTime() + bound.toNanos();
    if (!pending.isEmpty()) {
      log.info(
          "{} Services that show an address take it back before a Service without one is served",
          pending.size());
    }
  }

  /** Whether {@code key} must wait: it shows no address while others still reclaim theirs. */
  boolean mustWait(String key, Service service) {
    if (pending.isEmpty() || pending.contains(key)) {
      return false;
    }
    if (System.nanoTime() - deadline > 0) {
      log.warn(
          "after {} {} Services still had not taken their address back (e.g. {}); serving the"
              + " others now",
          bound,
          pending.size(),
          pending.iterator().next());
      pending.clear();
      return false;
    }
    // a Service being deleted only releases: it never takes an address
    return StatusWriter.ingressOf(service).isEmpty()
        && service.getMetadata().getDeletionTimestamp() == null;
  }

  /** {@code key} was reconciled; it has reclaimed unless it is to be retried. */
  void reconciled(String key, Outcome outcome) {
    if (outcome instanceof Outcome.Done) {
      pending.remove(key);
    }
  }

  /** Services still to reclaim their address (for tests and metrics). */
  int pending() {
    return pending.size();
  }
}
