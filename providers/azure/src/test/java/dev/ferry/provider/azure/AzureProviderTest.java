package dev.ferry.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.ProviderException;
import dev.ferry.tck.NodeChurn;
import dev.ferry.tck.RecordedMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What the kit does not see: the shared load balancer's shape, write counts, node churn, the
 * batching measured against one write per Service, concurrent Services with another writer, the
 * load balancer's limits, other owners' parts, throttling.
 */
class AzureProviderTest {

  private static final String CLUSTER = "aks-prod";

  private final ArmFake fake = AzureFixture.start();
  private final List<Backend> nodes = new ArrayList<>(AzureFixture.nodes(3));
  private final List<String> warnings = new ArrayList<>();
  private final RecordedMetrics metrics = new RecordedMetrics();
  private final AzureProvider provider =
      AzureFixture.provider(
          fake,
          ProviderContext.builder(CLUSTER)
              .metrics(metrics)
              .events((ref, reason, message) -> warnings.add(reason + ": " + message)));
  private final AzureProviderConformanceTest.AzureCloudView cloud =
      new AzureProviderConformanceTest.AzureCloudView(fake);

  @AfterEach
  void close() {
    provider.close();
    fake.close();
  }

  private static LoadBalancerRef ref(int i) {
    return new LoadBalancerRef(CLUSTER, "shop", "web-" + i, "0000-uid-" + i);
  }

  /** A Cluster-policy Service with 2 TCP ports, as the planner makes it for Azure. */
  private static LoadBalancerPlan plan(LoadBalancerRef ref, List<Backend> backends) {
    return LoadBalancerPlan.builder(
            ref,
            List.of(
                new Listener("http", Protocol.TCP, 80, 30080),
                new Listener("https", Protocol.TCP, 443, 30443)),
            new HealthCheck(
                HealthCheck.Type.HTTP,
                10256,
                "/healthz",
                Duration.ofSeconds(5),
                Duration.ofSeconds(5),
                1,
                2))
        .backends(backends)
        .build();
  }

  private static boolean isWrite(String request) {
    return request.startsWith("PUT") || request.startsWith("DELETE");
  }

  private static Map<String, Long> writes(Map<String, Long> before, Map<String, Long> after) {
    return NodeChurn.delta(before, after, AzureProviderTest::isWrite);
  }

  private JsonNode loadBalancer(String name) {
    return fake.get(
        "/subscriptions/"
            + AzureFixture.SUBSCRIPTION
            + "/resourceGroups/"
            + AzureFixture.GROUP
            + "/providers/Microsoft.Network/loadBalancers/"
            + name);
  }

  @Test
  @DisplayName(
      "create builds the shared shape; an unchanged re-ensure makes no write; a node added is one"
          + " pool write whether 1, 10 or 100 Services use it")
  void shapeAndCounts() throws Exception {
    Map<String, Long> before = fake.calls();
    LoadBalancerStatus status = provider.ensure(plan(ref(0), nodes));
    Map<String, Long> created = fake.calls();
    provider.ensure(plan(ref(0), nodes));
    Map<String, Long> again = fake.calls();
    assertThat(status.ingress().get(0).ip())
        .hasValueSatisfying(ip -> assertThat(ip).startsWith("20.61."));
    assertThat(status.ingress().get(0).ipMode()).contains(LoadBalancerStatus.IpMode.VIP);
    JsonNode lb = loadBalancer("ferry-" + CLUSTER);
    assertThat(lb.path("sku").path("name").asText()).isEqualTo("Standard");
    assertThat(lb.path("properties").path("backendAddressPools")).hasSize(1);
    assertThat(lb.path("properties").path("probes"))
        .singleElement()
        .satisfies(p -> assertThat(p.get("name").asText()).isEqualTo(AzureNames.SHARED_PROBE));
    assertThat(lb.path("properties").path("loadBalancingRules"))
        .hasSize(2)
        .allSatisfy(
            r -> assertThat(r.path("properties").path("enableFloatingIP").asBoolean()).isTrue());
    assertThat(cloud.securityRules(ref(0)))
        .singleElement()
        .satisfies(
            r ->
                assertThat(r.path("properties").path("destinationAddressPrefix").asText())
                    .isEqualTo(status.ingress().get(0).ip().orElseThrow()));
    assertThat(writes(created, again)).as("unchanged re-ensure").isEmpty();
    // open to all: its ports from anyone, at its address only, and no other port
    JsonNode nsg =
        fake.get(
            AzureFixture.network(AzureFixture.GROUP, "networkSecurityGroups", AzureFixture.NSG));
    String ip = status.ingress().get(0).ip().orElseThrow();
    for (int port : List.of(80, 443)) {
      assertThat(
              NsgExposure.problems(
                  nsg, "Tcp", ip, port, List.of("198.51.100.7"), List.of(), "20.61.250.250"))
          .isEmpty();
    }
    assertThat(NsgExposure.admits(nsg, "Tcp", "198.51.100.7", ip, 22)).isFalse();
    assertThat(NsgExposure.admits(nsg, "Udp", "198.51.100.7", ip, 80)).isFalse();

    StringBuilder table =
        new StringBuilder(
            String.format(
                "Azure calls: create %d requests, writes %s%n  unchanged re-ensure %d requests, writes %s",
                NodeChurn.total(before, created),
                writes(before, created),
                NodeChurn.total(created, again),
                writes(created, again)));
    java.util.concurrent.atomic.AtomicInteger added =
        new java.util.concurrent.atomic.AtomicInteger();
    for (NodeChurn.Row row :
        NodeChurn.measure(
            provider,
            i -> plan(ref(i), nodes),
            nodes,
            () -> AzureFixture.node(3 + added.getAndIncrement()),
            fake::calls,
            AzureProviderTest::isWrite,
            1,
            10,
            100)) {
      table.append("%n  node added, ".formatted()).append(row);
      assertThat(row.mutating())
          .as("%d Services", row.services())
          .isEqualTo(Map.of("PUT loadbalancers", 1L));
    }
    System.out.println(table);
    // with 100 Services on the load balancer (and ARM's defaults in what it answers), an unchanged
    // Service in the middle is written no more than the only one was
    Map<String, Long> b = fake.calls();
    provider.ensure(plan(ref(50), currentNodes()));
    assertThat(writes(b, fake.calls())).as("re-ensure of the 51st of 100 Services").isEmpty();
  }

  /** The nodes the pool holds now (the churn added some). */
  private List<Backend> currentNodes() {
    List<Backend> out = new ArrayList<>(nodes);
    for (int i = 0; i < 3; i++) {
      out.add(AzureFixture.node(3 + i));
    }
    return out;
  }

  /** Creates {@code count} Services with {@code workers} threads; answers the wall time. */
  private static Duration burst(AzureProvider p, int count, int workers, List<Backend> nodes)
      throws Exception {
    return burst(p, CLUSTER, count, workers, nodes);
  }

  private static Duration burst(
      AzureProvider p, String cluster, int count, int workers, List<Backend> nodes)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    long start = System.nanoTime();
    try {
      List<Future<LoadBalancerStatus>> done = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        LoadBalancerPlan plan =
            plan(new LoadBalancerRef(cluster, "shop", "web-" + i, cluster + "-uid-" + i), nodes);
        done.add(pool.submit(() -> p.ensure(plan)));
      }
      for (Future<LoadBalancerStatus> f : done) {
        assertThat(f.get(5, TimeUnit.MINUTES).ingress()).isNotEmpty();
      }
      return Duration.ofNanos(System.nanoTime() - start);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  @DisplayName(
      "140 Services at once (280 rules: within Azure's 300 rules per node NIC) with 4 workers, 50 ms"
          + " per load-balancer write: batched writes against one write per Service; none lost either"
          + " way (figures printed)")
  void batchingMeasured() throws Exception {
    int services = 140;
    fake.writeLatency(Duration.ofMillis(50));
    AzureProvider baseline = AzureFixture.unbatched(fake, ProviderContext.builder("baseline"));
    Map<String, Long> b0 = fake.calls();
    int c0 = fake.preconditionFailures();
    // another cluster's nodes: a NIC is behind one public Standard Load Balancer only
    Duration slow =
        burst(
            baseline,
            "baseline",
            services,
            4,
            List.of(AzureFixture.node(20), AzureFixture.node(21), AzureFixture.node(22)));
    long baselineWrites =
        fake.calls().get("PUT loadbalancers") - b0.getOrDefault("PUT loadbalancers", 0L);
    int baselineConflicts = fake.preconditionFailures() - c0;

    Map<String, Long> b1 = fake.calls();
    int c1 = fake.preconditionFailures();
    Duration fast = burst(provider, services, 4, nodes);
    long batchedWrites =
        fake.calls().get("PUT loadbalancers") - b1.getOrDefault("PUT loadbalancers", 0L);
    int batchedConflicts = fake.preconditionFailures() - c1;

    System.out.printf(
        "Azure, %d Services created with 4 workers, 50 ms per load-balancer write:%n"
            + "  one write per Service: %d load-balancer writes, %d x 412, %.1f s%n"
            + "  batched:               %d load-balancer writes, %d x 412, %.1f s%n",
        services,
        baselineWrites,
        baselineConflicts,
        slow.toMillis() / 1000.0,
        batchedWrites,
        batchedConflicts,
        fast.toMillis() / 1000.0);
    assertThat(loadBalancer("ferry-baseline").path("properties").path("frontendIPConfigurations"))
        .hasSize(services);
    assertThat(loadBalancer("ferry-" + CLUSTER).path("properties").path("frontendIPConfigurations"))
        .hasSize(services);
    assertThat(loadBalancer("ferry-" + CLUSTER).path("properties").path("loadBalancingRules"))
        .hasSize(2 * services);
    assertThat(baselineWrites).isEqualTo(services);
    assertThat(batchedWrites).isLessThan(baselineWrites * 2 / 3); // each write carries several
    baseline.close();
  }

  @Test
  @DisplayName(
      "Services ensured in parallel while another writer changes the load balancer: a 412 is read"
          + " again and applied again; every frontend and rule is there, and the other writer's too")
  void concurrentWithAnotherWriter() throws Exception {
    provider.ensure(plan(ref(0), nodes));
    fake.interleave(
        lb ->
            ((com.fasterxml.jackson.databind.node.ArrayNode)
                    lb.withObject("properties").withArray("probes"))
                .add(
                    new ObjectMapper()
                        .createObjectNode()
                        .put("name", "someone-elses-probe")
                        .set(
                            "properties",
                            new ObjectMapper()
                                .createObjectNode()
                                .put("protocol", "Tcp")
                                .put("port", 22))));
    burst(provider, 40, 8, nodes);
    JsonNode lb = loadBalancer("ferry-" + CLUSTER);
    assertThat(lb.path("properties").path("frontendIPConfigurations")).hasSize(41);
    assertThat(lb.path("properties").path("loadBalancingRules")).hasSize(82);
    assertThat(lb.path("properties").path("probes").toString()).contains("someone-elses-probe");
    assertThat(fake.preconditionFailures()).isPositive();
    assertThat(provider.writer().conflicts()).isPositive();
  }

  @Test
  @DisplayName(
      "the load balancer's frontend limit: the Service over it gets a quota error naming the limit;"
          + " the others of its batch are written")
  void frontendLimit() throws Exception {
    AzureProvider small =
        AzureFixture.provider(
            fake, ProviderContext.builder("small"), new AzureSettings.Limits(3, 300, 1500, 1000));
    List<Future<?>> runs = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < 4; i++) {
      LoadBalancerPlan plan =
          plan(new LoadBalancerRef("small", "shop", "web-" + i, "small-" + i), nodes);
      runs.add(
          pool.submit(
              () -> {
                try {
                  small.ensure(plan);
                } catch (ProviderException e) {
                  failures.add(e);
                }
                return null;
              }));
    }
    for (Future<?> f : runs) {
      f.get(1, TimeUnit.MINUTES);
    }
    pool.shutdown();
    assertThat(failures)
        .singleElement()
        .isInstanceOf(ProviderException.QuotaExceeded.class)
        .satisfies(
            e -> assertThat(e.getMessage()).contains("limit of 3 frontend IP configurations"));
    assertThat(loadBalancer("ferry-small").path("properties").path("frontendIPConfigurations"))
        .hasSize(3);
    small.close();
  }

  @Test
  @DisplayName(
      "another owner's frontend, rule and probe on the shared load balancer are never touched, and"
          + " the load balancer stays when Ferry's last Service goes")
  void othersParts() throws Exception {
    String lbId =
        "/subscriptions/"
            + AzureFixture.SUBSCRIPTION
            + "/resourceGroups/"
            + AzureFixture.GROUP
            + "/providers/Microsoft.Network/loadBalancers/ferry-"
            + CLUSTER;
    fake.seed(
        lbId,
        "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"properties\":{"
            + "\"frontendIPConfigurations\":[{\"name\":\"upstream-fe\",\"id\":\""
            + lbId
            + "/frontendIPConfigurations/upstream-fe\",\"properties\":{\"privateIPAddress\":\"10.1.0.9\"}}],"
            + "\"backendAddressPools\":[{\"name\":\"kubernetes\",\"id\":\""
            + lbId
            + "/backendAddressPools/kubernetes\",\"properties\":{}}],"
            + "\"probes\":[{\"name\":\"upstream-probe\",\"id\":\""
            + lbId
            + "/probes/upstream-probe\",\"properties\":{\"protocol\":\"Tcp\",\"port\":31000}}],"
            + "\"loadBalancingRules\":[{\"name\":\"upstream-rule\",\"id\":\""
            + lbId
            + "/loadBalancingRules/upstream-rule\",\"properties\":{"
            + "\"frontendIPConfiguration\":{\"id\":\""
            + lbId
            + "/frontendIPConfigurations/upstream-fe\"},"
            + "\"backendAddressPool\":{\"id\":\""
            + lbId
            + "/backendAddressPools/kubernetes\"},"
            + "\"probe\":{\"id\":\""
            + lbId
            + "/probes/upstream-probe\"},\"protocol\":\"Tcp\",\"frontendPort\":8443,\"backendPort\":8443}}]}}");
    provider.ensure(plan(ref(1), nodes));
    provider.ensureDeleted(ref(1));
    JsonNode lb = loadBalancer("ferry-" + CLUSTER);
    assertThat(lb).isNotNull();
    assertThat(lb.toString())
        .contains("upstream-fe", "upstream-rule", "upstream-probe", "\"kubernetes\"");
    assertThat(cloud.ownedResources(ref(1))).isZero();
  }

  @Test
  @DisplayName(
      "a 429 is retried after its Retry-After and counted; the user's own public IP (named by"
          + " annotation) is used and never deleted; bad annotations are refused naming them")
  void throttlingAndAnnotations() throws Exception {
    fake.throttleNext(1);
    provider.ensure(plan(ref(1), nodes));
    assertThat(metrics.all().keySet()).anyMatch(k -> k.contains("result=throttled"));

    String pipId =
        "/subscriptions/"
            + AzureFixture.SUBSCRIPTION
            + "/resourceGroups/"
            + AzureFixture.GROUP
            + "/providers/Microsoft.Network/publicIPAddresses/shop-ip";
    fake.seed(
        pipId,
        "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"properties\":{\"ipAddress\":\"20.50.1.1\",\"publicIPAllocationMethod\":\"Static\"}}");
    LoadBalancerPlan own =
        plan(ref(2), nodes).toBuilder().annotations(Map.of(AzureWish.PIP_NAME, "shop-ip")).build();
    assertThat(provider.ensure(own).ingress().get(0).ip()).contains("20.50.1.1");
    provider.ensureDeleted(ref(2));
    assertThat(fake.get(pipId)).isNotNull();

    assertThatThrownBy(
            () ->
                provider.ensure(
                    plan(ref(3), nodes).toBuilder()
                        .annotations(Map.of(AzureWish.PROBE_INTERVAL, "1"))
                        .build()))
        .isInstanceOf(ProviderException.InvalidPlan.class)
        .hasMessageContaining(AzureWish.PROBE_INTERVAL);
  }

  @Test
  @DisplayName(
      "an internal Service gets a private frontend in the named subnet, on <cluster>-internal")
  void internal() throws Exception {
    LoadBalancerStatus status =
        provider.ensure(
            plan(ref(1), nodes).toBuilder()
                .annotations(Map.of(AzureWish.INTERNAL, "true", AzureWish.INTERNAL_SUBNET, "ilb"))
                .build());
    assertThat(status.ingress().get(0).ip())
        .hasValueSatisfying(ip -> assertThat(ip).startsWith("10.224."));
    JsonNode fe =
        loadBalancer("ferry-" + CLUSTER + "-internal")
            .path("properties")
            .path("frontendIPConfigurations")
            .get(0);
    assertThat(fe.path("properties").path("subnet").path("id").asText()).endsWith("/subnets/ilb");
    assertThat(cloud.publicIps(ref(1))).isEmpty();
  }
}
