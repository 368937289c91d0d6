package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.protobuf.Message;
import dev.ferry.controller.ControllerProcess;
import dev.ferry.provider.gcp.ComputeFake;
import dev.ferry.provider.gcp.Exposure;
import dev.ferry.provider.gcp.GkeProject;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GCP end to end: the controller process with {@code --provider gcp} against the Compute fake and
 * the real kube-apiserver, with exactly the chart's RBAC. The fake is built from Google's discovery
 * document and documented rules, and starts as a GKE cluster's project ({@link GkeProject}): the
 * nodes already in GKE's load-balanced {@code k8s-ig--} groups, a VM outside the cluster sharing
 * the nodes' {@code http-server} tag, the user's STANDARD-tier address, a custom-mode VPC. After
 * every step the security property holds ({@link Exposure}). The real API server validates the
 * status (an IP with {@code ipMode: VIP}).
 */
class GcpClusterIT {

  private static final String CLUSTER = "gcp-e2e";
  private static final String NS = "default";
  private static final String PROJECT = GkeProject.PROJECT;
  private static final String REGION = GkeProject.REGION;
  private static final List<String> SERVICES =
      List.of("gcp-shop", "gcp-dns", "gcp-v6", "gcp-keep", "gcp-a", "gcp-b");

  private static RealApiServer api;
  private static KubernetesClient admin;
  @TempDir static Path dir;
  private final List<ControllerProcess> running = new ArrayList<>();
  private final List<String> nodes = new ArrayList<>();
  private ComputeFake fake;

  @BeforeAll
  static void apiServer() throws Exception {
    api = RealApiServer.get();
    admin = api.admin;
  }

  @AfterEach
  void cleanUp() {
    // a failed run leaves its Services: released while its controller still runs, so no other
    // test's controller takes them up
    for (String name : SERVICES) {
      admin.services().inNamespace(NS).withName(name).delete();
    }
    ClusterIT.eventually().until(() -> SERVICES.stream().allMatch(n -> get(n) == null));
    running.forEach(ControllerProcess::close);
    nodes.forEach(n -> admin.nodes().withName(n).delete());
    if (fake != null) {
      fake.close();
    }
  }

  private void node(String name, String providerId, String address) {
    CloudE2e.node(admin, name, providerId, address);
    nodes.add(name);
  }

  /** GKE's node VM {@code n} (made in the fake unless GKE seeded it) and its Node. */
  private void vmNode(int n, boolean seeded) {
    if (!seeded) {
      GkeProject.node(fake, n);
    }
    String name = GkeProject.NODE_PREFIX + n;
    node(
        name, "gce://" + PROJECT + "/" + GkeProject.zoneOf(n) + "/" + name, "127.0.109." + (n + 1));
  }

  private static Service get(String name) {
    return admin.services().inNamespace(NS).withName(name).get();
  }

  private static LoadBalancerIngress ingress(String name) {
    return CloudE2e.ingress(admin, NS, name);
  }

  private static List<Event> events(String service, String reason) {
    return admin.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> service.equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }

  /** Ferry's resources of a collection; GKE's and the user's are left out. */
  private <T extends Message> List<T> ferry(String collection, Class<T> type) {
    return fake.ferrys(collection, type);
  }

  private List<String> gkeGroupMembers(String zone) {
    return fake
        .membersOf(
            "projects/" + PROJECT + "/zones/" + zone + "/instanceGroups/" + GkeProject.GKE_GROUP)
        .stream()
        .map(i -> i.substring(i.lastIndexOf('/') + 1))
        .toList();
  }

  /** The Service as a plan, for the security property: its ports, ranges and check. */
  private static LoadBalancerPlan intent(Service s) {
    List<Listener> listeners = new ArrayList<>();
    for (ServicePort p : s.getSpec().getPorts()) {
      listeners.add(
          new Listener(
              p.getName(), Protocol.valueOf(p.getProtocol()), p.getPort(), p.getNodePort()));
    }
    List<String> ranges = s.getSpec().getLoadBalancerSourceRanges();
    return LoadBalancerPlan.builder(
            new LoadBalancerRef(CLUSTER, NS, s.getMetadata().getName(), s.getMetadata().getUid()),
            listeners,
            new HealthCheck(
                HealthCheck.Type.HTTP,
                10256,
                "/healthz",
                Duration.ofSeconds(8),
                Duration.ofSeconds(1),
                1,
                3))
        .sourceRanges(
            ranges == null || ranges.isEmpty()
                ? s.getSpec().getIpFamilies().stream()
                    .map(f -> IpFamily.valueOf(f).everyAddress())
                    .toList()
                : ranges)
        .build();
  }

  private List<String> exposure() {
    Map<String, LoadBalancerPlan> plans = new HashMap<>();
    for (String name : SERVICES) {
      Service s = get(name);
      if (s != null) {
        plans.put(s.getMetadata().getUid(), intent(s));
      }
    }
    return Exposure.violations(fake, plans, GkeProject.clusterVms(fake));
  }

  private static Service service(String name, Map<String, String> annotations) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .withType("LoadBalancer")
        .addToSelector("app", name)
        .endSpec()
        .build();
  }

  /** GKE's project seeded with 3 node VMs, and their Nodes. */
  private void startProject() throws java.io.IOException {
    fake = new ComputeFake();
    fake.runningPolls(1);
    fake.pageSize(2);
    GkeProject.seed(fake, 3);
    vmNode(0, true);
    vmNode(1, true);
    vmNode(2, true);
  }

  private void startController(String... more) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--provider", "gcp",
                "--cluster-name", CLUSTER,
                "--provider-setting", "gcp.project=" + PROJECT,
                "--provider-setting", "gcp.region=" + REGION,
                "--provider-setting", "gcp.network=" + GkeProject.NETWORK,
                "--provider-setting", "gcp.endpoint=" + fake.endpoint()));
    args.addAll(List.of(more));
    running.add(ClusterControllers.start(api, dir, args));
  }

  @Test
  @DisplayName(
      "on a GKE-shaped project: a 2-port Service on the user's STANDARD address gets it (ipMode"
          + " VIP) through a STANDARD rule, served by GKE's own k8s-ig groups, firewalls on GKE's"
          + " node tag at its address only from its ranges; an internal TCP+UDP Service gets one"
          + " shared internal address in the VPC's subnet; a Node joins GKE's group; nothing opens"
          + " more than asked at any step; deletion leaves GKE's project as it was")
  void endToEnd() throws Exception {
    startProject();
    node("gcp-on-prem", null, "127.0.109.9");
    startController();

    Service shop = service("gcp-shop", Map.of());
    shop.getSpec().setLoadBalancerIP(GkeProject.STANDARD_IP);
    shop.getSpec().setLoadBalancerSourceRanges(List.of("203.0.113.0/24"));
    shop.getSpec()
        .setPorts(
            List.of(
                new ServicePortBuilder().withName("http").withPort(80).withProtocol("TCP").build(),
                new ServicePortBuilder()
                    .withName("https")
                    .withPort(443)
                    .withProtocol("TCP")
                    .build()));
    admin.services().inNamespace(NS).resource(shop).create();
    Service dns = service("gcp-dns", Map.of("networking.gke.io/load-balancer-type", "Internal"));
    dns.getSpec()
        .setPorts(
            List.of(
                new ServicePortBuilder().withName("dns").withPort(53).withProtocol("UDP").build(),
                new ServicePortBuilder()
                    .withName("dns-tcp")
                    .withPort(53)
                    .withProtocol("TCP")
                    .build()));
    admin.services().inNamespace(NS).resource(dns).create();

    ClusterIT.eventually().until(() -> ingress("gcp-shop") != null && ingress("gcp-dns") != null);
    LoadBalancerIngress ingress = ingress("gcp-shop");
    assertThat(ingress.getIp()).isEqualTo(GkeProject.STANDARD_IP);
    assertThat(ingress.getIpMode()).isEqualTo("VIP"); // passthrough keeps the destination
    assertThat(ingress.getHostname()).isNull();
    String shopUid = get("gcp-shop").getMetadata().getUid();
    List<ForwardingRule> rules = ferry("forwardingRules", ForwardingRule.class);
    ForwardingRule shopRule =
        rules.stream().filter(r -> r.getDescription().contains(shopUid)).findFirst().orElseThrow();
    assertThat(shopRule.getIPAddress()).isEqualTo(GkeProject.STANDARD_IP);
    assertThat(shopRule.getNetworkTier()).as("the address's own tier").isEqualTo("STANDARD");
    assertThat(shopRule.getPortsList()).containsExactly("80", "443");
    assertThat(shopRule.getDescription())
        .contains("\"kubernetes.io/service-name\":\"default/gcp-shop\"");
    assertThat(shopRule.getLabelsMap()).containsEntry("ferry-service-uid", shopUid);
    com.google.cloud.compute.v1.HealthCheck node =
        ferry("healthChecks", com.google.cloud.compute.v1.HealthCheck.class).get(0);
    assertThat(node.getHttpHealthCheck().getPort()).isEqualTo(10256);
    assertThat(node.getCheckIntervalSec()).as("GKE's NetLB timings").isEqualTo(8);
    assertThat(ferry("backendServices", BackendService.class))
        .hasSize(3)
        .allSatisfy(
            s ->
                assertThat(s.getBackendsList())
                    .allSatisfy(
                        b ->
                            assertThat(b.getGroup())
                                .endsWith("/instanceGroups/" + GkeProject.GKE_GROUP)));
    assertThat(ferry("instanceGroups", com.google.cloud.compute.v1.InstanceGroup.class))
        .as("no second load-balanced group for GKE's nodes")
        .isEmpty();
    List<Firewall> firewalls = ferry("firewalls", Firewall.class);
    assertThat(firewalls)
        .allSatisfy(f -> assertThat(f.getTargetTagsList()).containsExactly(GkeProject.NODE_TAG));
    assertThat(firewalls)
        .filteredOn(f -> f.getDescription().contains(shopUid))
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.getSourceRangesList()).containsExactly("203.0.113.0/24");
              assertThat(f.getDestinationRangesList()).containsExactly(GkeProject.STANDARD_IP);
            });
    String dnsIp = ingress("gcp-dns").getIp();
    assertThat(rules)
        .filteredOn(r -> r.getLoadBalancingScheme().equals("INTERNAL"))
        .hasSize(2)
        .allSatisfy(r -> assertThat(r.getIPAddress()).isEqualTo(dnsIp))
        .allSatisfy(
            r -> assertThat(r.getSubnetwork()).endsWith("/subnetworks/" + GkeProject.SUBNET));
    assertThat(exposure()).isEmpty();
    ClusterIT.eventually()
        .until(
            () ->
                events("gcp-shop", "NodeNotRegistered").stream()
                    .anyMatch(e -> e.getMessage().contains("gcp-on-prem")));

    // a Node joins: GKE has not put its VM in its group yet, so Ferry adds it there
    vmNode(3, false);
    ClusterIT.eventually()
        .until(() -> gkeGroupMembers(GkeProject.zoneOf(3)).contains(GkeProject.NODE_PREFIX + 3));
    assertThat(exposure()).isEmpty();

    String metrics = CloudE2e.metrics(running.get(0));
    assertThat(metrics)
        .contains(
            "ferry_provider_cloud_calls_total{operation=\"forwardingRules.insert\",provider=\"gcp\",result=\"ok\"} 3.0");

    for (String name : SERVICES) {
      admin.services().inNamespace(NS).withName(name).delete();
    }
    ClusterIT.eventually().until(() -> SERVICES.stream().allMatch(n -> get(n) == null));
    for (String collection :
        List.of(
            "forwardingRules",
            "backendServices",
            "healthChecks",
            "firewalls",
            "addresses",
            "instanceGroups")) {
      assertThat(ferry(collection, Message.class)).as(collection).isEmpty();
    }
    assertThat(
            fake.get(
                "projects/"
                    + PROJECT
                    + "/regions/"
                    + REGION
                    + "/addresses/"
                    + GkeProject.STANDARD_ADDRESS))
        .as("the user's address stays")
        .isNotNull();
    assertThat(gkeGroupMembers(GkeProject.NODE_ZONES.get(0)))
        .as("GKE's groups keep their nodes")
        .contains(GkeProject.NODE_PREFIX + 0);
  }

  @Test
  @DisplayName(
      "dual-stack on the real API server: on GKE's IPv4-only subnet a PreferDualStack Service gets"
          + " IPv4 and a Normal IPFamilyNotServed event, a RequireDualStack one a Warning naming"
          + " spec.ipFamilyPolicy and nothing built; once the subnet is dual-stack both get IPv4"
          + " and IPv6 in spec.ipFamilies order (ipMode VIP), a SingleStack IPv6 Service gets IPv6"
          + " alone; nothing opens more than asked; deletion leaves nothing")
  void dualStack() throws Exception {
    startProject();
    // the periodic check is when a PreferDualStack Service gains the family it lacked
    startController("--resync-period", "3s");
    Service prefer = service("gcp-shop", Map.of());
    prefer.getSpec().setIpFamilyPolicy("PreferDualStack");
    prefer.getSpec().setPorts(List.of(port("http", 80, "TCP")));
    prefer = admin.services().inNamespace(NS).resource(prefer).create();
    assertThat(prefer.getSpec().getIpFamilies()).containsExactly("IPv4", "IPv6");
    Service require = service("gcp-dns", Map.of());
    require.getSpec().setIpFamilyPolicy("RequireDualStack");
    require.getSpec().setIpFamilies(List.of("IPv6", "IPv4"));
    require.getSpec().setPorts(List.of(port("dns", 53, "UDP")));
    admin.services().inNamespace(NS).resource(require).create();

    ClusterIT.eventually().until(() -> ingress("gcp-shop") != null);
    assertThat(families("gcp-shop")).containsExactly(IpFamily.IPv4);
    ClusterIT.eventually().until(() -> !events("gcp-shop", "IPFamilyNotServed").isEmpty());
    Event notServed = events("gcp-shop", "IPFamilyNotServed").get(0);
    assertThat(notServed.getType()).isEqualTo("Normal");
    assertThat(notServed.getMessage()).contains("has no external IPv6 range");
    ClusterIT.eventually()
        .until(
            () ->
                events("gcp-dns", "SyncLoadBalancerFailed").stream()
                    .anyMatch(e -> e.getMessage().contains("spec.ipFamilyPolicy")));
    assertThat(ingress("gcp-dns")).isNull();
    assertThat(ferry("forwardingRules", ForwardingRule.class))
        .as("only gcp-shop's IPv4 rule")
        .hasSize(1);
    assertThat(exposure()).isEmpty();

    GkeProject.dualStack(fake);
    // the refused Service comes back when it changes; the served one at the next periodic check
    admin
        .services()
        .inNamespace(NS)
        .withName("gcp-dns")
        .edit(
            x ->
                new ServiceBuilder(x)
                    .editMetadata()
                    .addToLabels("stack", "dual")
                    .endMetadata()
                    .build());
    Service v6 = service("gcp-v6", Map.of());
    v6.getSpec().setIpFamilies(List.of("IPv6"));
    v6.getSpec().setPorts(List.of(port("http", 80, "TCP")));
    admin.services().inNamespace(NS).resource(v6).create();
    ClusterIT.eventually()
        .until(
            () ->
                families("gcp-shop").size() == 2
                    && families("gcp-dns").size() == 2
                    && families("gcp-v6").size() == 1);
    assertThat(families("gcp-shop")).containsExactly(IpFamily.IPv4, IpFamily.IPv6);
    assertThat(families("gcp-dns")).containsExactly(IpFamily.IPv6, IpFamily.IPv4);
    assertThat(families("gcp-v6")).containsExactly(IpFamily.IPv6);
    assertThat(get("gcp-dns").getStatus().getLoadBalancer().getIngress())
        .allSatisfy(i -> assertThat(i.getIpMode()).isEqualTo("VIP"));
    assertThat(ferry("forwardingRules", ForwardingRule.class))
        .filteredOn(r -> r.getIpVersion().equals("IPV6"))
        .hasSize(3)
        .allSatisfy(r -> assertThat(r.getNetworkTier()).isEqualTo("PREMIUM"));
    assertThat(exposure()).isEmpty();

    for (String name : SERVICES) {
      admin.services().inNamespace(NS).withName(name).delete();
    }
    ClusterIT.eventually().until(() -> SERVICES.stream().allMatch(n -> get(n) == null));
    for (String collection :
        List.of("forwardingRules", "backendServices", "healthChecks", "firewalls", "addresses")) {
      assertThat(ferry(collection, Message.class)).as(collection).isEmpty();
    }
  }

  @Test
  @DisplayName(
      "on the GKE-shaped project through the controller: Retain keeps the reserved address, labelled"
          + " retained, and a Service made again with claim-retained gets it; two Services with one"
          + " allow-shared-ip key share one address, a forwarding rule each, and the address goes"
          + " with the last; nothing opens more than asked")
  void retainAndShare() throws Exception {
    startProject();
    startController();
    Map<String, String> retain =
        Map.of("ferry.dev/reclaim-policy", "Retain", "ferry.dev/claim-retained", "true");
    Service keep = service("gcp-keep", retain);
    keep.getSpec().setPorts(List.of(port("http", 80, "TCP")));
    admin.services().inNamespace(NS).resource(keep).create();
    ClusterIT.eventually().until(() -> ingress("gcp-keep") != null);
    String ip = ingress("gcp-keep").getIp();
    admin.services().inNamespace(NS).withName("gcp-keep").delete();
    ClusterIT.eventually().until(() -> get("gcp-keep") == null);
    assertThat(ferry("forwardingRules", ForwardingRule.class)).isEmpty();
    assertThat(ferry("addresses", Address.class))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.getAddress()).isEqualTo(ip);
              assertThat(a.getLabelsMap()).containsEntry("ferry-reclaim", "retain");
            });
    admin.services().inNamespace(NS).resource(keep).create();
    ClusterIT.eventually().until(() -> ingress("gcp-keep") != null);
    assertThat(ingress("gcp-keep").getIp()).isEqualTo(ip);
    assertThat(exposure()).isEmpty();

    Map<String, String> shared = Map.of("ferry.dev/allow-shared-ip", "front");
    Service a = service("gcp-a", shared);
    a.getSpec().setPorts(List.of(port("http", 8080, "TCP")));
    Service b = service("gcp-b", shared);
    b.getSpec().setPorts(List.of(port("http", 8081, "TCP")));
    admin.services().inNamespace(NS).resource(a).create();
    admin.services().inNamespace(NS).resource(b).create();
    ClusterIT.eventually().until(() -> ingress("gcp-a") != null && ingress("gcp-b") != null);
    String sharedIp = ingress("gcp-a").getIp();
    assertThat(ingress("gcp-b").getIp()).isEqualTo(sharedIp).isNotEqualTo(ip);
    assertThat(ferry("forwardingRules", ForwardingRule.class))
        .filteredOn(r -> r.getIPAddress().equals(sharedIp))
        .hasSize(2);
    assertThat(exposure()).isEmpty();
    admin.services().inNamespace(NS).withName("gcp-a").delete();
    ClusterIT.eventually().until(() -> get("gcp-a") == null);
    assertThat(ferry("addresses", Address.class)).anyMatch(x -> x.getAddress().equals(sharedIp));
    admin.services().inNamespace(NS).withName("gcp-b").delete();
    ClusterIT.eventually().until(() -> get("gcp-b") == null);
    assertThat(ferry("addresses", Address.class)).noneMatch(x -> x.getAddress().equals(sharedIp));
  }

  private static ServicePort port(String name, int port, String protocol) {
    return new ServicePortBuilder().withName(name).withPort(port).withProtocol(protocol).build();
  }

  /** The families of a Service's status entries, in order. */
  private static List<IpFamily> families(String name) {
    Service s = get(name);
    if (s == null || s.getStatus().getLoadBalancer().getIngress() == null) {
      return List.of();
    }
    return s.getStatus().getLoadBalancer().getIngress().stream()
        .map(i -> IpFamily.of(i.getIp()))
        .toList();
  }
}
