package dev.ferry.controller;

import dev.ferry.spi.LoadBalancerProvider;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.github.resilience4j.core.IntervalFunction;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
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
  // after a (re)start, Services that show an address take it back before new ones are served
  private final AddressReclaim reclaim = new AddressReclaim(Duration.ofMinutes(5));
  private final GuardedProvider provider;
  private final ServiceEvents events;
  private final ScheduledThreadPoolExecutor timer = newTimer();
  private final CompletableFuture<String> failed = new CompletableFuture<>();
  private final NodeChanges nodes;
  private final PeriodicChecks checks;
  private final LeakSweep leaks;
  private volatile ScheduledFuture<?> sweepTask;
  private int sweeps; // the workers' runs, so a sweep of an earlier run does not go on
  private volatile ScheduledFuture<?> checkTask;
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
            this::cachedServices,
            this::eligibleBackends,
            this.provider,
            classifier,
            ports,
            events,
            new Planner.Settings(
                settings.clusterName(),
                this.provider.capabilities().healthCheckDefaults(),
                this.provider.capabilities().localHealthCheckDefaults(),
                settings.reclaimPolicy()),
            registry);
    Timer reconcileTimer =
        Timer.builder("ferry.reconcile.duration")
            .description("Time to reconcile one Service")
            .publishPercentileHistogram()
            .register(registry);
    this.queue =
        new WorkQueue(
            key -> {
              Service cached = cachedService(key);
              if (cached != null && reclaim.mustWait(key, cached)) {
                return new Outcome.RequeueAfter(AddressReclaim.WAIT);
              }
              Outcome outcome = reconcileTimer.record(() -> reconciler.reconcile(key));
              reclaim.reconciled(key, outcome);
              afterReconcile(key);
              return outcome;
            },
            // twice the provider slots: a Service's Kubernetes writes (finalizer, status) do not
            // hold a slot, so the cloud calls keep going while they are in flight
            2 * settings.workers(),
            backoff);
    this.nodes =
        new NodeChanges(
            () -> nodeInformer.getStore().list(),
            timer,
            settings.nodeSyncDelay(),
            labelsOnly ->
                serviceInformer.getStore().list().stream()
                    .filter(classifier::isRelevant)
                    .filter(s -> !labelsOnly || Planner.picksNodesByLabel(s))
                    .map(Cache::metaNamespaceKeyFunc)
                    .forEach(queue::add));
    this.checks =
        new PeriodicChecks(
            timer,
            settings.resyncPeriod(),
            this::cachedService,
            classifier,
            reconciler,
            this.provider,
            queue,
            this::isLeading);
    this.leaks =
        new LeakSweep(
            this.provider,
            settings.clusterName(),
            settings.resyncPeriod(),
            this::cachedServices,
            this::isLeading);
    ControllerGauges.register(
        registry, this::cachedServices, classifier, this::isLeading, queue, ports.allocator());
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
    serviceInformer.addEventHandler(new ServiceHandler(ports, classifier, reconciler, queue));
    nodeInformer.addEventHandler(new NodeHandler());
    CompletableFuture.allOf(
            serviceInformer.start().toCompletableFuture(),
            nodeInformer.start().toCompletableFuture())
        .join();
    serviceInformer.stopped().whenComplete((v, t) -> informerStopped("Service", t));
    nodeInformer.stopped().whenComplete((v, t) -> informerStopped("Node", t));
    serviceInformer.getStore().list().forEach(ports::observe);
    NodeEligibility.Eligible eligible = nodes.prime();
    log.info(
        "caches synced: {} services, {} nodes ({} eligible), {} NodePorts in use",
        serviceInformer.getStore().list().size(),
        nodeInformer.getStore().list().size(),
        eligible.backends().size(),
        ports.allocator().allocatedCount());
    ready = true;
  }

  /** Starts reconciling (on becoming leader): every Ferry Service is checked once. */
  public synchronized void startWorkers() {
    if (leading) {
      return;
    }
    reconciler.forgetAll(); // another leader may have changed anything meanwhile
    List<Service> relevant =
        serviceInformer.getStore().list().stream().filter(classifier::isRelevant).toList();
    // Services that show an address take it back before a Service without one is served
    reclaim.start(
        relevant.stream()
            .filter(s -> !StatusWriter.ingressOf(s).isEmpty())
            .map(Cache::metaNamespaceKeyFunc)
            .toList());
    queue.start();
    relevant.stream()
        .sorted(Comparator.comparing(s -> StatusWriter.ingressOf(s).isEmpty()))
        .map(Cache::metaNamespaceKeyFunc)
        .forEach(queue::add);
    leading = true;
    long period = settings.resyncPeriod().toMillis();
    long checkEvery = Math.max(50, period / 20);
    checkTask =
        timer.scheduleWithFixedDelay(
            () -> Thread.ofVirtual().name("ferry-check").start(checks::checkDue),
            checkEvery,
            checkEvery,
            TimeUnit.MILLISECONDS);
    scheduleSweep(++sweeps, leaks.every().dividedBy(2));
  }

  /** The next leak sweep of the workers' run {@code run}, after {@code delay}. */
  private synchronized void scheduleSweep(int run, Duration delay) {
    if (!leading || run != sweeps) {
      return; // the workers stopped (or started again: that run schedules its own)
    }
    sweepTask =
        timer.schedule(
            () ->
                Thread.ofVirtual()
                    .name("ferry-sweep")
                    .start(() -> scheduleSweep(run, leaks.runOnce())),
            delay.toMillis(),
            TimeUnit.MILLISECONDS);
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
    if (sweepTask != null) {
      sweepTask.cancel(false);
    }
    if (checkTask != null) {
      checkTask.cancel(false);
    }
    queue.stop();
    checks.cancelAll();
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

  private void afterReconcile(String key) {
    checks.reconciled(key);
  }

  private List<Service> cachedServices() {
    SharedIndexInformer<Service> informer = serviceInformer;
    return informer == null ? List.of() : informer.getStore().list();
  }

  private Service cachedService(String key) {
    return serviceInformer.getIndexer().getByKey(key);
  }

  private NodeEligibility.Eligible eligibleBackends() {
    return nodes.eligible();
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

  private final class NodeHandler implements ResourceEventHandler<Node> {
    @Override
    public void onAdd(Node node) {
      nodes.changed(ready);
    }

    @Override
    public void onUpdate(Node old, Node node) {
      if (NodeEligibility.isEligible(old) != NodeEligibility.isEligible(node)
          || !NodeEligibility.toBackend(old).equals(NodeEligibility.toBackend(node))
          || !Objects.equals(old.getMetadata().getLabels(), node.getMetadata().getLabels())) {
        // a heartbeat or condition change leaves the set as it is; labels count: a Service may
        // pick its nodes by label
        nodes.changed(ready);
      }
    }

    @Override
    public void onDelete(Node node, boolean finalStateUnknown) {
      nodes.changed(ready);
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
