package dev.ferry.provider.aws;

import dev.ferry.spi.Backend;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderContext;
import dev.ferry.tck.CloudView;
import dev.ferry.tck.ProviderConformanceKit;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.ec2.model.Subnet;

/** The AWS provider against the conformance kit, on moto server. */
@ExtendWith(MotoServer.class)
class AwsProviderConformanceTest extends ProviderConformanceKit {

  private static final MotoCloud cloud = MotoCloud.connect();
  private List<Backend> instances;

  @BeforeEach
  void prepareAccount() {
    List<Subnet> subnets = cloud.tagSubnets(clusterName());
    cloud.tagSubnets(clusterName() + "-other");
    String sg = cloud.nodeSecurityGroup(clusterName(), subnets.get(0).vpcId());
    instances = MotoCloud.backends(cloud.launch(3, subnets.get(0), sg));
  }

  @Override
  protected LoadBalancerProvider newProvider() {
    return new AwsProviderFactory()
        .create(new ProviderContext(clusterName(), cloud.providerSettings()));
  }

  @Override
  protected CloudView cloud() {
    return new CloudView() {
      @Override
      public int loadBalancerCount(LoadBalancerRef ref) {
        return cloud.loadBalancersFor(ref).size();
      }

      @Override
      public Set<String> registeredBackends(LoadBalancerRef ref) {
        Set<String> ids =
            cloud.targetGroups().stream()
                .filter(tg -> tg.targetGroupName().startsWith(AwsNames.targetGroupPrefix(ref)))
                .flatMap(tg -> cloud.registeredInstances(tg).stream())
                .collect(Collectors.toSet());
        return instances.stream()
            .filter(b -> ids.stream().anyMatch(b.providerId()::endsWith))
            .map(Backend::nodeName)
            .collect(Collectors.toSet());
      }
    };
  }

  @Override
  protected List<Backend> backends(int count) {
    return instances.subList(0, count);
  }
}
