package dev.ferry.demo;

import dev.ferry.controller.ControllerProcess;
import dev.ferry.controller.RunOptions;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * {@code ferry demo}: an embedded API server, three simulated nodes, Ferry with the local provider,
 * the Services in {@code examples/services}, real traffic, and a node failure. Each step says what
 * it does and what it saw; with {@code --once} the first failed step ends the run with a non-zero
 * code.
 */
final class Tour implements AutoCloseable {

  private static final Duration ADDRESS_WAIT = Duration.ofSeconds(30);
  private static final Duration FAILOVER_WAIT = Duration.ofSeconds(40);
  private static final String STOPPED_NODE = "demo-node-2";

  private final Path home;
  private final Path kubeconfig;
  private final int nodeCount;
  private final List<AutoCloseable> parts = new ArrayList<>();
  private int step;
  private final int steps = 7;
  private EmbeddedApi api;
  private KubernetesClient client;
  private DemoCluster cluster;
  private ControllerProcess controller;
  // each Service's addresses: one per family it is served in
  private final Map<String, List<String>> addresses = new LinkedHashMap<>();

  /** Thrown by a step that did not work; carries what was seen. */
  static final class StepFailed extends Exception {
    StepFailed(String message) {
      super(message);
    }
  }

  Tour(Path home, Path kubeconfig, int nodeCount) {
    this.home = home;
    this.kubeconfig = kubeconfig;
    this.nodeCount = nodeCount;
  }

  /** Runs every step; returns the name of the failed step, or null when all worked. */
  String run() {
    List<Map.Entry<String, Callable<Void>>> plan =
        List.of(
            Map.entry("Start an embedded Kubernetes API server", this::startApi),
            Map.entry("Register simulated nodes", this::startNodes),
            Map.entry("Start Ferry with the local provider", this::startFerry),
            Map.entry("Apply the example Services", this::applyExamples),
            Map.entry("Wait for load-balancer addresses", this::waitForAddresses),
            Map.entry("Send traffic through every address", this::sendTraffic),
            Map.entry("Stop " + STOPPED_NODE + " and watch traffic move", this::failover));
    for (Map.Entry<String, Callable<Void>> s : plan) {
      step++;
      System.out.printf("%n[%d/%d] %s%n", step, steps, s.getKey());
      try {
        s.getValue().call();
      } catch (Exception e) {
        System.out.printf("  FAILED: %s%n", e.getMessage());
        return s.getKey();
      }
    }
    return null;
  }

  private Void startApi() throws IOException {
    api = EmbeddedApi.start(0);
    parts.add(api);
    client = api.client();
    parts.add(client);
    api.writeKubeconfig(kubeconfig);
    System.out.printf(
        "  API server: %s (%s)%n  kubeconfig: %s%n",
        api.url(), api.kind(), kubeconfig.toAbsolutePath());
    System.out.printf(
        "  try:        kubectl --kubeconfig %s get services%n", kubeconfig.toAbsolutePath());
    return null;
  }

  private Void startNodes() {
    cluster = new DemoCluster(client, nodeCount);
    parts.add(cluster);
    cluster.start();
    for (SimulatedNode n : cluster.nodes) {
      System.out.printf("  %s  %s  zone %s%n", n.name, n.address, n.zone);
    }
    return null;
  }

  private Void startFerry() throws IOException {
    RunOptions options = new RunOptions();
    new CommandLine(options)
        .parseArgs(
            "--kubeconfig",
            kubeconfig.toString(),
            "--provider",
            "local",
            "--cluster-name",
            "demo",
            "--no-leader-elect",
            "--metrics-address",
            "127.0.0.1",
            "--metrics-port",
            "0");
    controller = ControllerProcess.start(options);
    parts.add(controller);
    System.out.printf(
        "  provider local, addresses from 127.0.100.0/24, metrics on http://127.0.0.1:%d/metrics%n",
        controller.metricsPort());
    return null;
  }

  private Void applyExamples() throws IOException, StepFailed {
    Path dir = home.resolve("examples/services");
    List<Path> files;
    try (Stream<Path> list = Files.list(dir)) {
      files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    if (files.isEmpty()) {
      throw new StepFailed("no Service manifests in " + dir);
    }
    for (Path f : files) {
      try (InputStream in = Files.newInputStream(f)) {
        for (HasMetadata item : client.load(in).items()) {
          client.resource(item).inNamespace("default").create();
          System.out.printf(
              "  applied %s/%s from %s%n",
              item.getKind(), item.getMetadata().getName(), home.relativize(f));
        }
      }
    }
    return null;
  }

  private Void waitForAddresses() throws StepFailed {
    long deadline = System.nanoTime() + ADDRESS_WAIT.toNanos();
    List<Service> services =
        client.services().inNamespace("default").list().getItems().stream()
            .filter(s -> "LoadBalancer".equals(s.getSpec().getType()))
            .toList();
    for (Service s : services) {
      String name = s.getMetadata().getName();
      while (true) {
        Service now = client.services().inNamespace("default").withName(name).get();
        List<String> ips = ingressIps(now);
        if (!ips.isEmpty()) {
          addresses.put(name, ips);
          System.out.printf(
              "  %-9s -> %-15s ports %s%s%n",
              name, String.join(", ", ips), ports(now), families(now, ips));
          break;
        }
        if (System.nanoTime() > deadline) {
          throw new StepFailed(name + " got no address within " + ADDRESS_WAIT.toSeconds() + " s");
        }
        pause(100);
      }
    }
    return null;
  }

  private Void sendTraffic() throws StepFailed {
    for (String name : addresses.keySet()) {
      for (String ip : addresses.get(name)) {
        sendTraffic(name, ip);
      }
    }
    return null;
  }

  private void sendTraffic(String name, String ip) throws StepFailed {
    {
      Service s = client.services().inNamespace("default").withName(name).get();
      for (ServicePort p : s.getSpec().getPorts()) {
        Set<String> nodes = new LinkedHashSet<>();
        for (int i = 0; i < 6; i++) {
          String answer = request(ip, p, "hello-" + i);
          if (answer == null) {
            throw new StepFailed(
                "no answer from " + ip + ":" + p.getPort() + "/" + p.getProtocol());
          }
          nodes.add(Traffic.node(answer));
          if (i < 3) {
            System.out.printf("  %s:%d/%s  <-  %s%n", ip, p.getPort(), p.getProtocol(), answer);
          }
        }
        System.out.printf(
            "  %s %s %d/%s: 6 requests answered by %s%n",
            name, ip, p.getPort(), p.getProtocol(), nodes);
      }
    }
  }

  private Void failover() throws StepFailed {
    cluster.stopNode(STOPPED_NODE);
    long stopped = System.nanoTime();
    System.out.printf("  %s is down (its NodePorts and pods are gone)%n", STOPPED_NODE);
    for (String name : addresses.keySet()) {
      for (String ip : addresses.get(name)) {
        failover(name, ip, stopped);
      }
    }
    return null;
  }

  private void failover(String name, String ip, long stopped) throws StepFailed {
    {
      Service s = client.services().inNamespace("default").withName(name).get();
      for (ServicePort p : s.getSpec().getPorts()) {
        long deadline = stopped + FAILOVER_WAIT.toNanos();
        int clean = 0;
        Set<String> nodes = new LinkedHashSet<>();
        while (clean < 6) {
          if (System.nanoTime() > deadline) {
            throw new StepFailed(
                name
                    + " "
                    + ip
                    + " "
                    + p.getPort()
                    + "/"
                    + p.getProtocol()
                    + " still failing or reaching "
                    + STOPPED_NODE
                    + " after "
                    + FAILOVER_WAIT.toSeconds()
                    + " s");
          }
          String node = Traffic.node(request(ip, p, "after"));
          if (node != null && !node.equals(STOPPED_NODE)) {
            clean++;
            nodes.add(node);
          } else {
            clean = 0;
            nodes.clear();
          }
        }
        System.out.printf(
            "  %s %s %d/%s: 6 requests in a row answered by %s, %.1f s after the failure%n",
            name, ip, p.getPort(), p.getProtocol(), nodes, (System.nanoTime() - stopped) / 1e9);
      }
    }
  }

  private static String request(String ip, ServicePort p, String payload) {
    return "UDP".equals(p.getProtocol())
        ? Traffic.udp(ip, p.getPort(), payload)
        : Traffic.tcp(ip, p.getPort());
  }

  private static List<String> ingressIps(Service s) {
    if (s == null || s.getStatus() == null || s.getStatus().getLoadBalancer() == null) {
      return List.of();
    }
    var ingress = s.getStatus().getLoadBalancer().getIngress();
    return ingress == null
        ? List.of()
        : ingress.stream().map(i -> i.getIp()).filter(java.util.Objects::nonNull).toList();
  }

  /** For a Service that asked for two families: which it got. */
  private static String families(Service s, List<String> ips) {
    List<String> asked = s.getSpec().getIpFamilies();
    if (asked == null || asked.size() < 2) {
      return "";
    }
    return ips.size() == 2
        ? "  (dual-stack: " + String.join(" and ", asked) + ")"
        : "  (" + asked.get(0) + " only: this process cannot add IPv6 addresses to the loopback)";
  }

  private static String ports(Service s) {
    return s.getSpec().getPorts().stream()
        .map(p -> p.getPort() + "/" + p.getProtocol() + " (nodePort " + p.getNodePort() + ")")
        .toList()
        .toString();
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Blocks until the JVM is asked to stop. */
  void keepRunning() throws InterruptedException {
    System.out.printf(
        "%nFerry keeps running. In another terminal:%n"
            + "  kubectl --kubeconfig %1$s apply -f %2$s%n"
            + "  kubectl --kubeconfig %1$s get service hello -o jsonpath='{.status.loadBalancer.ingress[0].ip}'%n"
            + "  curl http://<that address>:9090/%n"
            + "Press Ctrl-C to stop.%n",
        kubeconfig.toAbsolutePath(), home.resolve("examples/hello.yaml"));
    controller.awaitExit();
  }

  @Override
  public void close() {
    for (int i = parts.size() - 1; i >= 0; i--) {
      try {
        parts.get(i).close();
      } catch (Exception e) {
        // closing the rest matters more
      }
    }
  }
}
