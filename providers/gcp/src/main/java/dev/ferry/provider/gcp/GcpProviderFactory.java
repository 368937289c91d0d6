package dev.ferry.provider.gcp;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.cloud.compute.v1.AddressesClient;
import com.google.cloud.compute.v1.AddressesSettings;
import com.google.cloud.compute.v1.FirewallsClient;
import com.google.cloud.compute.v1.FirewallsSettings;
import com.google.cloud.compute.v1.ForwardingRulesClient;
import com.google.cloud.compute.v1.ForwardingRulesSettings;
import com.google.cloud.compute.v1.GlobalOperationsClient;
import com.google.cloud.compute.v1.GlobalOperationsSettings;
import com.google.cloud.compute.v1.InstanceGroupsClient;
import com.google.cloud.compute.v1.InstanceGroupsSettings;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.InstancesSettings;
import com.google.cloud.compute.v1.RegionBackendServicesClient;
import com.google.cloud.compute.v1.RegionBackendServicesSettings;
import com.google.cloud.compute.v1.RegionHealthChecksClient;
import com.google.cloud.compute.v1.RegionHealthChecksSettings;
import com.google.cloud.compute.v1.RegionOperationsClient;
import com.google.cloud.compute.v1.RegionOperationsSettings;
import com.google.cloud.compute.v1.RegionsClient;
import com.google.cloud.compute.v1.RegionsSettings;
import com.google.cloud.compute.v1.SubnetworksClient;
import com.google.cloud.compute.v1.SubnetworksSettings;
import com.google.cloud.compute.v1.ZoneOperationsClient;
import com.google.cloud.compute.v1.ZoneOperationsSettings;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.SpiVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * {@code --provider gcp}. Settings: {@code gcp.project} (or {@code GOOGLE_CLOUD_PROJECT}), {@code
 * gcp.region}, {@code gcp.network} (default {@code default}), {@code gcp.subnetwork} (internal load
 * balancers' default subnet; default: the network's one subnet in the region), {@code
 * gcp.node-tags} (the nodes' network tags for the firewall rules; default: each node's cluster tag,
 * as upstream chooses it), {@code gcp.endpoint} (a test server). Credentials are Google's
 * Application Default Credentials: Workload Identity on GKE, {@code GOOGLE_APPLICATION_CREDENTIALS}
 * naming a key file elsewhere. A plain-HTTP endpoint (a local fake) gets no credentials.
 */
public final class GcpProviderFactory implements LoadBalancerProviderFactory {

  static final String PROJECT = "gcp.project";
  static final String REGION = "gcp.region";
  static final String NETWORK = "gcp.network";
  static final String SUBNETWORK = "gcp.subnetwork";
  static final String NODE_TAGS = "gcp.node-tags";
  static final String ENDPOINT = "gcp.endpoint";
  private static final Set<String> KNOWN =
      Set.of(PROJECT, REGION, NETWORK, SUBNETWORK, NODE_TAGS, ENDPOINT);

  @Override
  public String name() {
    return "gcp";
  }

  @Override
  public String spiVersion() {
    return SpiVersion.CURRENT;
  }

  @Override
  public LoadBalancerProvider create(ProviderContext context) {
    return create(context, Duration.ofMillis(500), 1200);
  }

  /**
   * @param pollFirst the first wait between polls of an operation
   * @param perMinute the client-side budget of reads, and of mutations, per minute
   */
  static GcpProvider create(ProviderContext context, Duration pollFirst, int perMinute) {
    for (String key : context.settings().keySet()) {
      if (!KNOWN.contains(key)) {
        throw new IllegalArgumentException(
            "unknown gcp provider setting '"
                + key
                + "'; known: "
                + String.join(", ", KNOWN.stream().sorted().toList()));
      }
    }
    String project =
        context.setting(PROJECT, System.getenv().getOrDefault("GOOGLE_CLOUD_PROJECT", ""));
    String region = context.setting(REGION, "");
    if (project.isBlank() || region.isBlank()) {
      throw new IllegalArgumentException(
          "the gcp provider needs "
              + PROJECT
              + " and "
              + REGION
              + " (e.g. --provider-setting "
              + REGION
              + "=europe-west1)");
    }
    String network = context.setting(NETWORK, "default");
    if (!network.contains("/")) {
      network = "projects/" + project + "/global/networks/" + network;
    }
    String subnet = context.setting(SUBNETWORK, "");
    if (!subnet.isEmpty() && !subnet.contains("/")) {
      subnet = "projects/" + project + "/regions/" + region + "/subnetworks/" + subnet;
    }
    List<String> tags =
        Arrays.stream(context.setting(NODE_TAGS, "").split(","))
            .map(String::trim)
            .filter(t -> !t.isEmpty())
            .toList();
    String endpoint = context.setting(ENDPOINT, "");
    try {
      GcpContext c =
          new GcpContext(
              project,
              region,
              network,
              subnet,
              tags,
              AddressesClient.create(configure(AddressesSettings.newBuilder(), endpoint).build()),
              ForwardingRulesClient.create(
                  configure(ForwardingRulesSettings.newBuilder(), endpoint).build()),
              RegionBackendServicesClient.create(
                  configure(RegionBackendServicesSettings.newBuilder(), endpoint).build()),
              RegionHealthChecksClient.create(
                  configure(RegionHealthChecksSettings.newBuilder(), endpoint).build()),
              FirewallsClient.create(configure(FirewallsSettings.newBuilder(), endpoint).build()),
              InstanceGroupsClient.create(
                  configure(InstanceGroupsSettings.newBuilder(), endpoint).build()),
              InstancesClient.create(configure(InstancesSettings.newBuilder(), endpoint).build()),
              RegionsClient.create(configure(RegionsSettings.newBuilder(), endpoint).build()),
              SubnetworksClient.create(
                  configure(SubnetworksSettings.newBuilder(), endpoint).build()),
              RegionOperationsClient.create(
                  configure(RegionOperationsSettings.newBuilder(), endpoint).build()),
              ZoneOperationsClient.create(
                  configure(ZoneOperationsSettings.newBuilder(), endpoint).build()),
              GlobalOperationsClient.create(
                  configure(GlobalOperationsSettings.newBuilder(), endpoint).build()));
      GcpApi api =
          new GcpApi(
              perMinute,
              Duration.ofSeconds(1),
              5,
              c::poll,
              pollFirst,
              Duration.ofMinutes(3),
              context.metrics());
      return new GcpProvider(c, api, context.events()).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make the Compute clients", e);
    }
  }

  private static <B extends com.google.api.gax.rpc.ClientSettings.Builder<?, ?>> B configure(
      B builder, String endpoint) {
    if (!endpoint.isEmpty()) {
      builder.setEndpoint(endpoint);
      if (endpoint.startsWith("http://")) {
        builder.setCredentialsProvider(NoCredentialsProvider.create());
      }
    }
    return builder;
  }
}
