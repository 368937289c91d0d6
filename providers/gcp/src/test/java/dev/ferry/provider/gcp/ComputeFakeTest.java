package dev.ferry.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.longrunning.OperationTimedPollAlgorithm;
import com.google.api.gax.retrying.RetrySettings;
import com.google.api.gax.rpc.AbortedException;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.NotFoundException;
import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.AddressesClient;
import com.google.cloud.compute.v1.AddressesSettings;
import com.google.cloud.compute.v1.Operation;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The fake answers as Compute does, and refuses what Compute refuses: each rule below names the
 * page (or the discovery document's field) that documents it. Requests are sent as raw JSON, so the
 * fake is tested apart from any client's idea of the API, and once through the vendor's own client.
 */
class ComputeFakeTest {

  private static final String P = GkeProject.PROJECT;
  private static final String R = GkeProject.REGION;
  private static final String REGION = "/compute/v1/projects/" + P + "/regions/" + R;
  private static final String GLOBAL = "/compute/v1/projects/" + P + "/global";
  private static final String NET = ComputeFake.GOOGLEAPIS + GkeProject.networkLink();
  private static final String SUBNET =
      ComputeFake.GOOGLEAPIS
          + "projects/"
          + P
          + "/regions/"
          + R
          + "/subnetworks/"
          + GkeProject.SUBNET;

  private final HttpClient http = HttpClient.newHttpClient();
  private ComputeFake fake;

  record Answer(int status, JsonObject body) {
    String text() {
      return body.toString();
    }

    /** An operation's error code, or the error's reason. */
    String code() {
      if (body.has("error") && body.getAsJsonObject("error").has("errors")) {
        JsonObject e =
            body.getAsJsonObject("error").getAsJsonArray("errors").get(0).getAsJsonObject();
        return e.has("code") ? e.get("code").getAsString() : e.get("reason").getAsString();
      }
      return "";
    }
  }

  @BeforeEach
  void start() throws Exception {
    fake = new ComputeFake();
    GkeProject.seed(fake, 3);
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  private Answer call(String method, String path, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fake.endpoint() + path));
    b.method(
        method,
        json == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(json));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), JsonParser.parseString(r.body()).getAsJsonObject());
  }

  /** Polls an operation until DONE; answers it. */
  private Answer done(Answer op) throws Exception {
    assertThat(op.status()).as(op.text()).isEqualTo(200);
    Answer now = op;
    for (int i = 0; i < 20 && !now.body().get("status").getAsString().equals("DONE"); i++) {
      String self = now.body().get("selfLink").getAsString();
      now = call("GET", "/compute/v1/" + self.substring(ComputeFake.GOOGLEAPIS.length()), null);
    }
    return now;
  }

  private Answer insert(String collectionPath, String json) throws Exception {
    Answer a = call("POST", collectionPath, json);
    return a.status() == 200 ? done(a) : a;
  }

  private String healthCheck(String name) throws Exception {
    assertThat(
            insert(
                    REGION + "/healthChecks",
                    "{\"name\":\""
                        + name
                        + "\",\"type\":\"TCP\",\"tcpHealthCheck\":{\"port\":10256}}")
                .body()
                .has("error"))
        .isFalse();
    return ComputeFake.GOOGLEAPIS + "projects/" + P + "/regions/" + R + "/healthChecks/" + name;
  }

  private String backendService(String name, String scheme, String protocol) throws Exception {
    String check = healthCheck(name + "-hc");
    String network = scheme.equals("INTERNAL") ? ",\"network\":\"" + NET + "\"" : "";
    Answer a =
        insert(
            REGION + "/backendServices",
            "{\"name\":\""
                + name
                + "\",\"protocol\":\""
                + protocol
                + "\",\"loadBalancingScheme\":\""
                + scheme
                + "\",\"healthChecks\":[\""
                + check
                + "\"]"
                + network
                + "}");
    assertThat(a.body().has("error")).as(a.text()).isFalse();
    return ComputeFake.GOOGLEAPIS + "projects/" + P + "/regions/" + R + "/backendServices/" + name;
  }

  @Nested
  @DisplayName("the protocol")
  class Protocol {

    @Test
    @DisplayName(
        "an operation goes PENDING, RUNNING, DONE, and the change takes effect at DONE; a retry"
            + " with the same requestId answers the same operation and makes nothing twice")
    void operationsAndRequestIds() throws Exception {
      fake.runningPolls(1);
      String body = "{\"name\":\"ferry-a\",\"networkTier\":\"PREMIUM\"}";
      Answer started = call("POST", REGION + "/addresses?requestId=r-1", body);
      assertThat(started.body().get("status").getAsString()).isEqualTo("PENDING");
      assertThat(call("GET", REGION + "/addresses/ferry-a", null).status())
          .as("not made before DONE")
          .isEqualTo(404);
      Answer again = call("POST", REGION + "/addresses?requestId=r-1", body);
      assertThat(again.body().get("name")).isEqualTo(started.body().get("name"));
      String self =
          started.body().get("selfLink").getAsString().substring(ComputeFake.GOOGLEAPIS.length());
      assertThat(call("GET", "/compute/v1/" + self, null).body().get("status").getAsString())
          .isEqualTo("RUNNING");
      assertThat(call("GET", "/compute/v1/" + self, null).body().get("status").getAsString())
          .isEqualTo("DONE");
      assertThat(call("GET", REGION + "/addresses/ferry-a", null).status()).isEqualTo(200);
      assertThat(fake.all("addresses")).hasSize(2); // and the user's STANDARD address
    }

    @Test
    @DisplayName(
        "lists page (maxResults, nextPageToken) and honour =, !=, eq filters; a filter the fake"
            + " does not know is a 400, never ignored")
    void pagingAndFilters() throws Exception {
      fake.pageSize(1);
      for (String n : new String[] {"ferry-a", "ferry-b"}) {
        insert(REGION + "/addresses", "{\"name\":\"" + n + "\"}");
      }
      Answer first = call("GET", REGION + "/addresses", null);
      assertThat(first.body().getAsJsonArray("items")).hasSize(1);
      String token = first.body().get("nextPageToken").getAsString();
      Answer second = call("GET", REGION + "/addresses?pageToken=" + token, null);
      assertThat(second.body().getAsJsonArray("items")).hasSize(1);
      fake.pageSize(500);
      Answer byIp =
          call(
              "GET",
              REGION + "/addresses?filter=address%20%3D%20%22" + GkeProject.STANDARD_IP + "%22",
              null);
      assertThat(byIp.body().getAsJsonArray("items")).hasSize(1);
      Answer byRegex = call("GET", REGION + "/addresses?filter=name%20eq%20%22ferry-.*%22", null);
      assertThat(byRegex.body().getAsJsonArray("items")).hasSize(2);
      Answer odd = call("GET", REGION + "/addresses?filter=address%20%3E%3D%201", null);
      assertThat(odd.status()).isEqualTo(400);
    }

    @Test
    @DisplayName("a region answers its real zones, one of them with nothing in it")
    void zones() throws Exception {
      Answer region = call("GET", REGION, null);
      assertThat(region.body().getAsJsonArray("zones").toString())
          .contains("europe-west1-b", "europe-west1-c", "europe-west1-d");
    }

    @Test
    @DisplayName(
        "the vendor's own client: an insert polled to DONE, 409 as AbortedException, 404 as"
            + " NotFoundException, an operation's error as its httpErrorStatusCode, throttling")
    void vendorClient() throws Exception {
      fake.runningPolls(2);
      RetrySettings fast =
          RetrySettings.newBuilder()
              .setInitialRetryDelayDuration(Duration.ofMillis(5))
              .setRetryDelayMultiplier(1.0)
              .setMaxRetryDelayDuration(Duration.ofMillis(5))
              .setInitialRpcTimeoutDuration(Duration.ofSeconds(5))
              .setRpcTimeoutMultiplier(1.0)
              .setMaxRpcTimeoutDuration(Duration.ofSeconds(5))
              .setTotalTimeoutDuration(Duration.ofSeconds(10))
              .build();
      AddressesSettings.Builder a =
          AddressesSettings.newBuilder()
              .setEndpoint(fake.endpoint())
              .setCredentialsProvider(NoCredentialsProvider.create());
      a.insertOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(fast));
      try (AddressesClient addresses = AddressesClient.create(a.build())) {
        Operation done =
            addresses.insertAsync(P, R, Address.newBuilder().setName("ferry-a").build()).get();
        assertThat(done.getStatus()).isEqualTo(Operation.Status.DONE);
        Address made = addresses.get(P, R, "ferry-a");
        assertThat(made.getAddress()).matches("34\\.118\\.\\d+\\.\\d+");
        assertThat(made.getSelfLink())
            .isEqualTo(
                ComputeFake.GOOGLEAPIS + "projects/" + P + "/regions/" + R + "/addresses/ferry-a");
        fake.runningPolls(0);
        assertThatThrownBy(
                () ->
                    addresses
                        .insertAsync(P, R, Address.newBuilder().setName("ferry-a").build())
                        .get())
            .hasCauseInstanceOf(AbortedException.class)
            .rootCause()
            .hasMessageContaining("alreadyExists");
        assertThatThrownBy(() -> addresses.get(P, R, "ferry-b"))
            .isInstanceOf(NotFoundException.class);
        fake.failNextOperation(
            403, "QUOTA_EXCEEDED", "Quota 'STATIC_ADDRESSES' exceeded. Limit: 8.0");
        assertThatThrownBy(
                () ->
                    addresses
                        .insertAsync(P, R, Address.newBuilder().setName("ferry-q").build())
                        .get())
            .hasCauseInstanceOf(com.google.api.gax.rpc.PermissionDeniedException.class);
        assertThatThrownBy(() -> addresses.get(P, R, "ferry-q"))
            .isInstanceOf(NotFoundException.class);
        fake.throttleNext(1);
        assertThatThrownBy(() -> addresses.get(P, R, "x"))
            .isInstanceOf(ApiException.class)
            .rootCause()
            .hasMessageContaining("rateLimitExceeded");
      }
    }
  }

  @Nested
  @DisplayName(
      "bodies checked against the discovery document (revision in compute-v1-discovery.json)")
  class Discovery {

    @Test
    @DisplayName("the committed document is Google's, its revision named")
    void revision() {
      assertThat(fake.discoveryRevision()).matches("20\\d{6}");
    }

    @Test
    @DisplayName("a field the schema does not have: 400 Unknown name")
    void unknownField() throws Exception {
      Answer a =
          call("POST", REGION + "/addresses", "{\"name\":\"ferry-x\",\"adress\":\"1.2.3.4\"}");
      assertThat(a.status()).isEqualTo(400);
      assertThat(a.text()).contains("Unknown name").contains("adress");
    }

    @Test
    @DisplayName("an enum value the schema does not list (ForwardingRule.loadBalancingScheme)")
    void enumValue() throws Exception {
      Answer a =
          call(
              "POST",
              REGION + "/forwardingRules",
              "{\"name\":\"ferry-r\",\"loadBalancingScheme\":\"EXTERNALISH\"}");
      assertThat(a.status()).isEqualTo(400);
      assertThat(a.text()).contains("loadBalancingScheme");
    }

    @Test
    @DisplayName("a name not matching its pattern; a port not matching ports' @pattern")
    void patterns() throws Exception {
      assertThat(call("POST", REGION + "/addresses", "{\"name\":\"Ferry_A\"}").status())
          .isEqualTo(400);
      Answer port =
          call("POST", REGION + "/forwardingRules", "{\"name\":\"ferry-r\",\"ports\":[\"http\"]}");
      assertThat(port.status()).isEqualTo(400);
      assertThat(port.text()).contains("ports[0]");
    }

    @Test
    @DisplayName("an [Output Only] field sent on insert (InstanceGroup.network, selfLink)")
    void outputOnly() throws Exception {
      Answer a =
          call(
              "POST",
              "/compute/v1/projects/" + P + "/zones/europe-west1-b/instanceGroups",
              "{\"name\":\"ferry-g\",\"network\":\"" + NET + "\"}");
      assertThat(a.status()).isEqualTo(400);
      assertThat(a.text()).contains("resource.network").contains("output only");
    }

    @Test
    @DisplayName("a field the method requires left out (Firewall.name on firewalls.insert)")
    void required() throws Exception {
      Answer a = call("POST", GLOBAL + "/firewalls", "{\"network\":\"" + NET + "\"}");
      assertThat(a.status()).isEqualTo(400);
      assertThat(a.text()).contains("Required field 'resource.name'");
    }

    @Test
    @DisplayName("a method the document does not have is a 404; one the fake lacks a loud 501")
    void methods() throws Exception {
      assertThat(call("POST", REGION + "/addresses/x/bogus", "{}").status()).isEqualTo(404);
      assertThat(call("POST", REGION + "/forwardingRules/x/setTarget", "{}").status())
          .isEqualTo(501);
    }
  }

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
  }
}
