package dev.ferry.provider.azure;

import dev.ferry.spi.Backend;
import dev.ferry.spi.ProviderContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The ARM fake with the cluster's network security group, and providers wired to it. */
final class AzureFixture {

  static final String SUBSCRIPTION = "00000000-0000-0000-0000-00000000f3e7";
  static final String GROUP = "rg-ferry";
  static final String NSG = "nsg-cluster";

  private AzureFixture() {}

  static ArmFake start() {
    try {
      ArmFake fake = new ArmFake();
      fake.seed(
          "/subscriptions/"
              + SUBSCRIPTION
              + "/resourceGroups/"
              + GROUP
              + "/providers/Microsoft.Network/networkSecurityGroups/"
              + NSG,
          "{\"location\":\"westeurope\",\"properties\":{\"securityRules\":[{\"name\":\"ops-ssh\","
              + "\"properties\":{\"priority\":500,\"direction\":\"Inbound\",\"access\":\"Allow\","
              + "\"protocol\":\"Tcp\",\"sourceAddressPrefix\":\"10.0.0.0/8\",\"sourcePortRange\":\"*\","
              + "\"destinationAddressPrefix\":\"*\",\"destinationPortRange\":\"22\"}}]}}");
      return fake;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<Backend> nodes(int count) {
    List<Backend> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(node(i));
    }
    return out;
  }

  static Backend node(int i) {
    String name = "aks-node-" + i;
    return new Backend(
        name,
        "azure:///subscriptions/"
            + SUBSCRIPTION
            + "/resourceGroups/mc-ferry/providers/"
            + "Microsoft.Compute/virtualMachines/"
            + name,
        "10.224.0." + (i + 4),
        "westeurope-" + (i % 3 + 1));
  }

  static Map<String, String> settings(ArmFake fake) {
    return Map.of(
        AzureProviderFactory.SUBSCRIPTION,
        SUBSCRIPTION,
        AzureProviderFactory.RESOURCE_GROUP,
        GROUP,
        AzureProviderFactory.LOCATION,
        "westeurope",
        AzureProviderFactory.VNET,
        "vnet-ferry",
        AzureProviderFactory.SUBNET,
        "nodes",
        AzureProviderFactory.SECURITY_GROUP,
        NSG,
        AzureProviderFactory.ENDPOINT,
        fake.endpoint());
  }

  static AzureProvider provider(ArmFake fake, ProviderContext.Builder context) {
    return provider(fake, context, 600);
  }

  static AzureProvider provider(ArmFake fake, ProviderContext.Builder context, int maxFrontends) {
    return AzureProviderFactory.create(
        context.settings(settings(fake)).build(),
        10_000,
        Duration.ofMillis(5),
        maxFrontends,
        1500,
        true);
  }

  /** One write per Service, no batching: the baseline. */
  static AzureProvider unbatched(ArmFake fake, ProviderContext.Builder context) {
    return AzureProviderFactory.create(
        context.settings(settings(fake)).build(), 10_000, Duration.ofMillis(5), 600, 1500, false);
  }
}
