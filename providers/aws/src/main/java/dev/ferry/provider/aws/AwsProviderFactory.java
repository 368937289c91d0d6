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

/**
 * {@code --provider aws}. Standard SDK configuration: region from {@code aws.region} or the SDK's
 * chain ({@code AWS_REGION}, profile, instance metadata); endpoint from {@code aws.endpoint} or
 * {@code AWS_ENDPOINT_URL}; credentials from the default chain (environment, profile, web identity
 * for IRSA, instance role). An emulator such as moto or LocalStack is only environment.
 */
public final class AwsProviderFactory implements LoadBalancerProviderFactory {

  static final String REGION = "aws.region";
  static final String ENDPOINT = "aws.endpoint";

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
      if (!Set.of(REGION, ENDPOINT).contains(key)) {
        throw new IllegalArgumentException(
            "unknown aws provider setting '" + key + "'; known: " + REGION + ", " + ENDPOINT);
      }
    }
    ElasticLoadBalancingV2ClientBuilder elb = ElasticLoadBalancingV2Client.builder();
    Ec2ClientBuilder ec2 = Ec2Client.builder();
    for (var b : java.util.List.of(elb, ec2)) {
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
        elb.build(),
        ec2.build(),
        new AwsApi(Duration.ofSeconds(1), 5, context.metrics()),
        context.events());
  }
}
