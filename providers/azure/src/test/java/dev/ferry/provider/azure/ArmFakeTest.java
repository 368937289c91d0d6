package dev.ferry.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The fake answers as ARM does, and refuses what Azure refuses: one test per documented rule, each
 * naming its source (the doc pages are cited on the rule in {@link ArmRules}).
 */
class ArmFakeTest {

  static final String SUB = AzureFixture.SUBSCRIPTION;
  static final String LB = AzureFixture.network(AzureFixture.GROUP, "loadBalancers", "lb");
  static final String AKS_LB =
      AzureFixture.network(AzureFixture.AKS_GROUP, "loadBalancers", "kubernetes");

  final ArmFake fake = AzureFixture.start();
  final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() {
    fake.close();
  }

  HttpResponse<String> send(ArmFake f, String method, String path, String body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create(f.endpoint() + path.substring(1) + "?api-version=2024-05-01"))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> send(String method, String path, String body, String... headers)
      throws Exception {
    return send(fake, method, path, body, headers);
  }

  static String lb(String lbId, String frontendProps, String pool, String rules) {
    return "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"properties\":{"
        + "\"frontendIPConfigurations\":[{\"name\":\"fe\",\"properties\":"
        + frontendProps
        + "}],"
        + "\"backendAddressPools\":[{\"name\":\"pool\",\"properties\":"
        + pool
        + "}],"
        + "\"loadBalancingRules\":["
        + rules
        + "]}}";
  }

  static String rule(String lbId, String name, int port, String extra) {
    return "{\"name\":\""
        + name
        + "\",\"properties\":{\"frontendIPConfiguration\":{\"id\":\""
        + lbId
        + "/frontendIPConfigurations/fe\"},\"backendAddressPool\":{\"id\":\""
        + lbId
        + "/backendAddressPools/pool\"},\"protocol\":\"Tcp\",\"frontendPort\":"
        + port
        + ",\"backendPort\":"
        + port
        + extra
        + "}}";
  }

  static final String PRIVATE = "{\"subnet\":{\"id\":\"/x/subnets/s\"}}";

  @Nested
  class Protocol {
    @Test
    @DisplayName(
        "a member the API does not have, a value outside its enum or range, a dangling reference: 400s")
    void validated() throws Exception {
      HttpResponse<String> unknown =
          send(
              "PUT", LB, "{\"location\":\"westeurope\",\"properties\":{\"frontendIpConfigs\":[]}}");
      assertThat(unknown.statusCode()).isEqualTo(400);
      assertThat(unknown.body())
          .contains("InvalidRequestFormat", "Could not find member 'properties.frontendIpConfigs'");
      HttpResponse<String> badEnum =
          send(
              "PUT",
              LB,
              lb(LB, PRIVATE, "{}", rule(LB, "r", 80, "").replace("\"Tcp\"", "\"Sctp\"")));
      assertThat(badEnum.body()).contains("protocol", "Sctp");
      HttpResponse<String> badRange =
          send("PUT", LB, lb(LB, PRIVATE, "{}", rule(LB, "r", 80, ",\"idleTimeoutInMinutes\":2")));
      assertThat(badRange.statusCode()).isEqualTo(400);
      assertThat(badRange.body()).contains("idleTimeoutInMinutes");
      HttpResponse<String> dangling =
          send(
              "PUT",
              LB,
              lb(
                  LB,
                  PRIVATE,
                  "{}",
                  rule(LB, "r", 80, "")
                      .replace("frontendIPConfigurations/fe", "frontendIPConfigurations/nope")));
      assertThat(dangling.body())
          .contains("InvalidResourceReference", "frontendIPConfigurations/nope");
    }

    @Test
    @DisplayName(
        "as recorded from ARM: 201 + Azure-AsyncOperation with defaults; unchanged PUT 200 without"
            + " operation; stale If-Match 412 PreconditionFailedEtagMismatch; If-None-Match ignored; DELETE 202"
            + " with both operation headers; 404 ResourceNotFound / ResourceGroupNotFound (also for lists)")
    void shapes() throws Exception {
      HttpResponse<String> made = send("PUT", LB, lb(LB, PRIVATE, "{}", rule(LB, "r", 80, "")));
      assertThat(made.statusCode()).isEqualTo(201);
      assertThat(made.headers().firstValue("Azure-AsyncOperation")).isPresent();
      assertThat(made.body())
          .contains(
              "\"inboundNatPools\":[]",
              "\"tier\":\"Regional\"",
              "\"enableTcpReset\":false",
              "\"privateIPAllocationMethod\":\"Dynamic\"");
      HttpResponse<String> poll =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(made.headers().firstValue("Azure-AsyncOperation").get()))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(poll.body()).contains("InProgress");
      HttpResponse<String> again = send("PUT", LB, lb(LB, PRIVATE, "{}", rule(LB, "r", 80, "")));
      assertThat(again.statusCode()).isEqualTo(200);
      assertThat(again.headers().firstValue("Azure-AsyncOperation")).isEmpty();
      String etag = send("GET", LB, null).headers().firstValue("ETag").orElseThrow();
      HttpResponse<String> stale =
          send("PUT", LB, lb(LB, PRIVATE, "{}", rule(LB, "r", 81, "")), "If-Match", "W/\"old\"");
      assertThat(stale.statusCode()).isEqualTo(412);
      assertThat(stale.body()).contains("PreconditionFailedEtagMismatch");
      assertThat(
              send("PUT", LB, lb(LB, PRIVATE, "{}", rule(LB, "r", 81, "")), "If-Match", etag)
                  .statusCode())
          .isEqualTo(200);
      assertThat(
              send("PUT", LB, lb(LB, PRIVATE, "{}", rule(LB, "r", 82, "")), "If-None-Match", "*")
                  .statusCode())
          .as("If-None-Match is not part of the API")
          .isEqualTo(200);
      HttpResponse<String> deleted = send("DELETE", LB, null);
      assertThat(deleted.statusCode()).isEqualTo(202);
      assertThat(deleted.headers().firstValue("Location")).isPresent();
      assertThat(deleted.headers().firstValue("Azure-AsyncOperation")).isPresent();
      assertThat(send("GET", LB, null).body())
          .contains("ResourceNotFound", "under resource group 'rg-ferry'");
      String missingGroup = AzureFixture.network("nope", "loadBalancers", "lb");
      assertThat(send("GET", missingGroup.substring(0, missingGroup.lastIndexOf('/')), null).body())
          .contains("ResourceGroupNotFound", "'nope' could not be found");
      fake.throttleNext(1, 90);
      HttpResponse<String> throttled = send("GET", LB, null);
      assertThat(throttled.statusCode()).isEqualTo(429);
      assertThat(throttled.headers().firstValue("Retry-After")).contains("90");
      fake.busyNextWrites(1);
      assertThat(send("PUT", LB, lb(LB, PRIVATE, "{}", "")).body())
          .contains("AnotherOperationInProgress");
    }
  }

  @Nested
  class Rules {
    String pip(ArmFake f, String group, String name, String sku) throws Exception {
      String id = AzureFixture.network(group, "publicIPAddresses", name);
      f.seed(
          id,
          "{\"location\":\"westeurope\",\"sku\":{\"name\":\""
              + sku
              + "\"},\"properties\":{\"publicIPAllocationMethod\":\"Static\"}}");
      return id;
    }

    @Test
    @DisplayName(
        "a public IP in at most one IP configuration (PublicIPReferencedByMultipleIPConfigs);"
            + " an attached one cannot be deleted (PublicIPAddressCannotBeDeleted)")
    void publicIpOnce() throws Exception {
      String pip = pip(fake, AzureFixture.GROUP, "ip1", "Standard");
      String fe = "{\"publicIPAddress\":{\"id\":\"" + pip + "\"}}";
      assertThat(send("PUT", LB, lb(LB, fe, "{}", "")).statusCode()).isEqualTo(201);
      String lb2 = AzureFixture.network(AzureFixture.GROUP, "loadBalancers", "lb2");
      assertThat(send("PUT", lb2, lb(lb2, fe, "{}", "")).body())
          .contains("PublicIPReferencedByMultipleIPConfigs");
      assertThat(send("DELETE", pip, null).body()).contains("PublicIPAddressCannotBeDeleted");
    }

    @Test
    @DisplayName(
        "load balancer and public IP SKUs match (PublicIPAndLBSkuDoNotMatch); a public IP not"
            + " Succeeded is refused (ReferencedResourceNotProvisioned)")
    void skuAndState() throws Exception {
      String basic = pip(fake, AzureFixture.GROUP, "basic", "Basic");
      assertThat(
              send("PUT", LB, lb(LB, "{\"publicIPAddress\":{\"id\":\"" + basic + "\"}}", "{}", ""))
                  .body())
          .contains("PublicIPAndLBSkuDoNotMatch");
      String failed = pip(fake, AzureFixture.GROUP, "failed", "Standard");
      fake.state(failed, "Failed");
      assertThat(
              send("PUT", LB, lb(LB, "{\"publicIPAddress\":{\"id\":\"" + failed + "\"}}", "{}", ""))
                  .body())
          .contains("ReferencedResourceNotProvisioned", "Failed state");
    }

    @Test
    @DisplayName(
        "AKS's NIC-based pool takes no IP addresses; a NIC is behind one public Standard LB only"
            + " (NetworkInterfaceUsesMultipleLoadBalancersOfSameType); outbound SNAT off beside an outbound rule")
    void aksPoolsAndNics() throws Exception {
      try (ArmFake aks = AzureFixture.aks()) {
        ObjectNodeEdit edit = new ObjectNodeEdit(aks.get(AKS_LB));
        edit.addPoolAddress("kubernetes", "10.224.0.9");
        assertThat(send(aks, "PUT", AKS_LB, edit.json()).body())
            .contains("BackendAddressPoolCannotMixNicAndIpAddresses");
        String other =
            AzureFixture.network(AzureFixture.AKS_GROUP, "loadBalancers", "ferry-kubernetes");
        String pip = pip(aks, AzureFixture.AKS_GROUP, "ferry-ip", "Standard");
        HttpResponse<String> second =
            send(
                aks,
                "PUT",
                other,
                lb(
                    other,
                    "{\"publicIPAddress\":{\"id\":\"" + pip + "\"}}",
                    "{\"loadBalancerBackendAddresses\":[{\"name\":\"n\",\"properties\":{\"ipAddress\":\"10.224.0.4\",\"virtualNetwork\":{\"id\":\"/v\"}}}]}",
                    ""));
        assertThat(second.body()).contains("NetworkInterfaceUsesMultipleLoadBalancersOfSameType");
        ObjectNodeEdit snat = new ObjectNodeEdit(aks.get(AKS_LB));
        snat.addRuleOnOutboundFrontend(AKS_LB, AzureFixture.OUTBOUND_FRONTEND);
        assertThat(send(aks, "PUT", AKS_LB, snat.json()).body())
            .contains(
                "LoadBalancingRuleMustDisableSNATSinceSameFrontendIPConfigurationIsReferencedByOutboundRule");
      }
    }

    @Test
    @DisplayName(
        "at most 300 load-balancing rules per NIC IP configuration (the limits page), 1,500 per"
            + " load balancer, 600 frontends")
    void ruleLimits() throws Exception {
      StringBuilder rules = new StringBuilder();
      for (int i = 0; i < 301; i++) {
        rules.append(i == 0 ? "" : ",").append(rule(LB, "r" + i, 1000 + i, ""));
      }
      String pool =
          "{\"loadBalancerBackendAddresses\":[{\"name\":\"n\",\"properties\":{\"ipAddress\":\"10.224.0.4\",\"virtualNetwork\":{\"id\":\"/v\"}}}]}";
      assertThat(send("PUT", LB, lb(LB, PRIVATE, pool, rules.toString())).body())
          .contains("LoadBalancingRulesPerNicIpConfigurationLimitReached", "301");
      assertThat(send("PUT", LB, lb(LB, PRIVATE, "{}", rules.toString())).statusCode())
          .as("a pool holding no NIC: no per-NIC limit")
          .isEqualTo(201);
      StringBuilder many = new StringBuilder();
      for (int i = 0; i < 1501; i++) {
        many.append(i == 0 ? "" : ",").append(rule(LB, "r" + i, 1000 + i, ""));
      }
      assertThat(send("PUT", LB, lb(LB, PRIVATE, "{}", many.toString())).body())
          .contains("LoadBalancerRulesLimitReached");
    }

    @Test
    @DisplayName(
        "NSG rules: priority 100-4096, unique per direction (SecurityRuleConflict), one IP family"
            + " per rule, at most 1,000 per group")
    void securityRules() throws Exception {
      String nsg =
          AzureFixture.network(AzureFixture.GROUP, "networkSecurityGroups", AzureFixture.NSG);
      String base =
          "{\"properties\":{\"protocol\":\"Tcp\",\"access\":\"Allow\",\"direction\":\"Inbound\","
              + "\"sourcePortRange\":\"*\",\"destinationPortRange\":\"80\",\"destinationAddressPrefix\":\"20.61.0.9\",";
      assertThat(
              send(
                      "PUT",
                      nsg + "/securityRules/a",
                      base + "\"priority\":50,\"sourceAddressPrefix\":\"1.2.3.0/24\"}}")
                  .body())
          .contains("priority");
      assertThat(
              send(
                      "PUT",
                      nsg + "/securityRules/a",
                      base + "\"priority\":500,\"sourceAddressPrefix\":\"1.2.3.0/24\"}}")
                  .body())
          .contains("SecurityRuleConflict", "ops-ssh");
      assertThat(
              send(
                      "PUT",
                      nsg + "/securityRules/a",
                      base
                          + "\"priority\":501,\"sourceAddressPrefixes\":[\"1.2.3.0/24\",\"2001:db8::/32\"]}}")
                  .body())
          .contains("SecurityRuleParameterContainsIPv4AndIPv6Addresses");
      for (int i = 0; i < 999; i++) {
        assertThat(
                send(
                        "PUT",
                        nsg + "/securityRules/r" + i,
                        base
                            + "\"priority\":"
                            + (1000 + i)
                            + ",\"sourceAddressPrefix\":\"1.2.3.0/24\"}}")
                    .statusCode())
            .isEqualTo(201);
      }
      assertThat(
              send(
                      "PUT",
                      nsg + "/securityRules/last",
                      base + "\"priority\":3000,\"sourceAddressPrefix\":\"1.2.3.0/24\"}}")
                  .body())
          .contains("SecurityRulesLimitReached");
    }
  }

  /** Edits an answered load balancer into a request. */
  static final class ObjectNodeEdit {
    final com.fasterxml.jackson.databind.node.ObjectNode lb;

    ObjectNodeEdit(com.fasterxml.jackson.databind.JsonNode answered) {
      lb = answered.deepCopy();
      ArmDefaults.forget(lb);
    }

    void addPoolAddress(String pool, String ip) {
      for (var p : lb.path("properties").path("backendAddressPools")) {
        if (p.path("name").asText().equals(pool)) {
          ((com.fasterxml.jackson.databind.node.ObjectNode) p)
              .withObject("properties")
              .withArray("loadBalancerBackendAddresses")
              .addObject()
              .put("name", "n")
              .putObject("properties")
              .put("ipAddress", ip)
              .putObject("virtualNetwork")
              .put("id", "/v");
        }
      }
    }

    void addRuleOnOutboundFrontend(String lbId, String frontend) {
      var r = lb.withObject("properties").withArray("loadBalancingRules").addObject();
      r.put("name", "snat");
      var p = r.putObject("properties");
      p.putObject("frontendIPConfiguration")
          .put("id", lbId + "/frontendIPConfigurations/" + frontend);
      p.putObject("backendAddressPool").put("id", lbId + "/backendAddressPools/kubernetes");
      p.put("protocol", "Tcp")
          .put("frontendPort", 8080)
          .put("backendPort", 8080)
          .put("disableOutboundSnat", false);
    }

    String json() {
      return lb.toString();
    }
  }
}
