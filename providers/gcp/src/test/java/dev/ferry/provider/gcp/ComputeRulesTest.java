package dev.ferry.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The fake answers as Compute does, and refuses what Compute refuses: each rule below names the
 * page (or the discovery document's field) that documents it. Requests are sent as raw JSON, so the
 * fake is tested apart from any client's idea of the API, and once through the vendor's own client.
 */
class ComputeRulesTest extends ComputeHttpTest {

  @Nested
  @DisplayName("the documented rules, each refused as Compute refuses it")
  class Rules {

    @Test
    @DisplayName(
        "discovery ForwardingRule.ports: ports, portRange and allPorts are exclusive; at most 5"
            + " ports")
    void ports() throws Exception {
      String bs = backendService("ferry-bs", "EXTERNAL", "TCP");
      Answer six =
          insert(
              REGION + "/forwardingRules",
              "{\"name\":\"ferry-r\",\"IPProtocol\":\"TCP\",\"backendService\":\""
                  + bs
                  + "\",\"ports\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"]}");
      assertThat(six.status()).isEqualTo(400);
      assertThat(six.text()).contains("at most 5 ports");
      Answer both =
          insert(
              REGION + "/forwardingRules",
              "{\"name\":\"ferry-r\",\"IPProtocol\":\"TCP\",\"backendService\":\""
                  + bs
                  + "\",\"ports\":[\"80\"],\"allPorts\":true}");
      assertThat(both.text()).contains("mutually exclusive");
    }

    @Test
    @DisplayName(
        "discovery ForwardingRule.networkTier: a rule's tier must equal its address's (the user's"
            + " STANDARD address under a PREMIUM rule is refused)")
    void tier() throws Exception {
      String bs = backendService("ferry-bs", "EXTERNAL", "TCP");
      String rule =
          "{\"name\":\"ferry-r\",\"IPProtocol\":\"TCP\",\"backendService\":\""
              + bs
              + "\",\"ports\":[\"80\"],\"IPAddress\":\""
              + GkeProject.STANDARD_IP
              + "\"";
      Answer premium = insert(REGION + "/forwardingRules", rule + ",\"networkTier\":\"PREMIUM\"}");
      assertThat(premium.status()).isEqualTo(400);
      assertThat(premium.text()).contains("network tier");
      Answer standard =
          insert(REGION + "/forwardingRules", rule + ",\"networkTier\":\"STANDARD\"}");
      assertThat(standard.body().has("error")).as(standard.text()).isFalse();
    }

    @Test
    @DisplayName(
        "load-balancing/docs/internal/multiple-forwarding-rules-same-ip: a second INTERNAL rule on"
            + " one IP needs purpose SHARED_LOADBALANCER_VIP (IP_IN_USE_BY_ANOTHER_RESOURCE in the"
            + " operation otherwise)")
    void sharedInternalVip() throws Exception {
      String tcp = backendService("ferry-tcp", "INTERNAL", "TCP");
      String udp = backendService("ferry-udp", "INTERNAL", "UDP");
      for (String[] v :
          new String[][] {
            {"ferry-plain", ""}, {"ferry-shared", ",\"purpose\":\"SHARED_LOADBALANCER_VIP\""}
          }) {
        Answer addr =
            insert(
                REGION + "/addresses",
                "{\"name\":\""
                    + v[0]
                    + "\",\"addressType\":\"INTERNAL\",\"subnetwork\":\""
                    + SUBNET
                    + "\""
                    + v[1]
                    + "}");
        assertThat(addr.body().has("error")).as(addr.text()).isFalse();
      }
      String plain =
          call("GET", REGION + "/addresses/ferry-plain", null).body().get("address").getAsString();
      String shared =
          call("GET", REGION + "/addresses/ferry-shared", null).body().get("address").getAsString();
      for (String[] c : new String[][] {{plain, "p"}, {shared, "s"}}) {
        String common =
            "\"loadBalancingScheme\":\"INTERNAL\",\"network\":\""
                + NET
                + "\",\"subnetwork\":\""
                + SUBNET
                + "\",\"IPAddress\":\""
                + c[0]
                + "\",\"ports\":[\"53\"]";
        Answer first =
            insert(
                REGION + "/forwardingRules",
                "{\"name\":\"ferry-"
                    + c[1]
                    + "-tcp\",\"IPProtocol\":\"TCP\",\"backendService\":\""
                    + tcp
                    + "\","
                    + common
                    + "}");
        assertThat(first.body().has("error")).as(first.text()).isFalse();
        Answer second =
            insert(
                REGION + "/forwardingRules",
                "{\"name\":\"ferry-"
                    + c[1]
                    + "-udp\",\"IPProtocol\":\"UDP\",\"backendService\":\""
                    + udp
                    + "\","
                    + common
                    + "}");
        if (c[1].equals("p")) {
          assertThat(second.code()).isEqualTo("IP_IN_USE_BY_ANOTHER_RESOURCE");
          assertThat(second.body().get("httpErrorStatusCode").getAsInt()).isEqualTo(400);
        } else {
          assertThat(second.body().has("error")).as(second.text()).isFalse();
        }
      }
    }

    @Test
    @DisplayName(
        "discovery ForwardingRule.ports: external rules on one IP and protocol may not share a"
            + " port; another protocol may")
    void externalSharing() throws Exception {
      String tcp = backendService("ferry-tcp", "EXTERNAL", "TCP");
      String udp = backendService("ferry-udp", "EXTERNAL", "UDP");
      insert(REGION + "/addresses", "{\"name\":\"ferry-ip\"}");
      String ip =
          call("GET", REGION + "/addresses/ferry-ip", null).body().get("address").getAsString();
      String at = "\"IPAddress\":\"" + ip + "\",\"ports\":[\"53\"]";
      assertThat(
              insert(
                      REGION + "/forwardingRules",
                      "{\"name\":\"ferry-a\",\"IPProtocol\":\"TCP\",\"backendService\":\""
                          + tcp
                          + "\","
                          + at
                          + "}")
                  .body()
                  .has("error"))
          .isFalse();
      assertThat(
              insert(
                      REGION + "/forwardingRules",
                      "{\"name\":\"ferry-b\",\"IPProtocol\":\"TCP\",\"backendService\":\""
                          + tcp
                          + "\","
                          + at
                          + "}")
                  .code())
          .isEqualTo("IP_IN_USE_BY_ANOTHER_RESOURCE");
      assertThat(
              insert(
                      REGION + "/forwardingRules",
                      "{\"name\":\"ferry-c\",\"IPProtocol\":\"UDP\",\"backendService\":\""
                          + udp
                          + "\","
                          + at
                          + "}")
                  .body()
                  .has("error"))
          .isFalse();
    }

    @Test
    @DisplayName("discovery Backend.group: a partial URL is refused; the full URL is taken")
    void fullGroupUrl() throws Exception {
      String check = healthCheck("ferry-hc");
      insert(
          "/compute/v1/projects/" + P + "/zones/europe-west1-d/instanceGroups",
          "{\"name\":\"ferry-g\"}");
      String partial = "projects/" + P + "/zones/europe-west1-d/instanceGroups/ferry-g";
      String body =
          "{\"name\":\"ferry-bs\",\"protocol\":\"TCP\",\"loadBalancingScheme\":\"EXTERNAL\",\"healthChecks\":[\""
              + check
              + "\"],\"backends\":[{\"group\":\"%s\",\"balancingMode\":\"CONNECTION\"}]}";
      Answer refused = insert(REGION + "/backendServices", body.formatted(partial));
      assertThat(refused.status()).isEqualTo(400);
      assertThat(refused.text()).contains("Partial URLs are not supported");
      assertThat(
              insert(REGION + "/backendServices", body.formatted(ComputeFake.GOOGLEAPIS + partial))
                  .body()
                  .has("error"))
          .isFalse();
    }

    @Test
    @DisplayName(
        "discovery ForwardingRule.labels / Address.labels: only through setLabels, with the"
            + " current labelFingerprint (412 on a stale one)")
    void labels() throws Exception {
      Answer onInsert =
          insert(REGION + "/addresses", "{\"name\":\"ferry-a\",\"labels\":{\"k\":\"v\"}}");
      assertThat(onInsert.status()).isEqualTo(400);
      assertThat(onInsert.text()).contains("setLabels");
      insert(REGION + "/addresses", "{\"name\":\"ferry-a\"}");
      String fingerprint =
          call("GET", REGION + "/addresses/ferry-a", null)
              .body()
              .get("labelFingerprint")
              .getAsString();
      Answer stale =
          call(
              "POST",
              REGION + "/addresses/ferry-a/setLabels",
              "{\"labelFingerprint\":\"c3RhbGU=\",\"labels\":{\"k\":\"v\"}}");
      assertThat(stale.status()).isEqualTo(412);
      assertThat(
              done(call(
                      "POST",
                      REGION + "/addresses/ferry-a/setLabels",
                      "{\"labelFingerprint\":\"" + fingerprint + "\",\"labels\":{\"k\":\"v\"}}"))
                  .body()
                  .has("error"))
          .isFalse();
      assertThat(
              call("GET", REGION + "/addresses/ferry-a", null)
                  .body()
                  .getAsJsonObject("labels")
                  .get("k")
                  .getAsString())
          .isEqualTo("v");
    }

    @Test
    @DisplayName(
        "load-balancing/docs/backend-service#restrictions_and_guidance: a VM in GKE's"
            + " load-balanced group cannot join a second load-balanced group"
            + " (instanceInMultipleLoadBalancedIgs), by a backend service or by addInstances")
    void oneLoadBalancedGroupPerVm() throws Exception {
      String zone = "/compute/v1/projects/" + P + "/zones/europe-west1-b/instanceGroups";
      insert(zone, "{\"name\":\"ferry-g\"}");
      String vm =
          ComputeFake.GOOGLEAPIS
              + "projects/"
              + P
              + "/zones/europe-west1-b/instances/"
              + GkeProject.NODE_PREFIX
              + "0";
      Answer add =
          insert(zone + "/ferry-g/addInstances", "{\"instances\":[{\"instance\":\"" + vm + "\"}]}");
      assertThat(add.body().has("error")).as("a group no load balancer uses takes it").isFalse();
      String check = healthCheck("ferry-hc");
      Answer bs =
          insert(
              REGION + "/backendServices",
              "{\"name\":\"ferry-bs\",\"protocol\":\"TCP\",\"loadBalancingScheme\":\"EXTERNAL\",\"healthChecks\":[\""
                  + check
                  + "\"],\"backends\":[{\"group\":\""
                  + ComputeFake.GOOGLEAPIS
                  + zone.substring("/compute/v1/".length())
                  + "/ferry-g\",\"balancingMode\":\"CONNECTION\"}]}");
      assertThat(bs.code()).isEqualTo("instanceInMultipleLoadBalancedIgs");
      // the other way round: a load-balanced group taking a VM of GKE's group
      String gkeVm = vm;
      insert(zone, "{\"name\":\"ferry-h\"}");
      String other =
          ComputeFake.GOOGLEAPIS
              + "projects/"
              + P
              + "/zones/europe-west1-b/instances/"
              + GkeProject.OUTSIDER;
      insert(zone + "/ferry-h/addInstances", "{\"instances\":[{\"instance\":\"" + other + "\"}]}");
      Answer lb =
          insert(
              REGION + "/backendServices",
              "{\"name\":\"ferry-bs2\",\"protocol\":\"TCP\",\"loadBalancingScheme\":\"EXTERNAL\",\"healthChecks\":[\""
                  + check
                  + "\"],\"backends\":[{\"group\":\""
                  + ComputeFake.GOOGLEAPIS
                  + zone.substring("/compute/v1/".length())
                  + "/ferry-h\",\"balancingMode\":\"CONNECTION\"}]}");
      assertThat(lb.body().has("error")).as(lb.text()).isFalse();
      Answer join =
          insert(
              zone + "/ferry-h/addInstances", "{\"instances\":[{\"instance\":\"" + gkeVm + "\"}]}");
      assertThat(join.code()).isEqualTo("instanceInMultipleLoadBalancedIgs");
      Answer twice =
          insert(
              zone + "/ferry-h/addInstances", "{\"instances\":[{\"instance\":\"" + other + "\"}]}");
      assertThat(twice.code()).isEqualTo("memberAlreadyExists");
    }

    @Test
    @DisplayName(
        "a resource another uses cannot be deleted (resourceInUseByAnotherResource): a backend"
            + " service under a rule, an address under a rule, a check under a backend service")
    void inUse() throws Exception {
      String bs = backendService("ferry-bs", "EXTERNAL", "TCP");
      insert(REGION + "/addresses", "{\"name\":\"ferry-ip\"}");
      String ip =
          call("GET", REGION + "/addresses/ferry-ip", null).body().get("address").getAsString();
      insert(
          REGION + "/forwardingRules",
          "{\"name\":\"ferry-r\",\"IPProtocol\":\"TCP\",\"backendService\":\""
              + bs
              + "\",\"ports\":[\"80\"],\"IPAddress\":\""
              + ip
              + "\"}");
      assertThat(call("DELETE", REGION + "/backendServices/ferry-bs", null).code())
          .isEqualTo("resourceInUseByAnotherResource");
      assertThat(call("DELETE", REGION + "/addresses/ferry-ip", null).code())
          .isEqualTo("resourceInUseByAnotherResource");
      assertThat(call("DELETE", REGION + "/healthChecks/ferry-bs-hc", null).code())
          .isEqualTo("resourceInUseByAnotherResource");
    }

    @Test
    @DisplayName(
        "firewall/docs/firewalls: an ingress rule with no source is stored as 0.0.0.0/0; IPv4 and"
            + " IPv6 ranges cannot be mixed in one rule")
    void firewalls() throws Exception {
      Answer open =
          insert(
              GLOBAL + "/firewalls",
              "{\"name\":\"ferry-f\",\"network\":\""
                  + NET
                  + "\",\"allowed\":[{\"IPProtocol\":\"tcp\",\"ports\":[\"443\"]}],\"targetTags\":[\"x\"]}");
      assertThat(open.body().has("error")).isFalse();
      assertThat(
              call("GET", GLOBAL + "/firewalls/ferry-f", null)
                  .body()
                  .getAsJsonArray("sourceRanges")
                  .toString())
          .isEqualTo("[\"0.0.0.0/0\"]");
      Answer mixed =
          insert(
              GLOBAL + "/firewalls",
              "{\"name\":\"ferry-g\",\"network\":\""
                  + NET
                  + "\",\"sourceRanges\":[\"10.0.0.0/8\",\"2001:db8::/32\"],\"allowed\":[{\"IPProtocol\":\"tcp\"}]}");
      assertThat(mixed.status()).isEqualTo(400);
    }

    @Test
    @DisplayName(
        "discovery ForwardingRule.subnetwork: in a custom-mode network an internal address or rule"
            + " must name a subnetwork")
    void customModeSubnet() throws Exception {
      Answer address =
          insert(REGION + "/addresses", "{\"name\":\"ferry-i\",\"addressType\":\"INTERNAL\"}");
      assertThat(address.status()).isEqualTo(400);
      assertThat(address.text()).contains("subnetwork");
      String bs = backendService("ferry-bs", "INTERNAL", "TCP");
      Answer rule =
          insert(
              REGION + "/forwardingRules",
              "{\"name\":\"ferry-r\",\"IPProtocol\":\"TCP\",\"loadBalancingScheme\":\"INTERNAL\",\"backendService\":\""
                  + bs
                  + "\",\"network\":\""
                  + NET
                  + "\",\"ports\":[\"80\"]}");
      assertThat(rule.status()).isEqualTo(400);
      assertThat(rule.text()).contains("custom subnet mode");
    }

    @Test
    @DisplayName(
        "reserve-static-external-ip-address: a requested external IP in use is refused in the"
            + " operation (409 IP_IN_USE_BY_ANOTHER_RESOURCE); one the project cannot have (400)")
    void requestedIp() throws Exception {
      Answer taken =
          insert(
              REGION + "/addresses",
              "{\"name\":\"ferry-a\",\"address\":\"" + GkeProject.STANDARD_IP + "\"}");
      assertThat(taken.code()).isEqualTo("IP_IN_USE_BY_ANOTHER_RESOURCE");
      assertThat(taken.body().get("httpErrorStatusCode").getAsInt()).isEqualTo(409);
      Answer foreign =
          insert(REGION + "/addresses", "{\"name\":\"ferry-b\",\"address\":\"8.8.8.8\"}");
      assertThat(foreign.body().get("httpErrorStatusCode").getAsInt()).isEqualTo(400);
      assertThat(fake.all("addresses")).as("neither was made").hasSize(1);
    }

    @Test
    @DisplayName(
        "forwarding-rule-concepts#protocol-specifications: L3_DEFAULT takes allPorts only; an"
            + " external IPAddress must be a reserved address (discovery ForwardingRule.IPAddress)")
    void l3DefaultAndReservedIp() throws Exception {
      String bs = backendService("ferry-bs", "EXTERNAL", "UNSPECIFIED");
      Answer l3 =
          insert(
              REGION + "/forwardingRules",
              "{\"name\":\"ferry-r\",\"IPProtocol\":\"L3_DEFAULT\",\"backendService\":\""
                  + bs
                  + "\",\"ports\":[\"80\"]}");
      assertThat(l3.status()).isEqualTo(400);
      Answer unreserved =
          insert(
              REGION + "/forwardingRules",
              "{\"name\":\"ferry-r\",\"IPProtocol\":\"L3_DEFAULT\",\"allPorts\":true,"
                  + "\"IPAddress\":\"34.1.2.3\",\"backendService\":\""
                  + bs
                  + "\"}");
      assertThat(unreserved.text()).contains("not reserved");
    }

    @Test
    @DisplayName(
        "network LB backend services: exactly one health check; CONNECTION balancing only"
            + " (backend-service#balancing-mode)")
    void backendServiceShape() throws Exception {
      String check = healthCheck("ferry-hc");
      insert(
          "/compute/v1/projects/" + P + "/zones/europe-west1-d/instanceGroups",
          "{\"name\":\"ferry-g\"}");
      String group =
          ComputeFake.GOOGLEAPIS + "projects/" + P + "/zones/europe-west1-d/instanceGroups/ferry-g";
      Answer noCheck =
          insert(
              REGION + "/backendServices",
              "{\"name\":\"ferry-bs\",\"protocol\":\"TCP\",\"loadBalancingScheme\":\"EXTERNAL\"}");
      assertThat(noCheck.text()).contains("exactly one health check");
      Answer rate =
          insert(
              REGION + "/backendServices",
              "{\"name\":\"ferry-bs\",\"protocol\":\"TCP\",\"loadBalancingScheme\":\"EXTERNAL\","
                  + "\"healthChecks\":[\""
                  + check
                  + "\"],\"backends\":[{\"group\":\""
                  + group
                  + "\",\"balancingMode\":\"RATE\"}]}");
      assertThat(rate.text()).contains("CONNECTION");
    }

    @Test
    @DisplayName(
        "a backend service's PUT needs its current fingerprint (412 conditionNotMet); a rule's"
            + " address and ports cannot be patched (forwarding-rule-concepts)")
    void fingerprintsAndImmutableRules() throws Exception {
      String bs = backendService("ferry-bs", "EXTERNAL", "TCP");
      String check = bs.replace("/backendServices/ferry-bs", "/healthChecks/ferry-bs-hc");
      Answer stale =
          call(
              "PUT",
              REGION + "/backendServices/ferry-bs",
              "{\"name\":\"ferry-bs\",\"protocol\":\"TCP\",\"loadBalancingScheme\":\"EXTERNAL\","
                  + "\"healthChecks\":[\""
                  + check
                  + "\"],\"fingerprint\":\"c3RhbGU=\"}");
      assertThat(stale.status()).isEqualTo(412);
      insert(REGION + "/addresses", "{\"name\":\"ferry-ip\"}");
      String ip =
          call("GET", REGION + "/addresses/ferry-ip", null).body().get("address").getAsString();
      insert(
          REGION + "/forwardingRules",
          "{\"name\":\"ferry-r\",\"IPProtocol\":\"TCP\",\"backendService\":\""
              + bs
              + "\",\"ports\":[\"80\"],\"IPAddress\":\""
              + ip
              + "\"}");
      String fingerprint =
          call("GET", REGION + "/forwardingRules/ferry-r", null)
              .body()
              .get("fingerprint")
              .getAsString();
      Answer patch =
          call(
              "PATCH",
              REGION + "/forwardingRules/ferry-r",
              "{\"ports\":[\"81\"],\"fingerprint\":\"" + fingerprint + "\"}");
      assertThat(patch.status()).isEqualTo(400);
      assertThat(patch.text()).contains("cannot be changed");
    }

    @Test
    @DisplayName(
        "reserve-static-internal-ip-address: purpose SHARED_LOADBALANCER_VIP is for INTERNAL"
            + " addresses only")
    void sharedVipInternalOnly() throws Exception {
      Answer external =
          insert(
              REGION + "/addresses",
              "{\"name\":\"ferry-a\",\"purpose\":\"SHARED_LOADBALANCER_VIP\"}");
      assertThat(external.status()).isEqualTo(400);
      assertThat(external.text()).contains("INTERNAL");
    }
  }
}
