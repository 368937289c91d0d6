package dev.ferry.controller;

import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.ProviderException;
import io.fabric8.kubernetes.api.model.Service;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The periodic check of every Service's load balancer: one resync period (±10 %, so Services spread
 * over the period) after its last reconcile a Service is due; due Services are checked together in
 * one batched, read-only {@code inStep} call. A load balancer in step only has its status compared
 * (through the queue, so each Service is still reconciled by one worker at a time); any other gets
 * a full, read-first ensure.
 */
final class PeriodicChecks {

  private static final Logger log = LoggerFactory.getLogger(FerryController.class);

  private final ScheduledExecutorService timer;
  private final Duration period;
  private final Function<String, Service> cached;
  private final ServiceClassifier classifier;
  private final ServiceReconciler reconciler;
  private final GuardedProvider provider;
  private final WorkQueue queue;
  private final BooleanSupplier leading;
  private final Map<String, ScheduledFuture<?>> resyncs = new ConcurrentHashMap<>();
  // Services whose periodic check is due, checked together by the next round
  private final Set<String> due = ConcurrentHashMap.newKeySet();

  PeriodicChecks(
      ScheduledExecutorService timer,
      Duration period,
      Function<String, Service> cached,
      ServiceClassifier classifier,
      ServiceReconciler reconciler,
      GuardedProvider provider,
      WorkQueue queue,
      BooleanSupplier leading) {
    this.timer = timer;
    this.period = period;
    this.cached = cached;
    this.classifier = classifier;
    this.reconciler = reconciler;
    this.provider = provider;
    this.queue = queue;
    this.leading = leading;
  }

  /** After a reconcile of {@code key}: its next check, while the Service is Ferry's. */
  void reconciled(String key) {
    Service service = cached.apply(key);
    ScheduledFuture<?> previous;
    if (service == null || !classifier.isRelevant(service)) {
      previous = resyncs.remove(key);
    } else {
      long ms = period.toMillis();
      long delay = (long) (ms * (0.9 + 0.2 * ThreadLocalRandom.current().nextDouble()));
      previous = resyncs.put(key, timer.schedule(() -> due.add(key), delay, TimeUnit.MILLISECONDS));
    }
    if (previous != null) {
      previous.cancel(false);
    }
  }

  /** Checks the Services whose check is due. */
  void checkDue() {
    if (!leading.getAsBoolean() || due.isEmpty()) {
      return;
    }
    List<String> keys = new ArrayList<>(due);
    due.removeAll(keys);
    List<LoadBalancerPlan> plans = new ArrayList<>();
    Map<LoadBalancerRef, String> keyOf = new HashMap<>();
    for (String key : keys) {
      LoadBalancerPlan plan = reconciler.appliedPlan(key);
      if (plan == null) {
        reconciler.resync(key);
        queue.add(key);
      } else {
        plans.add(plan);
        keyOf.put(plan.ref(), key);
      }
    }
    Map<LoadBalancerRef, LoadBalancerStatus> inStep = Map.of();
    if (!plans.isEmpty()) {
      try {
        inStep = provider.inStep(plans);
      } catch (ProviderException | RuntimeException e) {
        log.info("periodic check failed, ensuring each instead: {}", e.getMessage());
      }
    }
    for (LoadBalancerPlan plan : plans) {
      String key = keyOf.get(plan.ref());
      LoadBalancerStatus status = inStep.get(plan.ref());
      if (status != null) {
        reconciler.checked(key, status);
      } else {
        reconciler.resync(key);
      }
      queue.add(key);
    }
  }

  /** Drops every pending check (on losing the lease). */
  void cancelAll() {
    resyncs.values().forEach(f -> f.cancel(false));
    resyncs.clear();
  }
}
