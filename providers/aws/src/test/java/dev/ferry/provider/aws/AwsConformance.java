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
import software.amazon.awssdk.services.ec2.model.Subnet;

/**
 * The conformance kit for the AWS provider on any emulated account; subclasses name the account.
 */
abstract class AwsConformance extends ProviderConformanceKit {

  private List<Backend> instances;

  protected abstract AwsAccount account();

  @BeforeEach
  void prepareAccount() {
    List<Subnet> subnets = account().tagSubnets(clusterName());
    account().tagSubnets(clusterName() + "-other"); // listOwned makes one for another cluster
    String sg = account().nodeSecurityGroup(clusterName(), subnets.get(0).vpcId());
    instances = AwsAccount.backends(account().launch(3, subnets.get(0), sg));
  }

  @Override
  protected LoadBalancerProvider newProvider() {
    return new AwsProviderFactory()
        .create(new ProviderContext(clusterName(), account().providerSettings()));
  }

  @Override
  protected CloudView cloud() {
    return new CloudView() {
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
    };
  }

  @Override
  protected List<Backend> backends(int count) {
    return instances.subList(0, count);
  }
}
