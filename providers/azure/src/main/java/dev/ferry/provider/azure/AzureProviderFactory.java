package dev.ferry.provider.azure;

import com.azure.core.http.HttpPipeline;
import com.azure.core.http.HttpPipelineBuilder;
import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.core.http.policy.BearerTokenAuthenticationPolicy;
import com.azure.core.http.policy.HttpPipelinePolicy;
import com.azure.core.http.policy.UserAgentPolicy;
import com.azure.identity.DefaultAzureCredentialBuilder;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.SpiVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code --provider azure}. Settings as cloud-provider-azure's configuration names them: {@code
 * azure.subscription-id}, {@code azure.resource-group}, {@code azure.location}, {@code
 * azure.vnet-name} (and {@code azure.vnet-resource-group}), {@code azure.subnet} (internal load
 * balancers' default), {@code azure.security-group} (the cluster's NSG), {@code azure.endpoint}
 * (the resource manager, for a test server). Credentials come from {@code DefaultAzureCredential}:
 * workload identity, managed identity, or {@code AZURE_CLIENT_ID} / {@code AZURE_TENANT_ID} /
 * {@code AZURE_CLIENT_SECRET} from an existing Secret. A plain-HTTP endpoint gets no token.
 */
public final class AzureProviderFactory implements LoadBalancerProviderFactory {

  static final String SUBSCRIPTION = "azure.subscription-id";
  static final String RESOURCE_GROUP = "azure.resource-group";
  static final String LOCATION = "azure.location";
  static final String VNET = "azure.vnet-name";
  static final String VNET_GROUP = "azure.vnet-resource-group";
  static final String SUBNET = "azure.subnet";
  static final String SECURITY_GROUP = "azure.security-group";
  static final String ENDPOINT = "azure.endpoint";
  private static final Set<String> KNOWN =
      Set.of(
          SUBSCRIPTION,
          RESOURCE_GROUP,
          LOCATION,
          VNET,
          VNET_GROUP,
          SUBNET,
          SECURITY_GROUP,
          ENDPOINT);

  @Override
  public String name() {
    return "azure";
  }

  @Override
  public String spiVersion() {
    return SpiVersion.CURRENT;
  }

  @Override
  public LoadBalancerProvider create(ProviderContext context) {
    return create(context, 10, Duration.ofSeconds(30), 600, 1500, true);
  }

  /**
   * @param writesPerSecond ARM writes a second (reads: 2.5 times as many)
   * @param maxPoll the longest wait between polls of an operation
   */
  static AzureProvider create(
      ProviderContext context,
      int writesPerSecond,
      Duration maxPoll,
      int maxFrontends,
      int maxRules,
      boolean batching) {
    for (String key : context.settings().keySet()) {
      if (!KNOWN.contains(key)) {
        throw new IllegalArgumentException(
            "unknown azure provider setting '"
                + key
                + "'; known: "
                + String.join(", ", KNOWN.stream().sorted().toList()));
      }
    }
    for (String required : List.of(SUBSCRIPTION, RESOURCE_GROUP, LOCATION, VNET)) {
      if (context.setting(required, "").isBlank()) {
        throw new IllegalArgumentException(
            "the azure provider needs "
                + SUBSCRIPTION
                + ", "
                + RESOURCE_GROUP
                + ", "
                + LOCATION
                + " and "
                + VNET
                + "; "
                + required
                + " is missing");
      }
    }
    String group = context.setting(RESOURCE_GROUP, "");
    AzureSettings settings =
        new AzureSettings(
            context.setting(SUBSCRIPTION, ""),
            group,
            context.setting(LOCATION, ""),
            context.setting(VNET_GROUP, group),
            context.setting(VNET, ""),
            context.setting(SUBNET, ""),
            context.setting(SECURITY_GROUP, ""),
            maxFrontends,
            maxRules);
    String endpoint = context.setting(ENDPOINT, "https://management.azure.com/");
    List<HttpPipelinePolicy> policies = new ArrayList<>();
    policies.add(new UserAgentPolicy("ferry"));
    if (!endpoint.startsWith("http://")) {
      policies.add(
          new BearerTokenAuthenticationPolicy(
              new DefaultAzureCredentialBuilder().build(),
              "https://management.azure.com/.default"));
    }
    HttpPipeline pipeline =
        new HttpPipelineBuilder()
            .httpClient(new JdkHttpClientBuilder().connectionTimeout(Duration.ofSeconds(5)).build())
            .policies(policies.toArray(HttpPipelinePolicy[]::new))
            .build();
    Arm arm = new Arm(pipeline, endpoint, context.metrics(), writesPerSecond, 5, maxPoll);
    return new AzureProvider(arm, settings, context.events(), batching);
  }
}
