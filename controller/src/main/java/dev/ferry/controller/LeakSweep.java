package dev.ferry.controller;

import dev.ferry.spi.ProviderException;
import io.fabric8.kubernetes.api.model.Service;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leak sweep: load balancers the provider owns for this cluster that no Service wants are
 * deleted once they have been orphaned for {@link #every()} (seen orphaned by two sweeps that far
 * apart), each logged. What a Service with Ferry's finalizer holds is left to its cleanup. A sweep
 * runs every resync period, at most {@link #MAX_EVERY} apart, so an orphan goes within minutes; a
 * sweep that fails is tried again after {@link #FIRST_RETRY}, doubling up to {@link #every()}.
 */
final class LeakSweep {

  private static final Logger log = LoggerFactory.getLogger(FerryController.class);

  private final GuardedProvider provider;
  private final String clusterName;
  private final Duration period;
  private final Supplier<List<Service>> services;
  private final BooleanSupplier leading;
  private final Map<String, Instant> orphanedSince = new ConcurrentHashMap<>();
  private int failures; // consecutive failed sweeps (one sweep runs at a time)

  /** The longest time between sweeps, and an orphan's grace, whatever the resync period. */
  static final Duration MAX_EVERY = Duration.ofMinutes(5);

  /** The wait after a first failed sweep. */
  static final Duration FIRST_RETRY = Duration.ofSeconds(10);

  LeakSweep(
      GuardedProvider provider,
      String clusterName,
      Duration period,
      Supplier<List<Service>> services,
      BooleanSupplier leading) {
    this.provider = provider;
    this.clusterName = clusterName;
    this.period = period;
    this.services = services;
    this.leading = leading;
  }

  /** The time between sweeps, and the grace an orphan gets. */
  Duration every() {
    return period.compareTo(MAX_EVERY) < 0 ? period : MAX_EVERY;
  }

  /** Sweeps once; answers the wait until the next sweep. */
  Duration runOnce() {
    if (run()) {
      failures = 0;
      return every();
    }
    failures++;
    Duration retry = FIRST_RETRY.multipliedBy(1L << Math.min(failures - 1, 16));
    return retry.compareTo(every()) < 0 ? retry : every();
  }

  /** Sweeps once; false when it failed. */
  boolean run() {
    if (!leading.getAsBoolean()) {
      return true;
    }
    try {
      Map<String, Service> byUid = new HashMap<>();
      services.get().forEach(s -> byUid.put(s.getMetadata().getUid(), s));
      Instant now = Instant.now();
      Set<String> still = new HashSet<>();
      for (OrphanSweep.Found f : OrphanSweep.find(provider, clusterName, byUid::get)) {
        if (!f.orphan()) {
          continue;
        }
        String uid = f.ref().uid();
        still.add(uid);
        Instant since = orphanedSince.putIfAbsent(uid, now);
        if (since != null && !since.plus(every()).isAfter(now) && leading.getAsBoolean()) {
          log.warn(
              "deleting orphaned load balancer of {} (uid {}): no Service wants it since {}",
              f.ref().serviceKey(),
              uid,
              since);
          provider.ensureDeleted(f.ref());
          orphanedSince.remove(uid);
          still.remove(uid);
        }
      }
      orphanedSince.keySet().retainAll(still);
      return true;
    } catch (ProviderException | RuntimeException e) {
      Duration retry = FIRST_RETRY.multipliedBy(1L << Math.min(failures, 16));
      log.warn(
          "leak sweep failed, next one in {}: {}",
          retry.compareTo(every()) < 0 ? retry : every(),
          e.getMessage());
      return false;
    }
  }
}
