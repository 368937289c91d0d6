package dev.ferry.provider.azure;

import com.azure.core.http.HttpPipeline;
import com.azure.core.http.HttpPipelineBuilder;
import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.core.http.policy.BearerTokenAuthenticationPolicy;
import com.azure.core.http.policy.HttpPipelinePolicy;
import com.azure.core.http.policy.UserAgentPolicy;
import com.azure.identity.DefaultAzureCredentialBuilder;
import com.azure.resourcemanager.network.fluent.models.LoadBalancerInner;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.SpiVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * {@code --provider azure}. Settings as cloud-provider-azure's configuration names them: {@code
 * azure.subscription-id}, {@code azure.resource-group}, {@code azure.location}, {@code
 * azure.vnet-name} (and {@code azure.vnet-resource-group}), {@code azure.subnet} (internal load
 * balancers' default), {@code azure.security-group} (the cluster's NSG), {@code
 * azure.load-balancer} ({@code auto}, {@code own} or the name of a load balancer to join; see
 * {@link #join}), {@code azure.disable-outbound-snat} (default true), {@code azure.endpoint} (the
 * resource manager, for a test server). Credentials come from {@code DefaultAzureCredential}:
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
  static final String LOAD_BALANCER = "azure.load-balancer";
  static final String DISABLE_OUTBOUND_SNAT = "azure.disable-outbound-snat";
  private static final Set<String> KNOWN =
      Set.of(
          SUBSCRIPTION,
          RESOURCE_GROUP,
          LOCATION,
          VNET,
          VNET_GROUP,
          SUBNET,
          SECURITY_GROUP,
          ENDPOINT,
          LOAD_BALANCER,
          DISABLE_OUTBOUND_SNAT);

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
    return create(context, 10, Duration.ofSeconds(30), AzureSettings.Limits.AZURE, true);
  }

  /**
   * @param writesPerSecond ARM writes a second (reads: 2.5 times as many)
   * @param maxPoll the longest wait between polls of an operation
   */
  static AzureProvider create(
      ProviderContext context,
      int writesPerSecond,
      Duration maxPoll,
      AzureSettings.Limits limits,
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
    String snat = context.setting(DISABLE_OUTBOUND_SNAT, "true").trim();
    if (!snat.equals("true") && !snat.equals("false")) {
      throw new IllegalArgumentException(
          DISABLE_OUTBOUND_SNAT + " is '" + snat + "'; it takes true or false");
    }
    String group = context.setting(RESOURCE_GROUP, "");
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
    AzureSettings settings =
        new AzureSettings(
            context.setting(SUBSCRIPTION, ""),
            group,
            context.setting(LOCATION, ""),
            context.setting(VNET_GROUP, group),
            context.setting(VNET, ""),
            context.setting(SUBNET, ""),
            context.setting(SECURITY_GROUP, ""),
            "",
            snat.equals("true"),
            limits,
            false);
    String mode = context.setting(LOAD_BALANCER, "auto").trim();
    Function<String, Optional<LoadBalancerInner>> read = reader(arm, settings);
    String join = join(read, settings, mode);
    return new AzureProvider(
        arm,
        new AzureSettings(
            settings.subscription(),
            group,
            settings.location(),
            settings.vnetResourceGroup(),
            settings.vnet(),
            settings.subnet(),
            settings.securityGroup(),
            join,
            settings.disableOutboundSnat(),
            limits,
            join.isEmpty() && legacy(read, context.clusterName())),
        context.events(),
        batching);
  }

  /** Whether Ferry's own load balancer of this cluster still has the name Ferry gave it before. */
  private static boolean legacy(
      Function<String, Optional<LoadBalancerInner>> read, String cluster) {
    return read.apply(cluster)
        .filter(AzureLbShape::ours)
        .map(lb -> cluster.equals(lb.tags().get(AzureLbShape.TAG_CLUSTER)))
        .orElse(false);
  }

  /** Reads each load balancer once at start-up (auto and the old-name check may ask for one). */
  private static Function<String, Optional<LoadBalancerInner>> reader(Arm arm, AzureSettings s) {
    Map<String, Optional<LoadBalancerInner>> seen = new HashMap<>();
    return name ->
        seen.computeIfAbsent(
            name,
            n -> {
              try {
                return arm.get(
                    "loadBalancers.get", s.loadBalancerId(n), LoadBalancerInner::fromJson);
              } catch (ProviderException e) {
                throw new IllegalStateException(
                    "cannot read load balancer "
                        + n
                        + " in resource group "
                        + s.resourceGroup()
                        + " to choose where Ferry builds ("
                        + LOAD_BALANCER
                        + "): "
                        + e.getMessage(),
                    e);
              }
            });
  }

  /**
   * The load balancer to join, or "" for Ferry's own: {@code own}; a name (it must exist); or
   * {@code auto}, which joins {@code kubernetes} when the resource group has one that is not
   * Ferry's (AKS's, or cloud-provider-azure's under its default cluster name): the nodes are behind
   * it, and a node can be behind only one public Standard Load Balancer.
   */
  static String join(
      Function<String, Optional<LoadBalancerInner>> read, AzureSettings s, String mode) {
    if (mode.equals("own")) {
      return "";
    }
    String name = mode.equals("auto") ? AzureNames.AKS : mode;
    Optional<LoadBalancerInner> lb = read.apply(name);
    if (lb.isPresent() && !AzureLbShape.ours(lb.get())) {
      return name;
    }
    if (!mode.equals("auto") && lb.isEmpty()) {
      throw new IllegalArgumentException(
          LOAD_BALANCER
              + " names load balancer "
              + name
              + ", which resource group "
              + s.resourceGroup()
              + " does not have");
    }
    return "";
  }
}
