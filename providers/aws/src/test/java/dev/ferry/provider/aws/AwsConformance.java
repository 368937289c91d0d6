package dev.ferry.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.Scheme;
import dev.ferry.tck.CloudView;
import dev.ferry.tck.ProviderConformanceKit;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancerSchemeEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroup;

/**
 * The conformance kit for the AWS provider on any emulated account; subclasses name the account.
 */
abstract class AwsConformance extends ProviderConformanceKit {

  private List<Backend> instances;
  private String nodeGroup;
  private String vpcCidr;

  protected abstract AwsAccount account();

  @BeforeEach
  void prepareAccount() {
    List<Subnet> subnets = account().tagSubnets(clusterName());
    account().ipv6(subnets); // the kit's dual-stack cases: a dualstack NLB needs IPv6 subnets
    account().tagSubnets(clusterName() + "-other"); // listOwned makes one for another cluster
    nodeGroup = account().nodeSecurityGroup(clusterName(), subnets.get(0).vpcId());
    vpcCidr =
        account().ec2.describeVpcs(r -> r.vpcIds(subnets.get(0).vpcId())).vpcs().get(0).cidrBlock();
    instances = AwsAccount.backends(account().launch(3, subnets.get(0), nodeGroup));
  }

  @Override
  protected LoadBalancerProvider newProvider() {
    AwsProvider p =
        (AwsProvider)
            new AwsProviderFactory()
                .create(
                    ProviderContext.builder(clusterName())
                        .settings(account().providerSettings())
                        .build());
    p.api()
        .observer(
            operation -> {
              if (!operation.startsWith("Describe") && !operation.startsWith("Get")) {
                cloudCalls.mutated(operation);
              }
            });
    return p;
  }

  @Override
  protected CloudView cloud() {
    return new CloudView() {
      @Override
      public String handMade(String name, int port, int nodePort, List<Backend> backends) {
        Subnet subnet = account().tagSubnets(clusterName()).get(0);
        return account()
            .handMadeNlb(
                name, subnet, port, nodePort, backends.stream().map(AwsShape::instanceId).toList());
      }

      @Override
      public int loadBalancerCount(LoadBalancerRef ref) {
        return account().loadBalancersFor(ref).size();
      }

      @Override
      public Set<String> registeredBackends(LoadBalancerRef ref) {
        Set<String> ids =
            account().targetGroups().stream()
                .filter(tg -> tg.targetGroupName().startsWith(AwsNames.targetGroupPrefix(ref)))
                .flatMap(tg -> account().registeredInstances(tg).stream())
                .collect(Collectors.toSet());
        return instances.stream()
            .filter(b -> ids.stream().anyMatch(b.providerId()::endsWith))
            .map(Backend::nodeName)
            .collect(Collectors.toSet());
      }

      @Override
      public Set<String> listeners(LoadBalancerRef ref) {
        Set<String> out = new HashSet<>();
        for (LoadBalancer lb : account().loadBalancersFor(ref)) {
          for (var l : account().listeners(lb)) {
            for (String proto : l.protocolAsString().split("_")) {
              out.add(proto + "/" + l.port());
            }
          }
        }
        return out;
      }

      @Override
      public Probe healthProbe(LoadBalancerRef ref) {
        List<Probe> probes =
            targetGroupsOf(ref).stream()
                .map(
                    tg ->
                        new Probe(
                            HealthCheck.Type.valueOf(tg.healthCheckProtocolAsString()),
                            "traffic-port".equals(tg.healthCheckPort())
                                ? HealthCheck.TRAFFIC_PORT
                                : Integer.parseInt(tg.healthCheckPort()),
                            tg.healthCheckPath() == null ? "" : tg.healthCheckPath(),
                            Duration.ofSeconds(tg.healthCheckIntervalSeconds())))
                .distinct()
                .toList();
        assertThat(probes).as("every target group probes alike").hasSize(1);
        return probes.get(0);
      }

      @Override
      public Set<String> sourceRanges(LoadBalancerRef ref) {
        // an NLB with security groups: its own group's sources
        LoadBalancer lb = account().loadBalancersFor(ref).get(0);
        if (!lb.securityGroups().isEmpty()) {
          return account().frontendGroupOf(lb).stream()
              .map(rule -> rule.substring(rule.indexOf(" from ") + 6))
              .collect(Collectors.toSet());
        }
        // one made before: the node rules' sources, less the VPC's own range for health checks
        return account().rulesOf(nodeGroup, ref).stream()
            .map(rule -> rule.substring(rule.indexOf(" from ") + 6))
            .filter(cidr -> !cidr.equals(vpcCidr))
            .collect(Collectors.toSet());
      }

      @Override
      public Set<String> sourceRanges(LoadBalancerRef ref, IpFamily family) {
        return sourceRanges(ref).stream()
            .filter(c -> IpFamily.of(c) == family)
            .collect(Collectors.toSet());
      }

      @Override
      public Scheme scheme(LoadBalancerRef ref) {
        return account().loadBalancersFor(ref).get(0).scheme() == LoadBalancerSchemeEnum.INTERNAL
            ? Scheme.INTERNAL
            : Scheme.EXTERNAL;
      }

      @Override
      public int ownedResources(LoadBalancerRef ref) {
        return loadBalancerCount(ref)
            + targetGroupsOf(ref).size()
            + account().rulesOf(nodeGroup, ref).size()
            + account().groupsTagged(ref).size();
      }
    };
  }

  private List<TargetGroup> targetGroupsOf(LoadBalancerRef ref) {
    return account().targetGroups().stream()
        .filter(tg -> tg.targetGroupName().startsWith(AwsNames.targetGroupPrefix(ref)))
        .toList();
  }

  @Override
  protected List<Backend> backends(int count) {
    return instances.subList(0, count);
  }
}
