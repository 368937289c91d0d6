package dev.ferry.provider.azure;

import com.azure.resourcemanager.network.fluent.models.LoadBalancerInner;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Every Service's frontend, rules and probe live in the cluster's one load balancer, so every
 * change is a write of the whole resource. This is how many Services write it without losing each
 * other's changes and without one write each:
 *
 * <ul>
 *   <li>a caller queues its change (a function from the load balancer as it is to how this Service
 *       wants it) and waits; one caller at a time per load balancer writes, and it takes every
 *       change queued by then: the changes that arrive while a write is in flight go into the next
 *       single PUT;
 *   <li>the writer reads the load balancer with its ETag, applies each change to a copy (a change
 *       that fails, e.g. over a limit, is left out and only its caller gets the error), writes once
 *       with {@code If-Match}, and on 412 (someone else wrote it meanwhile) reads and applies
 *       again; a write nothing changes is not made;
 *   <li>if ARM refuses the batch (400), each change is written alone, so one bad Service does not
 *       fail the others.
 * </ul>
 */
final class AzureLbWriter {

  /** One Service's wish for the load balancer; may throw to refuse it (nothing of it is kept). */
  interface Change {
    /**
     * @param lb the load balancer as it is (a copy to change), or null when none exists
     * @return the load balancer as wanted, or null for "none needed" (delete it if it exists)
     */
    LoadBalancerInner apply(LoadBalancerInner lb) throws ProviderException;
  }

  /** Reads, writes and deletes one load balancer. */
  interface Store {
    Optional<LoadBalancerInner> read(String name) throws ProviderException;

    /** Writes with {@code If-Match: etag}, or {@code If-None-Match: *} when etag is null. */
    LoadBalancerInner write(String name, LoadBalancerInner lb, String etag)
        throws ProviderException;

    void delete(String name) throws ProviderException;
  }

  private record Pending(Change change, CompletableFuture<Optional<LoadBalancerInner>> done) {}

  private final Store store;
  private final boolean batching;
  private final Map<String, ConcurrentLinkedQueue<Pending>> queues = new ConcurrentHashMap<>();
  // not monitors: the holder waits on ARM's answer, which on Java 21 would pin its virtual thread's
  // carrier for the wait
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicInteger conflicts =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * @param batching false writes each change alone (one write per Service, as upstream does): the
   *     baseline the batching is measured against
   */
  AzureLbWriter(Store store, boolean batching) {
    this.store = store;
    this.batching = batching;
  }

  /** Applies {@code change} to load balancer {@code name}; answers it as written (or gone). */
  Optional<LoadBalancerInner> change(String name, Change change) throws ProviderException {
    Pending mine = new Pending(change, new CompletableFuture<>());
    queues.computeIfAbsent(name, n -> new ConcurrentLinkedQueue<>()).add(mine);
    ReentrantLock lock = locks.computeIfAbsent(name, n -> new ReentrantLock());
    lock.lock();
    try {
      if (!mine.done().isDone()) {
        List<Pending> batch = new ArrayList<>();
        if (batching) {
          for (Pending p; (p = queues.get(name).poll()) != null; ) {
            batch.add(p);
          }
        } else {
          queues.get(name).remove(mine);
          batch.add(mine);
        }
        write(name, batch);
      }
    } finally {
      lock.unlock();
    }
    try {
      return mine.done().get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ProviderException p) {
        throw p;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProviderException.Transient("interrupted while writing " + name, e);
    }
  }

  /** Writes refused for a stale ETag so far (each read and applied again). */
  int conflicts() {
    return conflicts.get();
  }

  private void write(String name, List<Pending> batch) {
    try {
      writeAll(name, batch);
    } catch (ProviderException e) {
      if (batch.size() > 1 && Arm.failedWith(e, 400)) {
        for (Pending p : batch) { // one of them is what ARM refuses: find out which, alone
          if (!p.done().isDone()) {
            write(name, List.of(p));
          }
        }
        return;
      }
      batch.forEach(p -> p.done().completeExceptionally(e));
    } catch (RuntimeException | Error e) {
      batch.forEach(p -> p.done().completeExceptionally(e));
      throw e;
    }
  }

  private void writeAll(String name, List<Pending> batch) throws ProviderException {
    for (int attempt = 1; ; attempt++) {
      Optional<LoadBalancerInner> current = store.read(name);
      LoadBalancerInner working = current.map(AzureLbWriter::copy).orElse(null);
      List<Pending> kept = new ArrayList<>();
      for (Pending p : batch) {
        LoadBalancerInner before = working == null ? null : copy(working);
        try {
          working = p.change().apply(working);
          kept.add(p);
        } catch (ProviderException e) {
          p.done().completeExceptionally(e); // only this Service's change is refused
          working = before;
        }
      }
      if (kept.isEmpty()) {
        return;
      }
      Optional<LoadBalancerInner> result;
      if (working == null) {
        if (current.isPresent()) {
          store.delete(name);
        }
        result = Optional.empty();
      } else if (current.isPresent() && same(current.get(), working)) {
        result = current; // nothing to write
      } else {
        try {
          result =
              Optional.of(
                  store.write(name, working, current.map(LoadBalancerInner::etag).orElse(null)));
        } catch (ProviderException e) {
          if (Arm.failedWith(e, 412) && attempt < 10) {
            conflicts.incrementAndGet();
            batch = kept;
            continue; // someone wrote it since the read: read again and apply again
          }
          throw e;
        }
      }
      Optional<LoadBalancerInner> written = result;
      kept.forEach(p -> p.done().complete(written));
      return;
    }
  }

  static LoadBalancerInner copy(LoadBalancerInner lb) {
    return ArmJson.copy(lb, LoadBalancerInner::fromJson);
  }

  private static boolean same(LoadBalancerInner a, LoadBalancerInner b) {
    return java.util.Arrays.equals(ArmJson.json(a), ArmJson.json(b));
  }
}
