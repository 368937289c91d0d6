package dev.ferry.provider.azure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.spi.Backend;
import dev.ferry.spi.ProviderContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The ARM fake seeded as a real account, and providers wired to it. Two shapes:
 *
 * <ul>
 *   <li>{@link #start()}: a self-managed cluster's resource group {@code rg-ferry}: its NSG with an
 *       operator's rule, three nodes' NICs in no load balancer yet;
 *   <li>{@link #aks()}: an AKS node resource group as AKS makes it: load balancer {@code
 *       kubernetes} (Standard) with the outbound frontend and {@code aksOutboundRule}, the
 *       NIC-based pools {@code kubernetes} and {@code aksOutboundBackendPool} holding the three
 *       VMSS instances' NICs, one AKS Service already on it (frontend, probe and rule named {@code
 *       a<uid>}, its public IP tagged {@code k8s-azure-service}), the node NSG with AKS's allow
 *       rule for that Service. {@link #aksParts} snapshots all of it to show it untouched.
 * </ul>
 */
public final class AzureFixture {

  public static final String SUBSCRIPTION = "00000000-0000-0000-0000-00000000f3e7";
  public static final String GROUP = "rg-ferry";
  public static final String NSG = "nsg-cluster";
  public static final String AKS_GROUP = "MC_rg-prod_aks-prod_westeurope";
  public static final String AKS_NSG = "aks-agentpool-31415926-nsg";
  static final String AKS_VMSS = "aks-nodepool1-31415926-vmss";
  static final String AKS_SERVICE = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5";
  static final String OUTBOUND_FRONTEND = "7c1e2c4a-0b9f-4b6e-9d3a-2f5e8c1d0a42";

  private AzureFixture() {}

  public static String network(String group, String type, String name) {
    return "/subscriptions/"
        + SUBSCRIPTION
        + "/resourceGroups/"
        + group
        + "/providers/Microsoft.Network/"
        + type
        + "/"
        + name;
  }

  public static ArmFake start() {
    try {
      ArmFake fake = new ArmFake();
      fake.seed(
          network(GROUP, "networkSecurityGroups", NSG),
          "{\"location\":\"westeurope\",\"properties\":{\"securityRules\":[{\"name\":\"ops-ssh\","
              + "\"properties\":{\"priority\":500,\"direction\":\"Inbound\",\"access\":\"Allow\","
              + "\"protocol\":\"Tcp\",\"sourceAddressPrefix\":\"10.0.0.0/8\",\"sourcePortRange\":\"*\","
              + "\"destinationAddressPrefix\":\"*\",\"destinationPortRange\":\"22\"}}]}}");
      fake.group(SUBSCRIPTION, "rg-users");
      fake.seed(network(GROUP, "virtualNetworks", "vnet-ferry"), vnet(false));
      for (int i = 0; i < 40; i++) {
        fake.nic(
            "/subscriptions/"
                + SUBSCRIPTION
                + "/resourceGroups/"
                + GROUP
                + "/providers/Microsoft.Network/networkInterfaces/node-"
                + i
                + "-nic/ipConfigurations/ipconfig1",
            "10.224.0." + (i + 4));
      }
      return fake;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The cluster's virtual network: IPv4, or dual-stack with a ULA /48 beside it. */
  private static String vnet(boolean dualStack) {
    return "{\"location\":\"westeurope\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":"
        + "[\"10.224.0.0/12\""
        + (dualStack ? ",\"" + VNET_IPV6 + "\"" : "")
        + "]},\"subnets\":[{\"name\":\"nodes\",\"properties\":{\"addressPrefixes\":"
        + "[\"10.224.0.0/16\""
        + (dualStack ? ",\"fd00:db8:deca:deed::/64\"" : "")
        + "]}}]}}";
  }

  /** The IPv6 address space {@link #dualStack} gives the cluster's virtual network. */
  static final String VNET_IPV6 = "fd00:db8:deca::/48";

  /**
   * Makes the cluster's virtual network dual-stack (<a
   * href="https://learn.microsoft.com/azure/virtual-network/ip-services/ipv6-overview">IPv6 for
   * Azure Virtual Network</a>: an IPv6 address space, a /64 per subnet), as a self-managed
   * dual-stack cluster's is; its nodes then have IPv6 addresses ({@link #dualStackNode}).
   */
  public static void dualStack(ArmFake fake) {
    try {
      fake.seed(network(GROUP, "virtualNetworks", "vnet-ferry"), vnet(true));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Node {@code i} with an IPv6 address in the dual-stack subnet too. */
  static Backend dualStackNode(int i) {
    Backend v4 = node(i);
    return new Backend(
        v4.nodeName(),
        v4.providerId(),
        v4.address(),
        v4.zone(),
        List.of(v4.address(), "fd00:db8:deca:deed::" + Integer.toHexString(i + 4)));
  }

  /** The AKS-shaped node resource group (see the class comment). */
  public static ArmFake aks() {
    try {
      ArmFake fake = new ArmFake();
      String lb = network(AKS_GROUP, "loadBalancers", "kubernetes");
      String outboundPip = network(AKS_GROUP, "publicIPAddresses", OUTBOUND_FRONTEND);
      String servicePip = network(AKS_GROUP, "publicIPAddresses", "kubernetes-" + AKS_SERVICE);
      fake.seed(
          outboundPip,
          "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"tags\":{\"aks-managed-type\":"
              + "\"aks-slb-managed-outbound-ip\"},\"properties\":{\"publicIPAllocationMethod\":\"Static\"}}");
      fake.seed(
          servicePip,
          "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"tags\":{\"k8s-azure-service\":"
              + "\"default/web\",\"k8s-azure-cluster-name\":\"kubernetes\"},\"properties\":"
              + "{\"publicIPAllocationMethod\":\"Static\"}}");
      String fe = lb + "/frontendIPConfigurations/";
      fake.seed(
          lb,
          "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"tags\":{\"aks-managed-cluster-name\":"
              + "\"aks-prod\"},\"properties\":{"
              + "\"frontendIPConfigurations\":["
              + "{\"name\":\""
              + OUTBOUND_FRONTEND
              + "\",\"properties\":{\"publicIPAddress\":{\"id\":\""
              + outboundPip
              + "\"}}},"
              + "{\"name\":\""
              + AKS_SERVICE
              + "\",\"properties\":{\"publicIPAddress\":{\"id\":\""
              + servicePip
              + "\"}}}],"
              + "\"backendAddressPools\":[{\"name\":\"kubernetes\",\"properties\":{}},"
              + "{\"name\":\"aksOutboundBackendPool\",\"properties\":{}}],"
              + "\"probes\":[{\"name\":\""
              + AKS_SERVICE
              + "-TCP-80\",\"properties\":{\"protocol\":\"Tcp\","
              + "\"port\":31380,\"intervalInSeconds\":5,\"probeThreshold\":2}}],"
              + "\"loadBalancingRules\":[{\"name\":\""
              + AKS_SERVICE
              + "-TCP-80\",\"properties\":{"
              + "\"frontendIPConfiguration\":{\"id\":\""
              + fe
              + AKS_SERVICE
              + "\"},"
              + "\"backendAddressPool\":{\"id\":\""
              + lb
              + "/backendAddressPools/kubernetes\"},"
              + "\"probe\":{\"id\":\""
              + lb
              + "/probes/"
              + AKS_SERVICE
              + "-TCP-80\"},"
              + "\"protocol\":\"Tcp\",\"frontendPort\":80,\"backendPort\":80,\"enableFloatingIP\":true,"
              + "\"enableTcpReset\":true,\"disableOutboundSnat\":true,\"idleTimeoutInMinutes\":4}}],"
              + "\"outboundRules\":[{\"name\":\"aksOutboundRule\",\"properties\":{\"protocol\":\"All\","
              + "\"allocatedOutboundPorts\":0,\"idleTimeoutInMinutes\":30,\"enableTcpReset\":true,"
              + "\"frontendIPConfigurations\":[{\"id\":\""
              + fe
              + OUTBOUND_FRONTEND
              + "\"}],"
              + "\"backendAddressPool\":{\"id\":\""
              + lb
              + "/backendAddressPools/aksOutboundBackendPool\"}}}]}}");
      fake.seed(
          network(AKS_GROUP, "networkSecurityGroups", AKS_NSG),
          "{\"location\":\"westeurope\",\"properties\":{\"securityRules\":[{\"name\":"
              + "\"k8s-azure-lb_allow_IPv4_2c0d6e3f4a5b6c7d8e9f0a1b2c3d4e5f\",\"properties\":{\"priority\":500,"
              + "\"direction\":\"Inbound\",\"access\":\"Allow\",\"protocol\":\"Tcp\","
              + "\"sourceAddressPrefix\":\"Internet\",\"sourcePortRange\":\"*\","
              + "\"destinationAddressPrefixes\":[\""
              + fake.get(servicePip).path("properties").path("ipAddress").asText()
              + "\"],\"destinationPortRanges\":[\"80\"]}}]}}");
      for (int i = 0; i < 40; i++) {
        fake.nic(
            "/subscriptions/"
                + SUBSCRIPTION
                + "/resourceGroups/"
                + AKS_GROUP
                + "/providers/Microsoft.Compute/virtualMachineScaleSets/"
                + AKS_VMSS
                + "/virtualMachines/"
                + i
                + "/networkInterfaces/"
                + AKS_VMSS
                + "/ipConfigurations/ipconfig1",
            "10.224.0." + (i + 4),
            lb + "/backendAddressPools/kubernetes",
            lb + "/backendAddressPools/aksOutboundBackendPool");
      }
      return fake;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * AKS's parts, as ARM answers them, without what every write of the load balancer changes (its
   * and its parts' ETags): the load balancer with every part not named {@code ferry-…}, AKS's
   * public IPs (without the back-reference Azure computes), the NSG's rules not named {@code
   * ferry-…}.
   */
  public static Map<String, String> aksParts(ArmFake fake) {
    Map<String, String> out = new TreeMap<>();
    ObjectNode lb = fake.get(network(AKS_GROUP, "loadBalancers", "kubernetes")).deepCopy();
    lb.remove("etag");
    lb.path("properties")
        .fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().isArray()) {
                for (var it = e.getValue().iterator(); it.hasNext(); ) {
                  JsonNode part = it.next();
                  if (part.path("name").asText().startsWith("ferry-")) {
                    it.remove();
                  } else {
                    ((ObjectNode) part).remove("etag");
                  }
                }
              }
            });
    out.put("loadBalancer kubernetes", canonical(lb));
    for (JsonNode pip : fake.all("publicIPAddresses")) {
      if (!pip.path("name").asText().startsWith("ferry-")) {
        out.put("publicIP " + pip.path("name").asText(), canonical(pip));
      }
    }
    for (JsonNode rule :
        fake.get(network(AKS_GROUP, "networkSecurityGroups", AKS_NSG))
            .path("properties")
            .path("securityRules")) {
      if (!rule.path("name").asText().startsWith("ferry-")) {
        out.put("securityRule " + rule.path("name").asText(), canonical(rule));
      }
    }
    return out;
  }

  /** JSON with its keys sorted: the same content reads the same, whatever order ARM wrote it in. */
  static String canonical(JsonNode node) {
    try {
      Object plain = ArmFake.JSON.treeToValue(node, Object.class);
      return ArmFake.JSON
          .copy()
          .enable(com.fasterxml.jackson.databind.SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .writeValueAsString(plain);
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
    Map<String, String> out = new HashMap<>();
    out.put(AzureProviderFactory.SUBSCRIPTION, SUBSCRIPTION);
    out.put(AzureProviderFactory.RESOURCE_GROUP, GROUP);
    out.put(AzureProviderFactory.LOCATION, "westeurope");
    out.put(AzureProviderFactory.VNET, "vnet-ferry");
    out.put(AzureProviderFactory.SUBNET, "nodes");
    out.put(AzureProviderFactory.SECURITY_GROUP, NSG);
    out.put(AzureProviderFactory.ENDPOINT, fake.endpoint());
    return out;
  }

  /** Settings as an operator on AKS gives them (the load balancer is found, not named). */
  static Map<String, String> aksSettings(ArmFake fake) {
    Map<String, String> out = settings(fake);
    out.put(AzureProviderFactory.RESOURCE_GROUP, AKS_GROUP);
    out.put(AzureProviderFactory.VNET, "aks-vnet-31415926");
    out.put(AzureProviderFactory.SUBNET, "aks-subnet");
    out.put(AzureProviderFactory.SECURITY_GROUP, AKS_NSG);
    return out;
  }

  static AzureProvider provider(ArmFake fake, ProviderContext.Builder context) {
    return provider(fake, context, AzureSettings.Limits.AZURE);
  }

  static AzureProvider provider(
      ArmFake fake, ProviderContext.Builder context, AzureSettings.Limits limits) {
    return AzureProviderFactory.create(
        context.settings(settings(fake)).build(), 10_000, Duration.ofMillis(5), limits, true);
  }

  static AzureProvider aksProvider(ArmFake fake, ProviderContext.Builder context) {
    return AzureProviderFactory.create(
        context.settings(aksSettings(fake)).build(),
        10_000,
        Duration.ofMillis(5),
        AzureSettings.Limits.AZURE,
        true);
  }

  /** One write per Service, no batching: the baseline. */
  static AzureProvider unbatched(ArmFake fake, ProviderContext.Builder context) {
    return AzureProviderFactory.create(
        context.settings(settings(fake)).build(),
        10_000,
        Duration.ofMillis(5),
        AzureSettings.Limits.AZURE,
        false);
  }
}
