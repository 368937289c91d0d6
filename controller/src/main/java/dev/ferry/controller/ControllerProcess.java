package dev.ferry.controller;

import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.ProviderContext;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running controller: Kubernetes client, provider, ops server, leader election and the core.
 * {@link #start} returns at once; {@link #awaitExit} blocks until it stops. Losing the lease ends
 * the process with a non-zero code, so a restarted pod rejoins the election clean.
 */
public final class ControllerProcess implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ControllerProcess.class);
  private static final Path POD_NAMESPACE_FILE =
      Path.of("/var/run/secrets/kubernetes.io/serviceaccount/namespace");

  private final KubernetesClient client;
  private final LoadBalancerProvider provider;
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final FerryController controller;
  private final OpsServer ops;
  private final CountDownLatch exited = new CountDownLatch(1);
  private final AtomicInteger exitCode = new AtomicInteger();
  private volatile Future<?> election;

  private ControllerProcess(RunOptions options) throws IOException {
    ControllerSettings settings =
        options.controllerSettings(leaseNamespace(options) + "/" + options.leaseName);
    LoadBalancerProviderFactory factory =
        ProviderRegistry.load(ControllerProcess.class.getClassLoader()).get(options.provider);
    this.client = new KubernetesClientBuilder().withConfig(config(options)).build();
    ServiceEvents events = new ServiceEvents(client, "ferry");
    this.provider =
        factory.create(
            new ProviderContext(settings.clusterName(), options.providerSettings, events::warning));
    Metrics.addRegistry(registry); // providers count their cloud calls on the global registry
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    this.controller =
        new FerryController(
            client, provider, settings, registry, WorkQueue.defaultBackoff(), events);
    this.ops =
        new OpsServer(options.metricsAddress, options.metricsPort, registry, controller::isReady);
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
    if (!options.leaderElect) {
      controller.start();
      return;
    }
    String identity =
        System.getenv().getOrDefault("HOSTNAME", "ferry")
            + "-"
            + UUID.randomUUID().toString().substring(0, 8);
    Duration lease = RunOptions.parseDuration(options.leaseDuration, "--lease-duration");
    election =
        client
            .leaderElector()
            .withConfig(
                new LeaderElectionConfigBuilder()
                    .withName("ferry")
                    .withLock(new LeaseLock(leaseNamespace(options), options.leaseName, identity))
                    .withLeaseDuration(lease)
                    .withRenewDeadline(lease.multipliedBy(2).dividedBy(3))
                    .withRetryPeriod(lease.dividedBy(5))
                    .withReleaseOnCancel(true)
                    .withLeaderCallbacks(
                        new LeaderCallbacks(
                            () -> {
                              log.info("{} leads; starting workers", identity);
                              controller.start();
                            },
                            () -> {
                              log.warn("{} lost the lease; exiting", identity);
                              stop(1);
                            },
                            leader -> log.info("leader is {}", leader)))
                    .build())
            .build()
            .start();
    log.info(
        "{} waiting for the lease {}/{}", identity, leaseNamespace(options), options.leaseName);
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

  private static Config config(RunOptions options) throws IOException {
    if (options.kubeconfig != null) {
      return Config.fromKubeconfig(Files.readString(options.kubeconfig));
    }
    return Config.autoConfigure(null);
  }

  public boolean isReady() {
    return controller.isReady();
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
    Future<?> e = election;
    if (e != null) {
      e.cancel(true);
    }
    controller.close();
    ops.close();
    Metrics.removeRegistry(registry);
    client.close();
    exited.countDown();
  }
}
