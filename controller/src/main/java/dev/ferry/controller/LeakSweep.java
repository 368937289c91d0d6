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
 * deleted once they have been orphaned for a resync period (seen orphaned by two sweeps that far
 * apart), each logged. What a Service with Ferry's finalizer holds is left to its cleanup.
 */
final class LeakSweep {

  private static final Logger log = LoggerFactory.getLogger(FerryController.class);

  private final GuardedProvider provider;
  private final String clusterName;
  private final Duration period;
  private final Supplier<List<Service>> services;
  private final BooleanSupplier leading;
  private final Map<String, Instant> orphanedSince = new ConcurrentHashMap<>();

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

  void run() {
    if (!leading.getAsBoolean()) {
      return;
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
        if (since != null && !since.plus(period).isAfter(now) && leading.getAsBoolean()) {
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
    } catch (ProviderException | RuntimeException e) {
      log.warn("leak sweep failed, next one in {}: {}", period.multipliedBy(3), e.getMessage());
    }
  }
}
