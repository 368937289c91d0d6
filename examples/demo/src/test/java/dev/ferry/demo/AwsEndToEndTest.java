package dev.ferry.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.controller.ControllerProcess;
import dev.ferry.controller.RunOptions;
import dev.ferry.provider.aws.AwsAccount;
import dev.ferry.provider.aws.MotoServer;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroup;

/**
 * {@code ferry run --embedded-api --provider aws} against moto: Nodes whose providerIDs name moto
 * instances, a Service with two ports; the NLB, its target groups, listeners, health checks and
 * targets are visible through the AWS API and its DNS name is in the Service status; deleting the
 * Service leaves nothing in the account.
 */
@ExtendWith(MotoServer.class)
class AwsEndToEndTest {

  private static final String CLUSTER = "e2e";

  @Test
  @DisplayName(
      "a Service gets an NLB with listeners, target groups and targets; its deletion leaves nothing")
  void endToEnd(@TempDir Path dir) throws Exception {
    AwsAccount cloud = AwsAccount.connect();
    List<Subnet> subnets = cloud.tagSubnets(CLUSTER);
    String sg = cloud.nodeSecurityGroup(CLUSTER, subnets.get(0).vpcId());
    List<Instance> instances = cloud.launch(3, subnets.get(0), sg);

    try (EmbeddedApiServer api = EmbeddedApiServer.start(0);
        KubernetesClient client = api.client()) {
      Path kubeconfig = api.writeKubeconfig(dir.resolve("kubeconfig"));
      for (Instance i : instances) {
        String zone = i.placement().availabilityZone();
        client
            .nodes()
            .resource(
                node(
                    i.privateDnsName(),
                    "aws:///" + zone + "/" + i.instanceId(),
                    i.privateIpAddress()))
            .create();
      }
      client
          .nodes()
          .resource(node("on-prem-1", "", "192.0.2.10"))
          .create(); // no instance: skipped with a warning

      List<String> args =
          new ArrayList<>(
              List.of(
                  "--kubeconfig",
                  kubeconfig.toString(),
                  "--provider",
                  "aws",
                  "--cluster-name",
                  CLUSTER,
                  "--no-leader-elect",
                  "--metrics-port",
                  "0",
                  "--metrics-address",
                  "127.0.0.1"));
      cloud
          .providerSettings()
          .forEach((k, v) -> args.addAll(List.of("--provider-setting", k + "=" + v)));
      RunOptions options = new RunOptions();
      new CommandLine(options).parseArgs(args.toArray(String[]::new));

      try (ControllerProcess ferry = ControllerProcess.start(options)) {
        client.services().inNamespace("default").resource(service()).create();
        await().atMost(Duration.ofSeconds(60)).until(() -> hostname(client) != null);
        String hostname = hostname(client);

        List<LoadBalancer> lbs = cloud.loadBalancers();
        assertThat(lbs)
            .singleElement()
            .satisfies(
                lb -> {
                  assertThat(lb.dnsName()).isEqualTo(hostname);
                  assertThat(lb.typeAsString()).isEqualTo("network");
                  assertThat(lb.schemeAsString()).isEqualTo("internet-facing");
                });
        assertThat(cloud.listeners(lbs.get(0)))
            .extracting(l -> l.port())
            .containsExactlyInAnyOrder(80, 443);
        List<TargetGroup> tgs = cloud.targetGroups();
        assertThat(tgs)
            .hasSize(2)
            .allSatisfy(
                tg -> {
                  assertThat(tg.healthCheckProtocolAsString()).isEqualTo("TCP");
                  assertThat(tg.healthCheckPort()).isEqualTo("traffic-port");
                  assertThat(tg.healthCheckIntervalSeconds()).isEqualTo(10);
                  assertThat(cloud.registeredInstances(tg))
                      .containsExactlyInAnyOrderElementsOf(
                          instances.stream().map(Instance::instanceId).toList());
                });
        Service stored = client.services().inNamespace("default").withName("shop").get();
        assertThat(tgs.stream().map(TargetGroup::port).collect(Collectors.toSet()))
            .isEqualTo(
                stored.getSpec().getPorts().stream()
                    .map(p -> p.getNodePort())
                    .collect(Collectors.toSet()));
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    client.v1().events().inNamespace("default").list().getItems().stream()
                        .anyMatch(
                            e ->
                                "NodeNotRegistered".equals(e.getReason())
                                    && e.getMessage().contains("on-prem-1")));

        client.services().inNamespace("default").withName("shop").delete();
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> client.services().inNamespace("default").withName("shop").get() == null);
        assertThat(cloud.loadBalancers()).isEmpty();
        assertThat(cloud.targetGroups()).isEmpty();
      }
    }
  }

  private static String hostname(KubernetesClient client) {
    Service s = client.services().inNamespace("default").withName("shop").get();
    if (s == null
        || s.getStatus() == null
        || s.getStatus().getLoadBalancer() == null
        || s.getStatus().getLoadBalancer().getIngress() == null
        || s.getStatus().getLoadBalancer().getIngress().isEmpty()) {
      return null;
    }
    return s.getStatus().getLoadBalancer().getIngress().get(0).getHostname();
  }

  private static io.fabric8.kubernetes.api.model.Node node(
      String name, String providerId, String ip) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(Map.of("topology.kubernetes.io/zone", "us-east-1a"))
        .endMetadata()
        .withNewSpec()
        .withProviderID(providerId.isEmpty() ? null : providerId)
        .endSpec()
        .withNewStatus()
        .addNewAddress()
        .withType("InternalIP")
        .withAddress(ip)
        .endAddress()
        .endStatus()
        .build();
  }

  private static Service service() {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName("shop")
        .withNamespace("default")
        .endMetadata()
        .withNewSpec()
        .withType("LoadBalancer")
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
}
