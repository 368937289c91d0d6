package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.controller.ControllerProcess;
import dev.ferry.provider.aws.AwsAccount;
import dev.ferry.provider.aws.MotoServer;
import dev.ferry.spi.LoadBalancerRef;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroup;

/**
 * AWS end to end: the controller process with {@code --provider aws} against moto server and the
 * real kube-apiserver, authenticated with exactly the chart's RBAC. The real API server validates
 * the status Ferry writes (an NLB's hostname carries no {@code ipMode}), which no mock does.
 */
@ExtendWith(MotoServer.class)
class AwsClusterIT {

  private static final String CLUSTER = "aws-e2e";
  private static final String DUAL_CLUSTER = "aws-e2e-dual";
  private static final String NS = "default";

  private static RealApiServer api;
  private static KubernetesClient admin;
  @TempDir static Path dir;
  private final List<ControllerProcess> running = new ArrayList<>();
  private final List<String> nodes = new ArrayList<>();

  @BeforeAll
  static void apiServer() throws Exception {
    api = RealApiServer.get();
    admin = api.admin;
  }

  @AfterEach
  void cleanUp() {
    running.forEach(ControllerProcess::close);
    nodes.forEach(n -> admin.nodes().withName(n).delete());
  }

  private void node(String name, String providerId, String address) {
    Node node =
        new NodeBuilder()
            .withNewMetadata()
            .withName(name)
            .withLabels(Map.of("topology.kubernetes.io/zone", "us-east-1a"))
            .endMetadata()
            .withNewSpec()
            .withProviderID(providerId)
            .endSpec()
            .withNewStatus()
            .addNewAddress()
            .withType("InternalIP")
            .withAddress(address) // loopback: no test ever sends traffic beyond this machine
            .endAddress()
            .endStatus()
            .build();
    admin.nodes().resource(node).create();
    nodes.add(name);
  }

  private void instanceNode(Instance i, int n) {
    node(
        "aws-node-" + n,
        "aws:///" + i.placement().availabilityZone() + "/" + i.instanceId(),
        "127.0.108." + n);
  }

  /** Tagged subnets, a node group and one instance for {@code cluster}, and its Node. */
  private Instance oneNode(AwsAccount cloud, String cluster, String name, String address) {
    List<Subnet> subnets = cloud.tagSubnets(cluster);
    String sg = cloud.nodeSecurityGroup(cluster, subnets.get(0).vpcId());
    Instance instance = cloud.launch(1, subnets.get(0), sg).get(0);
    node(
        name,
        "aws:///" + instance.placement().availabilityZone() + "/" + instance.instanceId(),
        address);
    return instance;
  }

  /** A controller with the aws provider on {@code cloud} for {@code cluster}. */
  private void controller(AwsAccount cloud, String cluster) throws Exception {
    List<String> args = new ArrayList<>(List.of("--provider", "aws", "--cluster-name", cluster));
    cloud
        .providerSettings()
        .forEach((k, v) -> args.addAll(List.of("--provider-setting", k + "=" + v)));
    running.add(ClusterControllers.start(api, dir, args));
  }

  private static Service shop() {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName("aws-shop")
        .withNamespace(NS)
        .endMetadata()
        .withNewSpec()
        .withType("LoadBalancer")
        .addToSelector("app", "shop")
        .addNewPort()
        .withName("http")
        .withPort(80)
        .withProtocol("TCP")
        .endPort()
        .addNewPort()
        .withName("https")
        .withPort(443)
        .withProtocol("TCP")
        .endPort()
        .endSpec()
        .build();
  }

  private static Service get() {
    return admin.services().inNamespace(NS).withName("aws-shop").get();
  }

  private static LoadBalancerIngress ingress() {
    return CloudE2e.ingress(admin, NS, "aws-shop");
  }

  private static List<Event> events(String reason) {
    return admin.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "aws-shop".equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }

  @Test
  @DisplayName(
      "a 2-port Service gets its NLB hostname; health checks and targets are right; its clients are"
          + " let in by the NLB's own security group; a Node added is registered; untagged subnets"
          + " are retried until tagged; deletion leaves nothing")
  void endToEnd() throws Exception {
    AwsAccount cloud = AwsAccount.connect();
    Subnet subnet =
        cloud.ec2.describeSubnets().subnets().stream()
            .filter(Subnet::defaultForAz)
            .findFirst()
            .orElseThrow();
    String sg = cloud.nodeSecurityGroup(CLUSTER, subnet.vpcId());
    List<Instance> instances = cloud.launch(4, subnet, sg);
    for (int n = 0; n < 3; n++) {
      instanceNode(instances.get(n), n + 1);
    }
    node("aws-on-prem", null, "127.0.108.9"); // no instance: skipped with a Warning

    controller(cloud, CLUSTER);

    // no subnet is tagged for the cluster yet: an operator's problem, reported and retried
    admin.services().inNamespace(NS).resource(shop()).create();
    ClusterIT.eventually().until(() -> !events("SyncLoadBalancerFailed").isEmpty());
    assertThat(events("SyncLoadBalancerFailed").get(0).getMessage())
        .contains("is tagged kubernetes.io/role/elb");
    assertThat(ingress()).isNull();
    cloud.tagSubnets(CLUSTER);

    ClusterIT.eventually().until(() -> ingress() != null);
    LoadBalancerIngress ingress = ingress();
    assertThat(ingress.getIpMode()).isNull(); // the real API server refuses ipMode without ip
    assertThat(ingress.getIp()).isNull();

    List<LoadBalancer> lbs = cloud.loadBalancers();
    assertThat(lbs)
        .singleElement()
        .satisfies(
            lb -> {
              assertThat(lb.dnsName()).isEqualTo(ingress.getHostname());
              assertThat(lb.typeAsString()).isEqualTo("network");
              assertThat(lb.schemeAsString()).isEqualTo("internet-facing");
            });
    assertThat(cloud.listeners(lbs.get(0)))
        .extracting(l -> l.port())
        .containsExactlyInAnyOrder(80, 443);
    List<String> firstThree = instances.subList(0, 3).stream().map(Instance::instanceId).toList();
    List<TargetGroup> tgs = cloud.targetGroups();
    assertThat(tgs)
        .hasSize(2)
        .allSatisfy(
            tg -> {
              // kube-proxy's health endpoint, for every protocol (KEP-3836)
              assertThat(tg.healthCheckProtocolAsString()).isEqualTo("HTTP");
              assertThat(tg.healthCheckPort()).isEqualTo("10256");
              assertThat(tg.healthCheckPath()).isEqualTo("/healthz");
              assertThat(tg.healthCheckIntervalSeconds()).isEqualTo(10);
              assertThat(cloud.registeredInstances(tg))
                  .containsExactlyInAnyOrderElementsOf(firstThree);
            });
    Service stored = get();
    assertThat(tgs.stream().map(TargetGroup::port).collect(Collectors.toSet()))
        .isEqualTo(
            stored.getSpec().getPorts().stream()
                .map(p -> p.getNodePort())
                .collect(Collectors.toSet()));
    ClusterIT.eventually()
        .until(
            () ->
                events("NodeNotRegistered").stream()
                    .anyMatch(e -> e.getMessage().contains("aws-on-prem")));

    // a Node joins: its instance is registered in both target groups
    instanceNode(instances.get(3), 4);
    List<String> all = instances.stream().map(Instance::instanceId).toList();
    ClusterIT.eventually()
        .until(
            () ->
                cloud.targetGroups().stream()
                    .allMatch(tg -> cloud.registeredInstances(tg).containsAll(all)));

    LoadBalancerRef ref =
        new LoadBalancerRef(CLUSTER, NS, "aws-shop", stored.getMetadata().getUid());
    // clients are let in by the NLB's own security group; the node group admits the cluster's
    // load balancers (its backend group) once, not a rule per Service
    LoadBalancer lb = cloud.loadBalancersFor(ref).get(0);
    assertThat(lb.securityGroups()).hasSize(2);
    assertThat(cloud.frontendGroupOf(lb))
        .containsExactlyInAnyOrder("tcp/80 from 0.0.0.0/0", "tcp/443 from 0.0.0.0/0");
    assertThat(cloud.groupRulesOf(sg))
        .containsExactlyInAnyOrder(
            "tcp/30000-32767 from " + lb.securityGroups().get(1),
            "udp/30000-32767 from " + lb.securityGroups().get(1),
            "tcp/10256-10256 from " + lb.securityGroups().get(1));
    assertThat(cloud.rulesOf(sg, ref)).isEmpty();
    admin.services().inNamespace(NS).withName("aws-shop").delete();
    ClusterIT.eventually().until(() -> get() == null);
    assertThat(cloud.loadBalancers()).isEmpty();
    assertThat(cloud.targetGroups()).isEmpty();
    assertThat(cloud.groupsTagged(ref)).as("the NLB's own group").isEmpty();
  }

  @Test
  @DisplayName(
      "RequireDualStack on the real API server: one NLB hostname, the NLB dualstack in IPv6"
          + " subnets, its security group open to both families' every address and nothing else;"
          + " deletion leaves nothing")
  void dualStack() throws Exception {
    AwsAccount cloud = AwsAccount.connect();
    List<Subnet> subnets =
        cloud.tagSubnets(DUAL_CLUSTER); // its own cluster: endToEnd starts untagged
    cloud.ipv6(subnets);
    String sg = cloud.nodeSecurityGroup(DUAL_CLUSTER, subnets.get(0).vpcId());
    List<Instance> instances = cloud.launch(2, subnets.get(0), sg);
    for (int n = 0; n < 2; n++) {
      node(
          "aws-ds-node-" + n,
          "aws:///"
              + instances.get(n).placement().availabilityZone()
              + "/"
              + instances.get(n).instanceId(),
          "127.0.112." + (n + 1));
    }
    controller(cloud, DUAL_CLUSTER);
    Service dual =
        new ServiceBuilder(shop())
            .editMetadata()
            .withName("aws-dual")
            .endMetadata()
            .editSpec()
            .withIpFamilyPolicy("RequireDualStack")
            .endSpec()
            .build();
    dual = admin.services().inNamespace(NS).resource(dual).create();
    assertThat(dual.getSpec().getIpFamilies()).containsExactly("IPv4", "IPv6");
    ClusterIT.eventually().until(() -> CloudE2e.ingress(admin, NS, "aws-dual") != null);
    LoadBalancerIngress ingress = CloudE2e.ingress(admin, NS, "aws-dual");
    assertThat(ingress.getHostname()).isNotNull();
    assertThat(
            admin
                .services()
                .inNamespace(NS)
                .withName("aws-dual")
                .get()
                .getStatus()
                .getLoadBalancer()
                .getIngress())
        .hasSize(1);
    List<LoadBalancer> lbs = cloud.loadBalancers();
    assertThat(lbs)
        .singleElement()
        .satisfies(
            lb -> {
              assertThat(lb.dnsName()).isEqualTo(ingress.getHostname());
              assertThat(lb.ipAddressTypeAsString()).isEqualTo("dualstack");
              assertThat(cloud.frontendGroupOf(lb))
                  .containsExactlyInAnyOrder(
                      "tcp/80 from 0.0.0.0/0",
                      "tcp/80 from ::/0",
                      "tcp/443 from 0.0.0.0/0",
                      "tcp/443 from ::/0");
            });
    admin.services().inNamespace(NS).withName("aws-dual").delete();
    ClusterIT.eventually()
        .until(() -> admin.services().inNamespace(NS).withName("aws-dual").get() == null);
    assertThat(cloud.loadBalancers()).isEmpty();
  }

  @Test
  @DisplayName(
      "Retain on moto through the controller: deleted, the NLB stays with no listener and gc lists"
          + " its hostname for the Service; made again with claim-retained, the Service gets the"
          + " same hostname and its listeners back; gc --delete-retained removes it")
  void retain() throws Exception {
    String cluster = "aws-e2e-retain";
    AwsAccount cloud = AwsAccount.connect();
    oneNode(cloud, cluster, "aws-rt-node", "127.0.114.1");
    controller(cloud, cluster);
    List<String> gcArgs = new ArrayList<>(List.of("--provider", "aws", "--cluster-name", cluster));
    cloud
        .providerSettings()
        .forEach((k, v) -> gcArgs.addAll(List.of("--provider-setting", k + "=" + v)));
    Map<String, String> retain =
        Map.of("ferry.dev/reclaim-policy", "Retain", "ferry.dev/claim-retained", "true");
    Service keep =
        new ServiceBuilder(shop())
            .editMetadata()
            .withName("aws-keep")
            .withAnnotations(retain)
            .endMetadata()
            .build();
    admin.services().inNamespace(NS).resource(keep).create();
    ClusterIT.eventually().until(() -> CloudE2e.ingress(admin, NS, "aws-keep") != null);
    String hostname = CloudE2e.ingress(admin, NS, "aws-keep").getHostname();
    java.util.function.Supplier<LoadBalancer> nlb =
        () ->
            cloud.loadBalancers().stream()
                .filter(lb -> lb.dnsName().equals(hostname))
                .findFirst()
                .orElse(null);
    assertThat(cloud.listeners(nlb.get())).hasSize(2);

    admin.services().inNamespace(NS).withName("aws-keep").delete();
    ClusterIT.eventually()
        .until(() -> admin.services().inNamespace(NS).withName("aws-keep").get() == null);
    assertThat(nlb.get()).as("the NLB stays: its name is the address").isNotNull();
    assertThat(cloud.listeners(nlb.get())).isEmpty();
    assertThat(cloud.frontendGroupOf(nlb.get()))
        .as("a retained NLB's own security group admits no one")
        .isEmpty();
    String listed = GcIT.gc(api.adminKubeconfigFile(dir), gcArgs);
    assertThat(listed)
        .contains(hostname)
        .contains("default/aws-keep")
        .contains("1 addresses retained for cluster " + cluster);

    admin.services().inNamespace(NS).resource(keep).create();
    ClusterIT.eventually().until(() -> CloudE2e.ingress(admin, NS, "aws-keep") != null);
    assertThat(CloudE2e.ingress(admin, NS, "aws-keep").getHostname()).isEqualTo(hostname);
    ClusterIT.eventually().until(() -> cloud.listeners(nlb.get()).size() == 2);

    admin.services().inNamespace(NS).withName("aws-keep").delete();
    ClusterIT.eventually()
        .until(() -> admin.services().inNamespace(NS).withName("aws-keep").get() == null);
    List<String> delete = new ArrayList<>(gcArgs);
    delete.addAll(List.of("--delete-retained", nlb.get().loadBalancerArn()));
    assertThat(GcIT.gc(api.adminKubeconfigFile(dir), delete)).contains("1 deleted");
    assertThat(nlb.get()).isNull();

    // an NLB has addresses of its own: sharing one is refused, naming the annotation
    Service shared =
        new ServiceBuilder(shop())
            .editMetadata()
            .withName("aws-shared")
            .withAnnotations(Map.of("ferry.dev/allow-shared-ip", "web"))
            .endMetadata()
            .build();
    admin.services().inNamespace(NS).resource(shared).create();
    ClusterIT.eventually()
        .until(
            () ->
                admin.v1().events().inNamespace(NS).list().getItems().stream()
                    .filter(e -> "aws-shared".equals(e.getInvolvedObject().getName()))
                    .anyMatch(
                        e ->
                            "Warning".equals(e.getType())
                                && e.getMessage().contains("ferry.dev/allow-shared-ip")));
    assertThat(CloudE2e.ingress(admin, NS, "aws-shared")).isNull();
    assertThat(cloud.loadBalancers()).isEmpty();
    admin.services().inNamespace(NS).withName("aws-shared").delete();
    ClusterIT.eventually()
        .until(() -> admin.services().inNamespace(NS).withName("aws-shared").get() == null);
  }

  @Test
  @DisplayName(
      "adopt on moto through the controller: a hand-made NLB (as the in-tree controller makes one)"
          + " named by its ARN gets a Normal AdoptionPending event listing the changes, nothing"
          + " changes until the digest is confirmed, then the Service shows the NLB's own hostname"
          + " and its listener forwards to Ferry's target group; deleted with Retain, the NLB is"
          + " given back without Ferry's tags, still listening")
  void adopt() throws Exception {
    String cluster = "aws-e2e-adopt";
    AwsAccount cloud = AwsAccount.connect();
    Instance instance = oneNode(cloud, cluster, "aws-ad-node", "127.0.114.2");
    String arn =
        cloud.handMadeNlb(
            "legacy-web",
            cloud.tagSubnets(cluster).get(0),
            80,
            31980,
            List.of(instance.instanceId()));
    LoadBalancer legacy =
        cloud.loadBalancers().stream()
            .filter(lb -> lb.loadBalancerArn().equals(arn))
            .findFirst()
            .orElseThrow();
    controller(cloud, cluster);
    Service web =
        new ServiceBuilder()
            .withNewMetadata()
            .withName("aws-adopt")
            .withNamespace(NS)
            .withAnnotations(Map.of("ferry.dev/adopt", arn, "ferry.dev/reclaim-policy", "Retain"))
            .endMetadata()
            .withNewSpec()
            .withType("LoadBalancer")
            .addToSelector("app", "web")
            .addNewPort()
            .withName("http")
            .withPort(80)
            .withNodePort(31980)
            .withProtocol("TCP")
            .endPort()
            .endSpec()
            .build();
    admin.services().inNamespace(NS).resource(web).create();
    java.util.function.Supplier<List<String>> pending =
        () ->
            admin.v1().events().inNamespace(NS).list().getItems().stream()
                .filter(e -> "aws-adopt".equals(e.getInvolvedObject().getName()))
                .filter(e -> "AdoptionPending".equals(e.getReason()))
                .map(Event::getMessage)
                .toList();
    ClusterIT.eventually().until(() -> !pending.get().isEmpty());
    String message = pending.get().get(0);
    assertThat(message).contains(legacy.dnsName()).contains("target groups");
    assertThat(CloudE2e.ingress(admin, NS, "aws-adopt")).isNull();
    assertThat(cloud.listeners(legacy).get(0).defaultActions().get(0).targetGroupArn())
        .as("nothing changed before the confirmation")
        .contains("legacy-web-tg");

    CloudE2e.confirmAdoption(admin, NS, "aws-adopt", message);
    ClusterIT.eventually().until(() -> CloudE2e.ingress(admin, NS, "aws-adopt") != null);
    assertThat(CloudE2e.ingress(admin, NS, "aws-adopt").getHostname()).isEqualTo(legacy.dnsName());
    ClusterIT.eventually()
        .until(
            () ->
                !cloud
                    .listeners(legacy)
                    .get(0)
                    .defaultActions()
                    .get(0)
                    .targetGroupArn()
                    .contains("legacy-web-tg"));
    assertThat(cloud.loadBalancers()).hasSize(1);

    admin.services().inNamespace(NS).withName("aws-adopt").delete();
    ClusterIT.eventually()
        .until(() -> admin.services().inNamespace(NS).withName("aws-adopt").get() == null);
    assertThat(cloud.loadBalancers())
        .singleElement()
        .satisfies(lb -> assertThat(lb.loadBalancerArn()).isEqualTo(arn));
    assertThat(cloud.listeners(legacy)).as("given back, still listening").hasSize(1);
    var tags = cloud.elb.describeTags(r -> r.resourceArns(arn)).tagDescriptions().get(0).tags();
    assertThat(tags.stream().map(t -> t.key()).toList())
        .as("Ferry's tags are off")
        .containsExactly("kubernetes.io/service-name");
    assertThat(tags.get(0).value()).as("put back as it was").isEqualTo("legacy/legacy-web");
  }
}
