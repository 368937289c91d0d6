package dev.ferry.controller;

import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.ProviderEvents;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running controller: Kubernetes client, provider, ops server, leader election and the core.
 * {@link #start} returns once the caches have synced; {@link #awaitExit} blocks until it stops.
 * Losing the lease stops reconciling and campaigns again; a stopped informer ends the process with
 * code 1.
 */
public final class ControllerProcess implements AutoCloseable {

  /** Ferry's version, as {@code --version} prints it and the API server sees it (User-Agent). */
  public static final String VERSION = "0.1.0";

  private static final Logger log = LoggerFactory.getLogger(ControllerProcess.class);
  private static final Path POD_NAMESPACE_FILE =
      Path.of("/var/run/secrets/kubernetes.io/serviceaccount/namespace");

  private final KubernetesClient client;
  private final KubernetesClient leaseClient;
  private final Duration leaseDuration;
  private final LoadBalancerProvider provider;
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final FerryController controller;
  private final OpsServer ops;
  private final CountDownLatch exited = new CountDownLatch(1);
  private final AtomicInteger exitCode = new AtomicInteger();
  private volatile Future<?> election;
  private volatile String identity;
  private volatile String leaseNamespace;
  private volatile String leaseName;
  private volatile boolean stopping;

  private ControllerProcess(RunOptions options) throws IOException {
    ControllerSettings settings =
        options.controllerSettings(leaseNamespace(options) + "/" + options.leaseName);
    LoadBalancerProviderFactory factory =
        ProviderRegistry.load(ControllerProcess.class.getClassLoader(), options.pluginPath)
            .get(options.provider);
    Config config = ApiServerConnection.find(options.kubeconfig).requireReachable().config();
    this.client = KubeClients.build(config);
    this.leaseDuration = RunOptions.parseDuration(options.leaseDuration, "--lease-duration");
    // the Lease gets a client of its own that fails fast: a renewal must fail within the renew
    // deadline when the API server is out, not after the default client's retries (minutes)
    int renewMillis = (int) leaseDuration.multipliedBy(2).dividedBy(3).toMillis();
    this.leaseClient =
        KubeClients.build(
            new ConfigBuilder(config)
                .withRequestTimeout(Math.max(500, renewMillis / 3))
                .withConnectionTimeout(Math.max(500, renewMillis / 3))
                .withRequestRetryBackoffLimit(0)
                .build());
    ServiceEvents events = new ServiceEvents(client, "ferry");
    this.provider =
        factory.create(
            ProviderContext.builder(settings.clusterName())
                .settings(options.providerSettings)
                .events(
                    new ProviderEvents() {
                      @Override
                      public void warning(LoadBalancerRef ref, String reason, String message) {
                        events.warning(ref, reason, message);
                      }

                      @Override
                      public void normal(LoadBalancerRef ref, String reason, String message) {
                        events.normal(ref, reason, message);
                      }
                    })
                .metrics(new MicrometerProviderMetrics(registry, options.provider))
                .build());
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    this.controller =
        new FerryController(
            client, provider, settings, registry, WorkQueue.defaultBackoff(), events);
    this.ops =
        new OpsServer(
            options.metricsAddress,
            options.metricsPort,
            registry,
            controller::isReady,
            () -> controller.isLeading() ? "leader" : "standby");
    controller
        .failed()
        .thenAccept(
            reason -> {
              log.error("exiting: {}", reason);
              stop(1);
            });
  }

  /**
   * Starts a controller as {@code options} say; fails fast on bad options or an unknown provider.
   */
  public static ControllerProcess start(RunOptions options) throws IOException {
    ControllerProcess process = new ControllerProcess(options);
    process.begin(options);
    return process;
  }

  private void begin(RunOptions options) {
    log.info(
        "ferry {} with provider '{}', metrics on :{}", "controller", options.provider, ops.port());
    if (Runtime.version().feature() < 24) {
      // workers, informer callbacks, provider calls and Event writers are virtual threads; before
      // JEP 491 one that waits inside `synchronized` (fabric8's leader election, cloud SDKs) holds
      // its carrier, one of as many as there are cores, for the whole wait
      log.warn(
          "running on Java {}: a virtual thread that waits inside synchronized holds one of the"
              + " {} carrier threads meanwhile; run Ferry on Java 24 or newer (the image ships 25)",
          Runtime.version(),
          Runtime.getRuntime().availableProcessors());
    }
    controller.startCaches(); // every replica: ready means caches synced, leader or not
    if (!options.leaderElect) {
      controller.startWorkers();
      return;
    }
    identity =
        System.getenv().getOrDefault("HOSTNAME", "ferry")
            + "-"
            + UUID.randomUUID().toString().substring(0, 8);
    leaseNamespace = leaseNamespace(options);
    leaseName = options.leaseName;
    campaign();
    log.info("{} waiting for the lease {}/{}", identity, leaseNamespace, leaseName);
  }

  /**
   * Runs for the lease until this replica has led and lost it, then runs again. Losing the lease
   * (e.g. the API server was out longer than the lease) stops the workers only: the caches keep
   * syncing and the provider's data plane (the local provider's proxies) keeps serving.
   */
  private void campaign() {
    if (exited.getCount() == 0) {
      return;
    }
    CompletableFuture<?> term =
        leaseClient
            .leaderElector()
            .withConfig(
                new LeaderElectionConfigBuilder()
                    .withName("ferry")
                    .withLock(new LeaseLock(leaseNamespace, leaseName, identity))
                    .withLeaseDuration(leaseDuration)
                    .withRenewDeadline(leaseDuration.multipliedBy(2).dividedBy(3))
                    .withRetryPeriod(leaseDuration.dividedBy(5))
                    .withReleaseOnCancel(false) // close() releases, quietly when it cannot
                    .withLeaderCallbacks(
                        new LeaderCallbacks(
                            () -> {
                              log.info("{} leads; starting workers", identity);
                              controller.startWorkers();
                            },
                            () -> {
                              if (stopping) {
                                log.debug("{} stopped leading", identity);
                              } else {
                                log.warn(
                                    "{} lost the lease; stopped reconciling, campaigning again",
                                    identity);
                              }
                              controller.stopWorkers();
                            },
                            leader -> {
                              if (leader != null) {
                                log.info("leader is {}", leader);
                              }
                            }))
                    .build())
            .build()
            .start();
    election = term;
    term.whenComplete(
        (v, t) -> {
          if (!stopping && !term.isCancelled()) {
            controller.stopWorkers();
            campaign();
          }
        });
  }

  private static String leaseNamespace(RunOptions options) {
    if (options.leaseNamespace != null) {
      return options.leaseNamespace;
    }
    try {
      if (Files.isReadable(POD_NAMESPACE_FILE)) {
        return Files.readString(POD_NAMESPACE_FILE).trim();
      }
    } catch (IOException e) {
      // fall through to the default
    }
    return System.getenv().getOrDefault("POD_NAMESPACE", "default");
  }

  /**
   * Hands the Lease back on a clean stop (holder cleared, duration 1 s, as client-go does), so the
   * standby takes over at once. When the API server cannot be reached the Lease simply expires.
   */
  private void releaseLease() {
    try {
      var lease = leaseClient.leases().inNamespace(leaseNamespace).withName(leaseName).get();
      if (lease == null
          || lease.getSpec() == null
          || !identity.equals(lease.getSpec().getHolderIdentity())) {
        return;
      }
      String now =
          java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC)
              .format(
                  java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"));
      leaseClient
          .leases()
          .inNamespace(leaseNamespace)
          .withName(leaseName)
          .patch(
              io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                  io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
              "{\"metadata\":{\"resourceVersion\":\""
                  + lease.getMetadata().getResourceVersion()
                  + "\"},\"spec\":{\"holderIdentity\":\"\",\"leaseDurationSeconds\":1,"
                  + "\"renewTime\":\""
                  + now
                  + "\"}}");
      log.info("{} released the lease {}/{}", identity, leaseNamespace, leaseName);
    } catch (RuntimeException e) {
      log.warn(
          "could not release the lease {}/{} ({}); it expires in {}",
          leaseNamespace,
          leaseName,
          e.getMessage(),
          leaseDuration);
    }
  }

  public boolean isReady() {
    return controller.isReady();
  }

  /** True while this replica reconciles. */
  public boolean isLeader() {
    return controller.isLeading();
  }

  public int metricsPort() {
    return ops.port();
  }

  public KubernetesClient client() {
    return client;
  }

  FerryController controller() {
    return controller;
  }

  /** True once the process has stopped. */
  public boolean hasStopped() {
    return exited.getCount() == 0;
  }

  /** The exit code if the process stops within {@code limit}; empty while it runs. */
  public java.util.Optional<Integer> awaitExitFor(Duration limit) throws InterruptedException {
    return exited.await(limit.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        ? java.util.Optional.of(exitCode.get())
        : java.util.Optional.empty();
  }

  /** Blocks until the process stops; returns its exit code. */
  public int awaitExit() throws InterruptedException {
    exited.await();
    return exitCode.get();
  }

  private void stop(int code) {
    exitCode.compareAndSet(0, code);
    close();
  }

  @Override
  public void close() {
    if (exited.getCount() == 0) {
      return;
    }
    stopping = true;
    boolean wasLeading = controller.isLeading();
    Future<?> e = election;
    if (e != null) {
      e.cancel(true); // no more renewals, then hand the Lease back
    }
    if (wasLeading && identity != null) {
      releaseLease();
    }
    controller.close();
    ops.close();
    leaseClient.close();
    client.close();
    exited.countDown();
  }
}
