package dev.ferry.controller;

import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.ProviderException;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.github.resilience4j.core.IntervalFunction;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller process's core: informers on Services and Nodes whose handlers only filter and
 * enqueue, a work queue, and the reconciler. Workers start after both caches have synced and the
 * NodePort allocator has been rebuilt from every Service.
 */
public final class FerryController implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(FerryController.class);

  /** Objects per page of an informer's list (client-go's pager uses the same size). */
  static final long LIST_PAGE = 500;

  private final KubernetesClient client;
  private final ControllerSettings settings;
  private final ServiceClassifier classifier;
  private final NodePortAssigner ports;
  private final ServiceReconciler reconciler;
  private final WorkQueue queue;
  private final GuardedProvider provider;
  private final ServiceEvents events;
  // the eligible nodes, recomputed only after a Node event (not in every reconcile)
  private final java.util.concurrent.atomic.AtomicLong nodeEvents =
      new java.util.concurrent.atomic.AtomicLong();
  private final AtomicReference<EligibleSnapshot> eligible = new AtomicReference<>();

  private record EligibleSnapshot(long version, NodeEligibility.Eligible nodes) {}

  private final AtomicReference<NodeEligibility.Eligible> lastBackends = new AtomicReference<>();
  private final AtomicBoolean nodeSyncPending = new AtomicBoolean();
  private final ScheduledThreadPoolExecutor timer = newTimer();
  private final CompletableFuture<String> failed = new CompletableFuture<>();

  private final Map<String, ScheduledFuture<?>> resyncs = new ConcurrentHashMap<>();
  private final Map<String, Instant> orphanedSince = new ConcurrentHashMap<>();
  private volatile ScheduledFuture<?> sweeps;
  private volatile ScheduledFuture<?> checks;
  // Services whose periodic check is due, checked together by the next round
  private final Set<String> due = ConcurrentHashMap.newKeySet();
  private volatile SharedIndexInformer<Service> serviceInformer;
  private volatile SharedIndexInformer<Node> nodeInformer;
  private volatile boolean ready;
  private volatile boolean leading;
  private volatile boolean closing;

  public FerryController(
      KubernetesClient client,
      LoadBalancerProvider provider,
      ControllerSettings settings,
      MeterRegistry registry) {
    this(
        client,
        provider,
        settings,
        registry,
        WorkQueue.defaultBackoff(),
        new ServiceEvents(client, "ferry"));
  }

  /** With another retry backoff; tests use a short one. */
  FerryController(
      KubernetesClient client,
      LoadBalancerProvider provider,
      ControllerSettings settings,
      MeterRegistry registry,
      IntervalFunction backoff) {
    this(client, provider, settings, registry, backoff, new ServiceEvents(client, "ferry"));
  }

  FerryController(
      KubernetesClient client,
      LoadBalancerProvider provider,
      ControllerSettings settings,
      MeterRegistry registry,
      IntervalFunction backoff,
      ServiceEvents events) {
    this.client = Objects.requireNonNull(client);
    this.settings = Objects.requireNonNull(settings);
    this.events = Objects.requireNonNull(events);
    Objects.requireNonNull(registry);
    this.provider =
        new GuardedProvider(provider, registry, settings.providerTimeout(), settings.workers());
    this.classifier =
        new ServiceClassifier(
            settings.loadBalancerClass(), settings.handleDefaultClass(), settings.owner());
    this.ports = new NodePortAssigner(client, new NodePortAllocator(settings.nodePortRange()));
    this.reconciler =
        new ServiceReconciler(
            client,
            this::cachedService,
            this::eligibleBackends,
            this.provider,
            classifier,
            ports,
            events,
            new Planner.Settings(
                settings.clusterName(),
                this.provider.capabilities().healthCheckDefaults(),
                this.provider.capabilities().localHealthCheckDefaults()),
            registry);
    Timer reconcileTimer =
        Timer.builder("ferry.reconcile.duration")
            .description("Time to reconcile one Service")
            .publishPercentileHistogram()
            .register(registry);
    this.queue =
        new WorkQueue(
            key -> {
              Outcome outcome = reconcileTimer.record(() -> reconciler.reconcile(key));
              scheduleResync(key);
              return outcome;
            },
            // twice the provider slots: a Service's Kubernetes writes (finalizer, status) do not
            // hold a slot, so the cloud calls keep going while they are in flight
            2 * settings.workers(),
            backoff);
    for (String reason :
        List.of(
            StatusWriter.Ready.PROVISIONED,
            StatusWriter.Ready.PENDING,
            StatusWriter.Ready.PORT_ERROR,
            StatusWriter.Ready.INVALID_SERVICE,
            StatusWriter.Ready.PROVIDER_ERROR,
            StatusWriter.Ready.THROTTLED,
            StatusWriter.Ready.DELETING)) {
      Gauge.builder("ferry.services", this, c -> c.countByReason(reason))
          .description("Ferry's Services by the reason of their LoadBalancerReady condition")
          .tag("reason", reason)
          .register(registry);
    }
    Gauge.builder("ferry.services.without.address", this, FerryController::countWithoutAddress)
        .description("Services Ferry should serve that have no address in their status")
        .register(registry);
    Gauge.builder("ferry.leader", this, c -> c.leading ? 1 : 0)
        .description("1 while this replica reconciles (leads), 0 on standby")
        .register(registry);
    Gauge.builder("ferry.queue.depth", queue, WorkQueue::depth)
        .description("Services waiting to be reconciled")
        .register(registry);
    Gauge.builder("ferry.nodeports.allocated", ports.allocator(), NodePortAllocator::allocatedCount)
        .description("NodePorts in use in Ferry's range")
        .register(registry);
    Gauge.builder("ferry.nodeports.capacity", ports.allocator(), a -> a.range().size())
        .description("Size of Ferry's NodePort range")
        .register(registry);
  }

  /**
   * Starts informers and workers at once, for a controller that needs no leader election: {@link
   * #startCaches} then {@link #startWorkers}.
   */
  public void start() {
    startCaches();
    startWorkers();
  }

  /**
   * Starts the informers, waits for their caches and rebuilds the NodePort allocator; then the
   * controller is ready (a standby replica too: readiness is "caches synced and serving", not
   * leadership). Keys are queued from now on, and handled once workers run.
   */
  public void startCaches() {
    // lists in pages: a first list (or a relist) of 10,000 Services at once is tens of MiB of
    // JSON and whole objects on the heap before the stores slim them
    serviceInformer =
        client
            .services()
            .inAnyNamespace()
            .withLimit(LIST_PAGE)
            .runnableInformer(0)
            .itemStore(SlimStores.services());
    nodeInformer =
        client.nodes().withLimit(LIST_PAGE).runnableInformer(0).itemStore(SlimStores.nodes());
    serviceInformer.addEventHandler(new ServiceHandler());
    nodeInformer.addEventHandler(new NodeHandler());
    CompletableFuture.allOf(
            serviceInformer.start().toCompletableFuture(),
            nodeInformer.start().toCompletableFuture())
        .join();
    serviceInformer.stopped().whenComplete((v, t) -> informerStopped("Service", t));
    nodeInformer.stopped().whenComplete((v, t) -> informerStopped("Node", t));
    serviceInformer.getStore().list().forEach(ports::observe);
    lastBackends.set(eligibleBackends());
    log.info(
        "caches synced: {} services, {} nodes ({} eligible), {} NodePorts in use",
        serviceInformer.getStore().list().size(),
        nodeInformer.getStore().list().size(),
        lastBackends.get().backends().size(),
        ports.allocator().allocatedCount());
    ready = true;
  }

  /** Starts reconciling (on becoming leader): every Ferry Service is checked once. */
  public synchronized void startWorkers() {
    if (leading) {
      return;
    }
    reconciler.forgetAll(); // another leader may have changed anything meanwhile
    queue.start();
    // Services that show an address first: they get it back before a new one could take it
    serviceInformer.getStore().list().stream()
        .filter(classifier::isRelevant)
        .sorted(Comparator.comparing(s -> StatusWriter.ingressOf(s).isEmpty()))
        .map(Cache::metaNamespaceKeyFunc)
        .forEach(queue::add);
    leading = true;
    long period = settings.resyncPeriod().toMillis();
    long checkEvery = Math.max(50, period / 20);
    checks =
        timer.scheduleWithFixedDelay(
            () -> Thread.ofVirtual().name("ferry-check").start(this::checkDue),
            checkEvery,
            checkEvery,
            TimeUnit.MILLISECONDS);
    sweeps =
        timer.scheduleWithFixedDelay(
            () -> Thread.ofVirtual().name("ferry-sweep").start(this::sweep),
            period / 2,
            period * 3,
            TimeUnit.MILLISECONDS);
  }

  /**
   * The leak sweep: load balancers the provider owns for this cluster that no Service wants are
   * deleted once they have been orphaned for a resync period (seen orphaned by two sweeps that far
   * apart), each logged. What a Service with Ferry's finalizer holds is left to its cleanup.
   */
  private void sweep() {
    if (!leading) {
      return;
    }
    try {
      Map<String, Service> byUid = new HashMap<>();
      serviceInformer.getStore().list().forEach(s -> byUid.put(s.getMetadata().getUid(), s));
      Instant now = Instant.now();
      Set<String> still = new HashSet<>();
      for (OrphanSweep.Found f : OrphanSweep.find(provider, settings.clusterName(), byUid::get)) {
        if (!f.orphan()) {
          continue;
        }
        String uid = f.ref().uid();
        still.add(uid);
        Instant since = orphanedSince.putIfAbsent(uid, now);
        if (since != null && !since.plus(settings.resyncPeriod()).isAfter(now) && leading) {
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
      log.warn(
          "leak sweep failed, next one in {}: {}",
          settings.resyncPeriod().multipliedBy(3),
          e.getMessage());
    }
  }

  /**
   * Stops reconciling (on losing the lease) without touching any load balancer: the caches keep
   * syncing, the provider keeps its data plane, and {@link #startWorkers} can follow.
   */
  public synchronized void stopWorkers() {
    if (!leading) {
      return;
    }
    leading = false;
    if (sweeps != null) {
      sweeps.cancel(false);
    }
    if (checks != null) {
      checks.cancel(false);
    }
    queue.stop();
    resyncs.values().forEach(f -> f.cancel(false));
    resyncs.clear();
  }

  private double countByReason(String reason) {
    SharedIndexInformer<Service> informer = serviceInformer;
    if (informer == null) {
      return 0;
    }
    return informer.getStore().list().stream()
        .filter(s -> s.getStatus() != null && s.getStatus().getConditions() != null)
        .filter(
            s ->
                s.getStatus().getConditions().stream()
                    .anyMatch(
                        c -> StatusWriter.TYPE.equals(c.getType()) && reason.equals(c.getReason())))
        .count();
  }

  private double countWithoutAddress() {
    SharedIndexInformer<Service> informer = serviceInformer;
    if (informer == null) {
      return 0;
    }
    return informer.getStore().list().stream()
        .filter(classifier::wantsLoadBalancer)
        .filter(s -> StatusWriter.ingressOf(s).isEmpty())
        .count();
  }

  /** True once the caches have synced, until an informer stops. */
  public boolean isReady() {
    return ready;
  }

  /** True while the workers run (this replica leads, or needs no election). */
  public boolean isLeading() {
    return leading;
  }

  /**
   * Completes with the reason when the controller can no longer work (an informer stopped: its
   * cache would go stale); the process should then exit so that Kubernetes restarts it.
   */
  public CompletionStage<String> failed() {
    return failed;
  }

  private void informerStopped(String kind, Throwable cause) {
    if (closing) {
      return;
    }
    ready = false;
    String reason =
        "the " + kind + " informer stopped" + (cause == null ? "" : ": " + cause.getMessage());
    log.error("{}; the controller cannot go on with a stale cache", reason, cause);
    failed.complete(reason);
  }

  /** The informers, for tests that stop one. */
  List<SharedIndexInformer<?>> informers() {
    return List.of(serviceInformer, nodeInformer);
  }

  private Service cachedService(String key) {
    return serviceInformer.getIndexer().getByKey(key);
  }

  private NodeEligibility.Eligible eligibleBackends() {
    long version = nodeEvents.get();
    EligibleSnapshot cached = eligible.get();
    if (cached != null && cached.version() == version) {
      return cached.nodes();
    }
    NodeEligibility.Eligible now = NodeEligibility.Eligible.of(nodeInformer.getStore().list());
    // kept only if no Node event came meanwhile (else the next caller computes it again)
    eligible.accumulateAndGet(
        new EligibleSnapshot(version, now),
        (old, mine) -> old == null || old.version() < mine.version() ? mine : old);
    return now;
  }

  /**
   * The controller's one timer thread. A cancelled task leaves its queue at once: every reconcile
   * replaces its Service's pending resync, which would otherwise stay queued until its time came
   * (30,000 dead tasks at 10,000 Services).
   */
  private static ScheduledThreadPoolExecutor newTimer() {
    ScheduledThreadPoolExecutor t =
        new ScheduledThreadPoolExecutor(
            1, Thread.ofPlatform().name("ferry-timer").daemon().factory());
    t.setRemoveOnCancelPolicy(true);
    return t;
  }

  /**
   * Checks {@code key}'s load balancer again one resync period (±10 %, so Services spread over the
   * period) after its last reconcile, while the Service is Ferry's.
   */
  private void scheduleResync(String key) {
    Service service = cachedService(key);
    ScheduledFuture<?> previous;
    if (service == null || !classifier.isRelevant(service)) {
      previous = resyncs.remove(key);
    } else {
      long period = settings.resyncPeriod().toMillis();
      long delay = (long) (period * (0.9 + 0.2 * ThreadLocalRandom.current().nextDouble()));
      previous = resyncs.put(key, timer.schedule(() -> due.add(key), delay, TimeUnit.MILLISECONDS));
    }
    if (previous != null) {
      previous.cancel(false);
    }
  }

  /**
   * Checks the Services whose resync is due, all in one batched, read-only {@code inStep} call: a
   * load balancer in step only has its status compared (through the queue, so each Service is still
   * reconciled by one worker at a time); any other gets a full, read-first ensure.
   */
  private void checkDue() {
    if (!leading || due.isEmpty()) {
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

  /** Gathers node changes for a moment, then re-queues every handled Service once. */
  private void nodesChanged() {
    if (!ready || !nodeSyncPending.compareAndSet(false, true)) {
      return;
    }
    timer.schedule(
        () -> {
          nodeSyncPending.set(false);
          NodeEligibility.Eligible now = eligibleBackends();
          NodeEligibility.Eligible before = lastBackends.getAndSet(now);
          if (now.equals(before)) {
            return; // neither the nodes nor their labels changed
          }
          // only labels changed: only Services that pick their nodes by label can be affected
          boolean labelsOnly = before != null && now.backends().equals(before.backends());
          if (!labelsOnly) {
            logChange(before, now);
          }
          serviceInformer.getStore().list().stream()
              .filter(classifier::isRelevant)
              .filter(s -> !labelsOnly || Planner.picksNodesByLabel(s))
              .map(Cache::metaNamespaceKeyFunc)
              .forEach(queue::add);
        },
        settings.nodeSyncDelay().toMillis(),
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

  private final class ServiceHandler implements ResourceEventHandler<Service> {
    // The allocator follows every Service here, in the informer's order, not in a reconcile: a
    // port one Service lets go is free before the next event, in which another may take it.
    @Override
    public void onAdd(Service service) {
      ports.observe(service).forEach(queue::add);
      if (classifier.isRelevant(service)) {
        queue.add(Cache.metaNamespaceKeyFunc(service));
      }
    }

    @Override
    public void onUpdate(Service old, Service service) {
      ports.observe(service).forEach(queue::add);
      if (!classifier.isRelevant(service) && !classifier.isRelevant(old)) {
        return;
      }
      // only finalizers and annotations may differ once these two are the same
      boolean onlyMetadata =
          Objects.equals(old.getSpec(), service.getSpec())
              && Objects.equals(
                  old.getMetadata().getDeletionTimestamp(),
                  service.getMetadata().getDeletionTimestamp());
      if (onlyMetadata
          && Objects.equals(
              old.getMetadata().getAnnotations(), service.getMetadata().getAnnotations())
          && Objects.equals(
              old.getMetadata().getFinalizers(), service.getMetadata().getFinalizers())) {
        return; // status or resync only
      }
      String key = Cache.metaNamespaceKeyFunc(service);
      // asked first: the first update after an ownership write always ends its record
      if (reconciler.ownWrite(key, service) && onlyMetadata) {
        return; // the ownership Ferry's reconcile is taking: it goes on from its write
      }
      queue.add(key);
    }

    @Override
    public void onDelete(Service service, boolean finalStateUnknown) {
      ports.forget(service).forEach(queue::add);
      queue.add(Cache.metaNamespaceKeyFunc(service));
    }
  }

  private final class NodeHandler implements ResourceEventHandler<Node> {
    @Override
    public void onAdd(Node node) {
      nodeEvents.incrementAndGet();
      nodesChanged();
    }

    @Override
    public void onUpdate(Node old, Node node) {
      if (NodeEligibility.isEligible(old) != NodeEligibility.isEligible(node)
          || !NodeEligibility.toBackend(old).equals(NodeEligibility.toBackend(node))
          || !Objects.equals(old.getMetadata().getLabels(), node.getMetadata().getLabels())) {
        nodeEvents.incrementAndGet(); // a heartbeat or condition change leaves the set as it is
        nodesChanged(); // labels too: a Service may pick its nodes by label
      }
    }

    @Override
    public void onDelete(Node node, boolean finalStateUnknown) {
      nodeEvents.incrementAndGet();
      nodesChanged();
    }
  }

  @Override
  public void close() {
    closing = true;
    ready = false;
    leading = false;
    queue.close();
    timer.shutdownNow();
    if (serviceInformer != null) {
      serviceInformer.close();
    }
    if (nodeInformer != null) {
      nodeInformer.close();
    }
    events.close();
    provider.close();
  }
}
