package dev.ferry.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.HealthCheck;
import com.google.cloud.compute.v1.InstanceGroup;
import com.google.protobuf.Message;
import dev.ferry.spi.Backend;
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
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What the conformance kit does not see: the GCE shape as built, call counts, node churn cost,
 * errors mapped, the user's own address, internal Services, ownership.
 */
class GcpProviderTest {

  private static final String CLUSTER = "prod-eu";

  private final ComputeFake fake = GcpFixture.start();
  private final List<Backend> nodes = new ArrayList<>(GcpFixture.nodes(fake, 3));
  private final List<String> warnings = new ArrayList<>();
  private final RecordedMetrics metrics = new RecordedMetrics();
  private final GcpProvider provider =
      GcpFixture.provider(
          fake,
          ProviderContext.builder(CLUSTER)
              .metrics(metrics)
              .events((ref, reason, message) -> warnings.add(reason + ": " + message)));

  @AfterEach
  void close() {
    provider.close();
    fake.close();
  }

  private static LoadBalancerRef ref(int i) {
    return new LoadBalancerRef(CLUSTER, "shop", "web-" + i, "0000-uid-" + i);
  }

  /** A Cluster-policy Service with 2 TCP ports, as the planner makes it for GCE. */
  private LoadBalancerPlan plan(LoadBalancerRef ref, List<Backend> backends) {
    return LoadBalancerPlan.builder(
            ref,
            List.of(
                new Listener("http", Protocol.TCP, 80, 30080),
                new Listener("https", Protocol.TCP, 443, 30443)),
            new dev.ferry.spi.HealthCheck(
                dev.ferry.spi.HealthCheck.Type.HTTP,
                10256,
                "/healthz",
                Duration.ofSeconds(8),
                Duration.ofSeconds(1),
                1,
                3))
        .backends(backends)
        .build();
  }

  /** Requests since {@code before} that change something (a group's member list is a read). */
  /** A request that changes something (a group's member list is a read). */
  private static boolean isMutating(String request) {
    return !request.startsWith("GET") && !request.endsWith("/listInstances");
  }

  private static Map<String, Long> mutating(Map<String, Long> before, Map<String, Long> after) {
    return NodeChurn.delta(before, after, GcpProviderTest::isMutating);
  }

  private <T extends Message> List<T> all(String collection, Class<T> type) {
    return fake.all(collection).stream().map(type::cast).toList();
  }

  /** Ferry's resources of a collection: the project's own (GKE's, the user's) left out. */
  private <T extends Message> List<T> ferry(String collection, Class<T> type) {
    return fake.ferrys(collection, type);
  }

  private Set<String> clusterVms() {
    return GkeProject.clusterVms(fake);
  }

  @Test
  @DisplayName(
      "create (2 ports, 3 nodes in 2 zones) builds the GCE shape; an unchanged re-ensure makes no"
          + " mutating call; the figures are printed")
  void createShapeAndCounts() throws Exception {
    fake.pageSize(500); // Compute's page: the figures as a real project would see them
    Map<String, Long> before = fake.calls();
    LoadBalancerStatus status = provider.ensure(plan(ref(1), nodes));
    Map<String, Long> created = fake.calls();
    provider.ensure(plan(ref(1), nodes));
    Map<String, Long> again = fake.calls();

    assertThat(status.ingress().get(0).ip())
        .hasValueSatisfying(ip -> assertThat(ip).matches("34\\.118\\..*"));
    assertThat(status.ingress().get(0).ipMode()).contains(LoadBalancerStatus.IpMode.VIP);
    ForwardingRule rule = all("forwardingRules", ForwardingRule.class).get(0);
    assertThat(rule.getIPAddress()).isEqualTo(status.ingress().get(0).ip().orElseThrow());
    assertThat(rule.getPortsList()).containsExactly("80", "443");
    assertThat(rule.getLoadBalancingScheme()).isEqualTo("EXTERNAL");
    assertThat(rule.getLabelsMap()).containsEntry("ferry-cluster", CLUSTER);
    BackendService service = ferry("backendServices", BackendService.class).get(0);
    assertThat(service.getBackendsList())
        .as("GKE's own group in each zone with nodes, as full URLs")
        .extracting(com.google.cloud.compute.v1.Backend::getGroup)
        .containsExactlyInAnyOrder(
            ComputeFake.GOOGLEAPIS
                + "projects/ferry-test/zones/europe-west1-b/instanceGroups/"
                + GkeProject.GKE_GROUP,
            ComputeFake.GOOGLEAPIS
                + "projects/ferry-test/zones/europe-west1-c/instanceGroups/"
                + GkeProject.GKE_GROUP);
    HealthCheck check = ferry("healthChecks", HealthCheck.class).get(0);
    assertThat(check.getName()).isEqualTo(GcpNames.nodeHealthCheck(CLUSTER));
    assertThat(check.getHttpHealthCheck().getPort()).isEqualTo(10256);
    assertThat(check.getCheckIntervalSec()).isEqualTo(8);
    assertThat(check.getTimeoutSec()).isEqualTo(1);
    List<Firewall> firewalls =
        all("firewalls", Firewall.class).stream()
            .filter(f -> f.getName().startsWith("ferry-"))
            .toList();
    assertThat(firewalls)
        .extracting(f -> (List<String>) List.copyOf(f.getSourceRangesList()))
        .containsExactlyInAnyOrder(List.of("0.0.0.0/0"), GcpShape.HEALTH_CHECK_RANGES);
    assertThat(firewalls)
        .allSatisfy(f -> assertThat(f.getTargetTagsList()).containsExactly(GcpFixture.NODE_TAG));
    assertThat(Exposure.violations(fake, Map.of(ref(1).uid(), plan(ref(1), nodes)), clusterVms()))
        .isEmpty();
    assertThat(mutating(created, again)).as("unchanged re-ensure").isEmpty();

    System.out.printf(
        "GCP calls: create %d requests, mutating %s%n  unchanged re-ensure %d requests, mutating %s%n",
        NodeChurn.total(before, created),
        mutating(before, created),
        NodeChurn.total(created, again),
        mutating(created, again));
    assertThat(mutating(before, created))
        .as("GKE's groups already hold the nodes: no group is made or changed")
        .doesNotContainKeys("POST instanceGroups", "POST instanceGroups/addInstances")
        .containsEntry("POST forwardingRules", 1L)
        .containsEntry("POST forwardingRules/setLabels", 1L)
        .containsEntry("POST addresses/setLabels", 1L)
        .containsEntry("POST firewalls", 2L);
    assertThat(
            metrics.count(
                "cloud_calls", Map.of("operation", "forwardingRules.insert", "result", "ok")))
        .isEqualTo(1);
  }

  @Test
  @DisplayName(
      "a node added costs one instance-group change for the whole cluster, with 1, 10 or 100 Services")
  void nodeChurnIsCheap() throws Exception {
    fake.pageSize(500);
    StringBuilder table = new StringBuilder("GCP node added (mutating requests / all requests):");
    java.util.concurrent.atomic.AtomicInteger counter =
        new java.util.concurrent.atomic.AtomicInteger();
    for (NodeChurn.Row row :
        NodeChurn.measure(
            provider,
            i -> plan(ref(i), nodes),
            nodes,
            () -> GcpFixture.node(fake, 3 + counter.getAndIncrement()),
            fake::calls,
            GcpProviderTest::isMutating,
            1,
            10,
            100)) {
      table.append("%n  ".formatted()).append(row);
      assertThat(row.mutating())
          .as("%d Services", row.services())
          .isEqualTo(Map.of("POST instanceGroups/addInstances", 1L));
    }
    System.out.println(table);
    String group =
        "projects/"
            + GcpFixture.PROJECT
            + "/zones/"
            + GcpFixture.ZONES.get(0)
            + "/instanceGroups/"
            + GkeProject.GKE_GROUP;
    // nodes 0 and 2 GKE put there, and node 4 of the three added went to zone b
    assertThat(fake.membersOf(group)).hasSize(3);
  }

  @Test
  @DisplayName(
      "Local policy gets its own check on the healthCheckNodePort; a Service back on Cluster policy"
          + " leaves it deleted; the shared parts go with the last Service")
  void ownCheckAndSharedCleanup() throws Exception {
    LoadBalancerPlan local =
        plan(ref(1), nodes).toBuilder()
            .healthCheck(
                new dev.ferry.spi.HealthCheck(
                    dev.ferry.spi.HealthCheck.Type.HTTP,
                    32001,
                    "/healthz",
                    Duration.ofSeconds(8),
                    Duration.ofSeconds(1),
                    1,
                    3))
            .build();
    provider.ensure(local);
    provider.ensure(plan(ref(2), nodes));
    assertThat(ferry("healthChecks", HealthCheck.class))
        .extracting(HealthCheck::getName)
        .containsExactlyInAnyOrder(
            GcpNames.serviceHealthCheck(ref(1)), GcpNames.nodeHealthCheck(CLUSTER));
    assertThat(ferry("firewalls", Firewall.class))
        .extracting(Firewall::getName)
        .as("the Local Service's probers reach its healthCheckNodePort through its own firewall")
        .contains(GcpNames.healthFirewall(ref(1)));
    provider.ensure(plan(ref(1), nodes));
    assertThat(ferry("healthChecks", HealthCheck.class))
        .extracting(HealthCheck::getName)
        .containsExactly(GcpNames.nodeHealthCheck(CLUSTER));
    assertThat(ferry("firewalls", Firewall.class))
        .extracting(Firewall::getName)
        .doesNotContain(GcpNames.healthFirewall(ref(1)));

    provider.ensureDeleted(ref(1));
    assertThat(ferry("healthChecks", HealthCheck.class)).as("still used by web-2").hasSize(1);
    assertThat(ferry("firewalls", Firewall.class))
        .extracting(Firewall::getName)
        .as("web-2's and the cluster's probers' firewalls")
        .containsExactlyInAnyOrder(
            GcpNames.clientFirewall(ref(2)), GcpNames.nodeHealthFirewall(CLUSTER));
    provider.ensureDeleted(ref(2));
    assertThat(all("instanceGroups", InstanceGroup.class))
        .as("GKE's groups are GKE's")
        .extracting(InstanceGroup::getName)
        .containsOnly(GkeProject.GKE_GROUP);
    assertThat(ferry("healthChecks", HealthCheck.class)).isEmpty();
    assertThat(ferry("addresses", Address.class)).isEmpty();
    assertThat(ferry("firewalls", Firewall.class)).isEmpty();
  }

  @Test
  @DisplayName(
      "spec.loadBalancerIP naming the user's reserved address uses it and never releases it")
  void usersAddress() throws Exception {
    fake.put(
        "projects/ferry-test/regions/europe-west1/addresses/shop-ip",
        Address.newBuilder()
            .setAddress("34.120.7.7")
            .setAddressType("EXTERNAL")
            .setNetworkTier("PREMIUM")
            .setStatus("RESERVED")
            .build());
    LoadBalancerPlan plan =
        plan(ref(1), nodes).toBuilder().requestedIp(Optional.of("34.120.7.7")).build();
    LoadBalancerStatus status = provider.ensure(plan);
    assertThat(status.ingress().get(0).ip()).contains("34.120.7.7");
    assertThat(ferry("addresses", Address.class)).isEmpty();
    provider.ensureDeleted(ref(1));
    assertThat(all("addresses", Address.class)).extracting(Address::getName).contains("shop-ip");
    assertThat(all("forwardingRules", ForwardingRule.class)).isEmpty();
  }

  @Test
  @DisplayName("an internal Service (upstream annotation) gets INTERNAL rules in the named subnet")
  void internalWithSubnet() throws Exception {
    LoadBalancerPlan plan =
        plan(ref(1), nodes).toBuilder()
            .annotations(
                Map.of(GcpOptions.LB_TYPE, "Internal", GcpOptions.SUBNET, GkeProject.SUBNET))
            .build();
    provider.ensure(plan);
    ForwardingRule rule = all("forwardingRules", ForwardingRule.class).get(0);
    assertThat(rule.getLoadBalancingScheme()).isEqualTo("INTERNAL");
    assertThat(rule.getSubnetwork())
        .endsWith("/regions/" + GcpFixture.REGION + "/subnetworks/" + GkeProject.SUBNET);
    assertThat(ferry("addresses", Address.class).get(0).getAddressType()).isEqualTo("INTERNAL");
    assertThat(ferry("backendServices", BackendService.class).get(0).getLoadBalancingScheme())
        .isEqualTo("INTERNAL");
  }

  @Test
  @DisplayName("bad annotations are refused naming them, before any call")
  void badAnnotations() {
    Map<String, Long> before = fake.calls();
    assertThatThrownBy(
            () ->
                provider.ensure(
                    plan(ref(1), nodes).toBuilder()
                        .annotations(Map.of(GcpOptions.LB_TYPE, "Internet"))
                        .build()))
        .isInstanceOfSatisfying(
            ProviderException.InvalidPlan.class,
            e -> assertThat(e.violations().get(0).field()).contains(GcpOptions.LB_TYPE));
    assertThatThrownBy(
            () ->
                provider.ensure(
                    plan(ref(1), nodes).toBuilder()
                        .annotations(Map.of(GcpOptions.SUBNET, GkeProject.SUBNET))
                        .build()))
        .isInstanceOfSatisfying(
            ProviderException.InvalidPlan.class,
            e -> assertThat(e.getMessage()).contains("internal load balancers only"));
    assertThatThrownBy(
            () ->
                provider.ensure(
                    plan(ref(1), nodes).toBuilder()
                        .annotations(Map.of(GcpOptions.TARGET_NODE_LABELS, "pool=a"))
                        .build()))
        .isInstanceOf(ProviderException.InvalidPlan.class)
        .hasMessageContaining("shared by every Service");
    assertThat(fake.calls()).isEqualTo(before);
  }

  @Test
  @DisplayName(
      "a node without a gce:// providerID, or whose VM is gone, is skipped with a Warning; the"
          + " rest converges")
  void skippedNodes() throws Exception {
    List<Backend> odd = new ArrayList<>(nodes);
    odd.add(new Backend("metal", "", "10.0.9.1", ""));
    odd.add(
        new Backend(
            "ghost",
            "gce://" + GcpFixture.PROJECT + "/" + GcpFixture.ZONES.get(1) + "/gke-prod-ghost",
            "10.0.9.2",
            GcpFixture.ZONES.get(1)));
    provider.ensure(plan(ref(1), odd));
    assertThat(warnings)
        .anySatisfy(w -> assertThat(w).startsWith("NodeNotRegistered").contains("metal"))
        .anySatisfy(w -> assertThat(w).startsWith("NodeNotRegistered").contains("ghost"));
    assertThat(new GcpProviderConformanceTest.GcpCloudView(fake).registeredBackends(ref(1)))
        .containsExactlyInAnyOrder(
            GkeProject.NODE_PREFIX + 0, GkeProject.NODE_PREFIX + 1, GkeProject.NODE_PREFIX + 2);
  }

  @Test
  @DisplayName(
      "throttling is retried; a quota ends the operation as QuotaExceeded naming it; a permission"
          + " error names the role; each is counted by result")
  void errorsMapped() throws Exception {
    fake.throttleNext(2);
    provider.ensure(plan(ref(1), nodes)); // retried past two rateLimitExceeded answers
    assertThat(metrics.all().keySet()).anyMatch(k -> k.contains("result=throttled"));

    fake.failNextOperation(403, "QUOTA_EXCEEDED", "Quota 'FORWARDING_RULES' exceeded. Limit: 15.0");
    assertThatThrownBy(() -> provider.ensure(plan(ref(2), nodes)))
        .isInstanceOf(ProviderException.QuotaExceeded.class)
        .hasMessageContaining("FORWARDING_RULES");

    fake.denyNext(1);
    assertThatThrownBy(() -> provider.ensure(plan(ref(3), nodes)))
        .isInstanceOf(ProviderException.Transient.class)
        .hasMessageContaining("roles/compute.loadBalancerAdmin");
    assertThat(metrics.all().keySet()).anyMatch(k -> k.contains("result=denied"));
    // and each converges when the cloud allows it again
    assertThat(provider.ensure(plan(ref(2), nodes)).ingress()).isNotEmpty();
    assertThat(provider.ensure(plan(ref(3), nodes)).ingress()).isNotEmpty();
  }

  @Test
  @DisplayName("listOwned finds this cluster's Services by their descriptions, and no others")
  void listOwned() throws Exception {
    provider.ensure(plan(ref(1), nodes));
    provider.ensure(plan(new LoadBalancerRef("other", "shop", "web", "other-uid"), nodes));
    assertThat(provider.listOwned(CLUSTER)).containsExactly(ref(1));
  }

  @Test
  @DisplayName(
      "defect 13: a Local-policy Service's check defaults to GKE NetLB's 3 s / 1 s / 1 / 2, a"
          + " Cluster-policy one's to 8 s / 1 s / 1 / 3")
  void localTimings() {
    assertThat(provider.capabilities().localHealthCheckDefaults())
        .contains(
            new dev.ferry.spi.HealthCheckDefaults(
                Duration.ofSeconds(3), Duration.ofSeconds(1), 1, 2));
    assertThat(provider.capabilities().healthCheckDefaults())
        .contains(
            new dev.ferry.spi.HealthCheckDefaults(
                Duration.ofSeconds(8), Duration.ofSeconds(1), 1, 3));
  }

  @Test
  @DisplayName(
      "create on nodes no GKE group holds (a self-managed cluster): Ferry's own groups, one per"
          + " zone with nodes; the figures are printed")
  void ownGroupsCounts() throws Exception {
    fake.pageSize(500);
    List<Backend> pool =
        List.of(GcpFixture.node(fake, 10), GcpFixture.node(fake, 11), GcpFixture.node(fake, 12));
    Map<String, Long> before = fake.calls();
    provider.ensure(plan(ref(1), pool));
    Map<String, Long> created = fake.calls();
    assertThat(mutating(before, created))
        .containsEntry("POST instanceGroups", 2L)
        .containsEntry("POST instanceGroups/addInstances", 2L);
    System.out.printf(
        "GCP calls, own groups: create %d requests, mutating %s%n",
        NodeChurn.total(before, created), mutating(before, created));
  }

  @Test
  @DisplayName("a region Compute does not know fails start-up naming gcp.region")
  void unknownRegionFailsStart() {
    Map<String, String> settings = new java.util.HashMap<>(GcpFixture.settings(fake));
    settings.put(GcpProviderFactory.REGION, "europe-nowhere1");
    assertThatThrownBy(
            () ->
                GcpProviderFactory.create(
                    ProviderContext.builder(CLUSTER).settings(settings).build(),
                    Duration.ofMillis(5),
                    600_000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("gcp.region 'europe-nowhere1'");
  }
}
