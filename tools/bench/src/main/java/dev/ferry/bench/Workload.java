package dev.ferry.bench;

import dev.ferry.demo.KubeApiServerProcess;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.IntFunction;

/**
 * What the bench puts on the API server: its namespace, a ServiceCIDR with room for 10,000s of
 * Services, N Nodes and S Services of {@code type: LoadBalancer}; and its own client, whose user
 * agent the audit log tells apart from the controllers'.
 */
final class Workload {
  static final String NAMESPACE = "bench";
  static final String NODE_PORTS = "20000-59999";
  private static final String BENCH_AGENT = "ferry-bench";

  private Workload() {}

  /** The namespace, the ServiceCIDR and {@code nodes} Nodes. */
  static void setUp(KubernetesClient client, int nodes) throws Exception {
    client
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
        .create();
    serviceCidr(client);
    long t = System.nanoTime();
    parallel(nodes, i -> () -> client.nodes().resource(node(i)).create());
    System.out.printf("  %d Nodes created in %.1f s%n", nodes, Timing.secs(System.nanoTime() - t));
  }

  /**
   * kube-api-test gives the API server a /24 of ClusterIPs; a ServiceCIDR (GA since 1.33) adds a
   * /12, so 10,000s of Services fit.
   */
  private static void serviceCidr(KubernetesClient client) {
    client
        .resource(
            """
            apiVersion: networking.k8s.io/v1
            kind: ServiceCIDR
            metadata:
              name: ferry-bench
            spec:
              cidrs: ["10.96.0.0/12"]
            """)
        .create();
    // its Ready condition is kube-controller-manager's to set, and there is none here
    client
        .genericKubernetesResources("networking.k8s.io/v1", "ServiceCIDR")
        .withName("ferry-bench")
        .subresource("status")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
                + "\"reason\":\"Bench\",\"message\":\"\",\"lastTransitionTime\":\""
                + java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                + "\"}]}}");
  }

  static KubernetesClient benchClient(KubeApiServerProcess api) {
    Config base = api.client().getConfiguration();
    // a refused write fails the run at once instead of being retried for minutes
    Config config =
        new ConfigBuilder(base).withUserAgent(BENCH_AGENT).withRequestRetryBackoffLimit(1).build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  static String name(int i) {
    return String.format(Locale.ROOT, "svc-%05d", i);
  }

  static Node node(int i) {
    String name = String.format(Locale.ROOT, "node-%05d", i);
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("kubernetes.io/hostname", name)
        .addToLabels("topology.kubernetes.io/zone", "zone-" + (char) ('a' + i % 3))
        .endMetadata()
        .withNewSpec()
        .withProviderID("sim://" + name)
        .endSpec()
        .withNewStatus()
        .addNewAddress()
        .withType("InternalIP")
        .withAddress("10.1." + (i / 250) % 250 + "." + (i % 250 + 1))
        .endAddress()
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .withReason("KubeletReady")
        .endCondition()
        .endStatus()
        .build();
  }

  /** Node {@code i} created. */
  static Object addNode(KubernetesClient client, int i) {
    return client.nodes().resource(node(i)).create();
  }

  /** Node {@code i} deleted. */
  static Object removeNode(KubernetesClient client, int i) {
    return client.nodes().withName(node(i).getMetadata().getName()).delete();
  }

  static void setReady(KubernetesClient client, String node, boolean ready) {
    client
        .nodes()
        .withName(node)
        .subresource("status")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\""
                + (ready ? "True" : "False")
                + "\",\"reason\":\""
                + (ready ? "KubeletReady" : "KubeletNotReady")
                + "\"}]}}");
  }

  static Service service(int i) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name(i))
        .withNamespace(NAMESPACE)
        .endMetadata()
        .withNewSpec()
        .withType("LoadBalancer")
        .addToSelector("app", name(i))
        .addNewPort()
        .withName("http")
        .withProtocol("TCP")
        .withPort(80)
        .withNewTargetPort(8080)
        .endPort()
        .endSpec()
        .build();
  }

  /** Runs {@code count} tasks on 16 threads at most; the first failure is thrown. */
  static void parallel(int count, IntFunction<Callable<Object>> task) throws Exception {
    Semaphore gate = new Semaphore(16);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Object>> all = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        Callable<Object> t = task.apply(i);
        gate.acquire();
        all.add(
            pool.submit(
                () -> {
                  try {
                    return t.call();
                  } finally {
                    gate.release();
                  }
                }));
      }
      for (Future<Object> f : all) {
        f.get();
      }
    }
  }

  private static final int WARM_UP = 1000;
  private static final int WARM_UP_ROUNDS = 5;

  /**
   * Once per bench, before the first controller starts: creates and deletes up to {@value #WARM_UP}
   * Services with no controller running. The bench's own JVM compiles its create and watch paths
   * during the first burst it drives, and on two shared cores that CPU is taken from the API
   * server, so without this the first contender's create burst ran slower than the others' (the
   * bench took 10.7 s of CPU during Ferry's create burst, 2.0 s during the third contender's).
   */
  static void warmUp(KubernetesClient client, int services, Duration phaseLimit) throws Exception {
    // The bench's own JVM compiles its create and watch paths while it warms up; until that
    // settles it takes CPU from the machine the first contender shares. Rounds go on while one
    // still compiles for more than a quarter second (at most five).
    int n = Math.min(services, WARM_UP);
    long self = ProcessHandle.current().pid();
    for (int round = 1; round <= WARM_UP_ROUNDS; round++) {
      long t = System.nanoTime();
      double jit = ProcStats.jitCpuSeconds(self);
      try (AddressWatch w = new AddressWatch(client)) {
        parallel(
            n, i -> () -> client.services().inNamespace(NAMESPACE).resource(service(i)).create());
        Timing.waitFor(() -> w.present() >= n, phaseLimit);
        parallel(n, i -> () -> client.services().inNamespace(NAMESPACE).withName(name(i)).delete());
        Timing.waitFor(() -> w.present() == 0, phaseLimit);
      }
      jit = ProcStats.jitCpuSeconds(self) - jit;
      System.out.printf(
          "  bench warm-up %d: %d Services created and deleted, no controller, in %.1f s (the"
              + " bench's JIT %.2f s)%n",
          round, n, Timing.secs(System.nanoTime() - t), jit);
      if (jit < 0.25) {
        break;
      }
    }
  }
}
