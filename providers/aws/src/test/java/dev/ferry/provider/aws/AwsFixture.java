package dev.ferry.provider.aws;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderContext;
import java.time.Duration;
import java.util.List;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Subnet;

/** A prepared account on moto: tagged subnets, a node security group, instances; and plans. */
final class AwsFixture {

  static final String CLUSTER = "prod";
  final AwsAccount cloud;
  final String securityGroup;
  final List<Instance> instances;
  final List<Backend> backends;

  AwsFixture(AwsAccount cloud, int nodes) {
    this.cloud = cloud;
    List<Subnet> subnets = cloud.tagSubnets(CLUSTER);
    this.securityGroup = cloud.nodeSecurityGroup(CLUSTER, subnets.get(0).vpcId());
    this.instances = cloud.launch(nodes, subnets.get(0), securityGroup);
    this.backends = AwsAccount.backends(instances);
  }

  AwsProvider provider() {
    return provider(dev.ferry.spi.ProviderMetrics.NONE);
  }

  AwsProvider provider(dev.ferry.spi.ProviderMetrics metrics) {
    return (AwsProvider)
        new AwsProviderFactory()
            .create(
                ProviderContext.builder(CLUSTER)
                    .settings(cloud.providerSettings())
                    .metrics(metrics)
                    .build());
  }

  /** A provider on {@code cloud} for {@link #CLUSTER} that tells {@code events} what it reports. */
  static AwsProvider provider(AwsAccount cloud, dev.ferry.spi.ProviderEvents events) {
    return (AwsProvider)
        new AwsProviderFactory()
            .create(
                ProviderContext.builder(CLUSTER)
                    .settings(cloud.providerSettings())
                    .events(events)
                    .build());
  }

  /** A Service with a TCP and a UDP port, open to one client range. */
  static LoadBalancerPlan plan(LoadBalancerRef ref, List<Backend> backends) {
    return LoadBalancerPlan.builder(
            ref,
            List.of(
                new Listener("http", Protocol.TCP, 80, 30080),
                new Listener("dns", Protocol.UDP, 53, 30053)),
            new HealthCheck(
                HealthCheck.Type.TCP,
                HealthCheck.TRAFFIC_PORT,
                "",
                Duration.ofSeconds(10),
                Duration.ofSeconds(5),
                2,
                3))
        .backends(backends)
        .sourceRanges(List.of("203.0.113.0/24"))
        .build();
  }

  static LoadBalancerRef ref(String uid) {
    return new LoadBalancerRef(CLUSTER, "shop", "web", uid);
  }

  /**
   * {@code plan} with every NodePort moved by {@code shift} (NodePorts are unique in a cluster).
   */
  static LoadBalancerPlan nodePortsShifted(LoadBalancerPlan plan, int shift) {
    return plan.toBuilder()
        .listeners(
            plan.listeners().stream()
                .map(l -> new Listener(l.name(), l.protocol(), l.port(), l.nodePort() + shift))
                .toList())
        .build();
  }
}
