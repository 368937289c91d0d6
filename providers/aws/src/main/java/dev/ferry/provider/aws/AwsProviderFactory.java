package dev.ferry.provider.aws;

import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.ProviderContext;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.Ec2ClientBuilder;
import software.amazon.awssdk.services.elasticloadbalancingv2.ElasticLoadBalancingV2Client;
import software.amazon.awssdk.services.elasticloadbalancingv2.ElasticLoadBalancingV2ClientBuilder;
import software.amazon.awssdk.services.resourcegroupstaggingapi.ResourceGroupsTaggingApiClient;
import software.amazon.awssdk.services.resourcegroupstaggingapi.ResourceGroupsTaggingApiClientBuilder;

/**
 * {@code --provider aws}. Standard SDK configuration: region from {@code aws.region} or the SDK's
 * chain ({@code AWS_REGION}, profile, instance metadata); endpoint from {@code aws.endpoint} or
 * {@code AWS_ENDPOINT_URL}; credentials from the default chain (environment, profile, web identity
 * for IRSA, instance role). An emulator such as moto or LocalStack is only environment.
 */
public final class AwsProviderFactory implements LoadBalancerProviderFactory {

  static final String REGION = "aws.region";
  static final String ENDPOINT = "aws.endpoint";
  static final String NODE_PORTS = "aws.node-port-range";

  @Override
  public String name() {
    return "aws";
  }

  @Override
  public String spiVersion() {
    return dev.ferry.spi.SpiVersion.CURRENT;
  }

  @Override
  public LoadBalancerProvider create(ProviderContext context) {
    for (String key : context.settings().keySet()) {
      if (!Set.of(REGION, ENDPOINT, NODE_PORTS).contains(key)) {
        throw new IllegalArgumentException(
            "unknown aws provider setting '"
                + key
                + "'; known: "
                + REGION
                + ", "
                + ENDPOINT
                + ", "
                + NODE_PORTS);
      }
    }
    int[] nodePorts = nodePorts(context.setting(NODE_PORTS, "30000-32767"));
    ElasticLoadBalancingV2ClientBuilder elb = ElasticLoadBalancingV2Client.builder();
    Ec2ClientBuilder ec2 = Ec2Client.builder();
    ResourceGroupsTaggingApiClientBuilder tagging = ResourceGroupsTaggingApiClient.builder();
    for (var b : java.util.List.of(elb, ec2, tagging)) {
      b.httpClientBuilder(
          UrlConnectionHttpClient.builder()
              .connectionTimeout(Duration.ofSeconds(5))
              .socketTimeout(Duration.ofSeconds(30)));
      b.credentialsProvider(DefaultCredentialsProvider.builder().build());
      // resilience4j retries throttling and server errors with the project's budget; the SDK does
      // not retry too
      b.overrideConfiguration(c -> c.retryPolicy(RetryPolicy.none()));
      String region = context.settings().get(REGION);
      if (region != null) {
        b.region(Region.of(region));
      }
      String endpoint = context.settings().get(ENDPOINT);
      if (endpoint != null) {
        b.endpointOverride(URI.create(endpoint));
      }
    }
    return new AwsProvider(
        new AwsContext(
            elb.build(),
            ec2.build(),
            tagging.build(),
            new AwsApi(Duration.ofSeconds(1), 5, context.metrics())),
        nodePorts,
        context.events());
  }

  /** The cluster's NodePort range ({@code --node-port-range} of the controller), A-B. */
  static int[] nodePorts(String range) {
    String[] ends = range.split("-");
    try {
      int[] out = {Integer.parseInt(ends[0].trim()), Integer.parseInt(ends[1].trim())};
      if (ends.length == 2 && out[0] >= 1 && out[0] <= out[1] && out[1] <= 65535) {
        return out;
      }
    } catch (RuntimeException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        NODE_PORTS + " '" + range + "' is not a port range such as 30000-32767");
  }
}
